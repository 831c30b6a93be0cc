"""The offer catalogue's exchange format (docs/interfaces.md): its fields, and reading one file
and one row.

One offer is one JSON object with the fields in ``FIELDS`` (plus the optional ``EXTRA_FIELDS``);
a file is a JSON array of them or JSON Lines, detected from the first character. This module is
the one place the format's field list is written: the importer, the exporter, the HSDS export,
the API serializer and the admin's editable fields all read it from here.

Row rules:

- Only the format's fields, and the ``REQUIRED_FIELDS`` always.
- Texts: a text field's length limit, and whether it may be empty, are the model's.
- Choices and lists of choices: values of the model's vocabulary; a list is stored in the
  vocabulary's own order, so equal sets compare equal.
- ``owner``/``operator`` name organisations and ``themes`` name themes by slug; ``regions`` and
  ``municipalities`` are official codes. All must exist.
- What real files leave out: an ``operator`` that is missing, ``null`` or empty is the owner
  (it runs its own offer); ``phases`` and ``company_sizes`` that are empty mean all of them, as
  an empty ``industries`` does; a missing ``price`` is ``not_stated`` ("Pris ikke oplyst"),
  never guessed. Left out of a row for an offer that already exists, they keep the stored value
  like every other field (``offers.importing``).
- Dates are ``ÅÅÅÅ-MM-DD`` or ``null``.

Every problem is reported with its line and field (``RowError``), so an editor can fix a whole
file in one round.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errorgroups import group_errors
from offers.db07 import section_of_group
from offers.models import (
    CompanySize,
    Industry,
    Level,
    Municipality,
    Offer,
    Organisation,
    Phase,
    Price,
    Region,
    StateAidBasis,
    Theme,
)

FIELDS: tuple[str, ...] = (
    "external_id",
    "title",
    "summary",
    "description",
    "level",
    "owner",
    "operator",
    "themes",
    "phases",
    "company_sizes",
    "industries",
    "nationwide",
    "regions",
    "municipalities",
    "url",
    "contact_email",
    "contact_phone",
    "price",
    "application_deadline",
    "valid_from",
    "valid_to",
    "status",
    "last_reviewed",
)
EXTRA_FIELDS: tuple[str, ...] = (
    "how_to_apply",
    "expected_result",
    "languages",
    "cannot_combine_with",
    "delivery_time",
    "price_details",
    "industry_groups",
    "state_aid_basis",
    "gber_article",
    "aid_value_dkk",
)
ALL_FIELDS = FIELDS + EXTRA_FIELDS
REQUIRED_FIELDS = frozenset(
    {
        "external_id",
        "title",
        "summary",
        "level",
        "owner",
        "themes",
    }
)
# What a new offer gets for a field its row leaves out, where the model's default is not it.
# (``operator`` is the owner: ``offers.importing``.)
NEW_OFFER_DEFAULTS: dict[str, Any] = {
    "phases": list(Phase.values),
    "company_sizes": list(CompanySize.values),
    "price": Price.NOT_STATED.value,
}
# Fields that name organisations by slug; the model stores their ids.
ORGANISATION_FIELDS = ("owner", "operator")
# Format fields that are not columns of the offer: the key and the two relations.
_NOT_COLUMNS = frozenset({"external_id", "themes", "cannot_combine_with"})
# The offer's columns a row writes (attnames), in the order of the format.
MODEL_FIELDS: tuple[str, ...] = tuple(
    f"{name}_id" if name in ORGANISATION_FIELDS else name
    for name in ALL_FIELDS
    if name not in _NOT_COLUMNS
)

TEXT_FIELDS = (
    "title",
    "summary",
    "description",
    "url",
    "contact_email",
    "contact_phone",
    "how_to_apply",
    "expected_result",
    "delivery_time",
    "price_details",
    "gber_article",
)
_CHOICE_FIELDS: dict[str, type[models.TextChoices]] = {
    "level": Level,
    "price": Price,
    "state_aid_basis": StateAidBasis,
    "status": Offer.Status,
}
_CHOICE_LIST_FIELDS: dict[str, tuple[type[models.TextChoices], bool]] = {
    # choices, whether "all" is stored as every value (the model requires at least one) rather
    # than as the empty list
    "phases": (Phase, True),
    "company_sizes": (CompanySize, True),
    "industries": (Industry, False),
}
DATE_FIELDS = ("application_deadline", "valid_from", "valid_to", "last_reviewed")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-zA-Z]{2})?$")

_url_validator = URLValidator()


@functools.cache
def _choice_values(choices: type[models.TextChoices]) -> tuple[str, ...]:
    # Django computes ``Choices.values`` anew on every access; 10,000 rows ask often.
    return tuple(choices.values)


@functools.cache
def text_limits(name: str) -> tuple[int | None, bool]:
    """A text field's maximum length (None = unlimited) and whether it may be empty."""
    model_field = Offer._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    return model_field.max_length, model_field.blank


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in an import file: ``linje 12, felt owner: ukendt organisation '...'``."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        if self.field:
            return _("linje %(line)d, felt %(field)s: %(message)s") % {
                "line": self.line,
                "field": self.field,
                "message": self.message,
            }
        return _("linje %(line)d: %(message)s") % {"line": self.line, "message": self.message}


def report_lines(errors: list[RowError]) -> list[str]:
    """The errors kind by kind: the first lines of each, then how many more lines had it
    ("felt price: 4.997 linjer mere som linje 2"), so a report of a big file fits a screen."""
    groups = group_errors(
        errors,
        column=lambda error: error.field,
        message=lambda error: error.message,
        line=lambda error: error.line,
    )
    lines: list[str] = []
    for group in groups.ordered(lambda error: error.line):
        lines.extend(str(error) for error in group.examples)
        if group.more:
            count = number_format(group.more, force_grouping=True)
            first = group.examples[0].line
            if group.column:
                lines.append(
                    ngettext(
                        "felt %(field)s: %(count)s linje mere som linje %(line)d",
                        "felt %(field)s: %(count)s linjer mere som linje %(line)d",
                        group.more,
                    )
                    % {"field": group.column, "count": count, "line": first}
                )
            else:
                lines.append(
                    ngettext(
                        "%(count)s linje mere som linje %(line)d",
                        "%(count)s linjer mere som linje %(line)d",
                        group.more,
                    )
                    % {"count": count, "line": first}
                )
    return lines


# --- Reading a file ----------------------------------------------------------------------------


def parse_offers(text: str) -> tuple[list[tuple[int, Any]], list[RowError]]:
    """Split a JSON array or JSON Lines text into (line, value) pairs and syntax errors."""
    text = text.removeprefix("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        return [], [RowError(1, "", _("Filen indeholder ingen tilbud."))]
    if stripped[0] == "[":
        return _parse_array(text)
    return _parse_lines(text)


def _parse_lines(text: str) -> tuple[list[tuple[int, Any]], list[RowError]]:
    rows: list[tuple[int, Any]] = []
    errors: list[RowError] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            errors.append(
                RowError(number, "", _("ugyldig JSON (%(error)s)") % {"error": error.msg})
            )
        except RecursionError:
            errors.append(RowError(number, "", too_deep_message()))
    return rows, errors


def too_deep_message() -> str:
    # Python's JSON decoder gives up on deep nesting with a RecursionError; no offer nests so.
    return _("ugyldig JSON (lister eller objekter er indlejret for dybt)")


def _parse_array(text: str) -> tuple[list[tuple[int, Any]], list[RowError]]:
    newlines = [i for i, char in enumerate(text) if char == "\n"]

    def line_of(position: int) -> int:
        return bisect.bisect_left(newlines, position) + 1

    decoder = json.JSONDecoder()
    rows: list[tuple[int, Any]] = []
    position = _skip_space(text, text.index("[") + 1)
    if position < len(text) and text[position] == "]":
        return [], [RowError(line_of(position), "", _("Filen indeholder ingen tilbud."))]
    while True:
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            return rows, [
                RowError(error.lineno, "", _("ugyldig JSON (%(error)s)") % {"error": error.msg})
            ]
        except RecursionError:
            return rows, [RowError(line_of(position), "", too_deep_message())]
        rows.append((line_of(position), value))
        position = _skip_space(text, end)
        if position < len(text) and text[position] == ",":
            position = _skip_space(text, position + 1)
            continue
        if position < len(text) and text[position] == "]":
            rest = _skip_space(text, position + 1)
            if rest < len(text):
                return rows, [RowError(line_of(rest), "", _("tekst efter listens afslutning"))]
            return rows, []
        return rows, [
            RowError(
                line_of(min(position, len(text) - 1)),
                "",
                _("ugyldig JSON (forventede ',' eller ']')"),
            )
        ]


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


# --- Checking one row --------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationRef:
    id: int
    kind: str


@dataclass
class Reference:
    """The lookups every row is checked against, loaded once per import."""

    organisations: dict[str, OrganisationRef]
    themes: dict[str, int]
    regions: frozenset[int]
    municipalities: frozenset[int]

    @classmethod
    def load(cls) -> Reference:
        return cls(
            organisations={
                slug: OrganisationRef(pk, kind)
                for pk, slug, kind in Organisation.objects.values_list("pk", "slug", "kind")
            },
            themes=dict(Theme.objects.values_list("slug", "pk")),
            regions=frozenset(Region.objects.values_list("code", flat=True)),
            municipalities=frozenset(Municipality.objects.values_list("code", flat=True)),
        )


@dataclass
class Row:
    """One valid row, ready to be merged with the stored offer."""

    line: int
    external_id: str
    present: frozenset[str]
    values: dict[str, Any]  # model attnames → value, only for fields present in the row
    theme_ids: list[int] | None
    combine: list[str] | None


@dataclass
class _Checked:
    """What checking one row has found so far: the values that passed, and the problems."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    theme_ids: list[int] | None = None
    combine: list[str] | None = None

    def error(self, name: str, message: str) -> None:
        self.errors.append(RowError(self.line, name, message))


_Check = Callable[[Mapping[str, Any], _Checked, Reference], None]


def validate_row(line: int, data: Any, reference: Reference) -> tuple[Row | None, list[RowError]]:
    """Check one decoded row; return it ready to write, or None and every problem found."""
    if not isinstance(data, dict):
        return None, [RowError(line, "", _("rækken skal være et JSON-objekt"))]
    checked = _Checked(line)
    for check in _CHECKS:
        check(data, checked, reference)
    external_id = data.get("external_id")
    if checked.errors or not isinstance(external_id, str):
        return None, checked.errors
    return (
        Row(
            line=line,
            external_id=external_id,
            present=frozenset(data),
            values=checked.values,
            theme_ids=checked.theme_ids,
            combine=checked.combine,
        ),
        [],
    )


def _check_keys(data: Mapping[str, Any], row: _Checked, reference: Reference) -> None:
    for key in data:
        if key not in ALL_FIELDS:
            row.error(str(key), _("ukendt felt"))
    for key in sorted(REQUIRED_FIELDS - data.keys(), key=ALL_FIELDS.index):
        row.error(key, _("mangler"))


def _check_external_id(data: Mapping[str, Any], row: _Checked, reference: Reference) -> None:
    if "external_id" not in data:
        return
    external_id = data["external_id"]
    if not isinstance(external_id, str) or not external_id:
        row.error("external_id", _("skal være en tekst"))
        return
    max_length, _blank = text_limits("external_id")
    if (max_length is not None and len(external_id) > max_length) or not _SLUG_RE.match(
        external_id
    ):
        row.error(
            "external_id",
            # The translated message spells the limit out; it must follow the model's.
            _(
                "ugyldig ekstern id '%(value)s' (højst 100 tegn: bogstaverne a–z, tal, "
                "bindestreg og understregning)"
            )
            % {"value": external_id[:120]},
        )


def _check_texts(data: Mapping[str, Any], row: _Checked, reference: Reference) -> None:
    for name in TEXT_FIELDS:
        if name not in data:
            continue
        max_length, blank = text_limits(name)
        value = data[name]
        if value is None and blank:
            value = ""
        if not isinstance(value, str):
            row.error(name, _("skal være en tekst"))
        elif not blank and not value.strip():
            row.error(name, _("må ikke være tom"))
        elif max_length is not None and len(value) > max_length:
            row.error(
                name,
                _("højst %(max)d tegn (har %(length)d)")
                % {"max": max_length, "length": len(value)},
            )
        elif value and name == "url" and not _is_valid(_url_validator, value):
            row.error(name, _("ugyldigt link '%(value)s'") % {"value": value[:200]})
        elif value and name == "contact_email" and not _is_valid(validate_email, value):
            row.error(name, _("ugyldig e-mailadresse '%(value)s'") % {"value": value[:200]})
        else:
            row.values[name] = value


def _is_valid(validator: Callable[[str], None], value: str) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True


def _check_choices(data: Mapping[str, Any], row: _Checked, reference: Reference) -> None:
    for name, choices in _CHOICE_FIELDS.items():
        if name not in data:
            continue
        value = data[name]
        if value not in _choice_values(choices):
            row.error(name, _invalid_choice(value, choices))
        else:
            row.values[name] = value


def _check_organisations(data: Mapping[str, Any], row: _Checked, reference: Reference) -> None:
    for name in ORGANISATION_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "operator" and value in (None, ""):
            owner = data.get("owner")
            if isinstance(owner, str) and owner in reference.organisations:
                row.values["operator_id"] = reference.organisations[owner].id
            continue
        if not isinstance(value, str):
            row.error(name, _("skal være en organisations kortnavn (tekst)"))
        elif value not in reference.organisations:
            row.error(name, _("ukendt organisation '%(slug)s'") % {"slug": value[:120]})
        else:
            row.values[f"{name}_id"] = reference.organisations[value].id


def _check_themes(data: Mapping[str, Any], row: _Checked, reference: Reference) -> None:
    if "themes" not in data:
        return
    slugs = _string_list(data["themes"], "themes", row)
    if slugs is None:
        return
    unknown = [slug for slug in slugs if slug not in reference.themes]
    for slug in unknown:
        row.error("themes", _("ukendt tema '%(slug)s'") % {"slug": slug[:120]})
    if not slugs:
        row.error("themes", _("angiv mindst ét tema"))
    elif not unknown:
        row.theme_ids = sorted({reference.themes[slug] for slug in slugs})


def _check_choice_lists(data: Mapping[str, Any], row: _Checked, reference: Reference) -> None:
    for name, (choices, all_as_every_value) in _CHOICE_LIST_FIELDS.items():
        if name not in data:
            continue
        value = data[name]
        items = _string_list([] if value is None else value, name, row)
        if items is None:
            continue
        allowed = _choice_values(choices)
        bad = [item for item in items if item not in allowed]
        for item in bad:
            row.error(name, _invalid_choice(item, choices))
        if not items and all_as_every_value:
            row.values[name] = list(allowed)
        elif not bad:
            # Stored in the vocabulary's own order, so equal sets compare equal.
            row.values[name] = [value for value in allowed if value in items]


def _check_geography(data: Mapping[str, Any], row: _Checked, reference: Reference) -> None:
    if "nationwide" in data:
        if isinstance(data["nationwide"], bool):
            row.values["nationwide"] = data["nationwide"]
        else:
            row.error("nationwide", _("skal være true eller false"))
    for name, known in (
        ("regions", reference.regions),
        ("municipalities", reference.municipalities),
    ):
        if name not in data:
            continue
        codes = _code_list(data[name], name, row)
        if codes is None:
            continue
        unknown_codes = [code for code in codes if code not in known]
        for code in unknown_codes:
            message = (
                _("ukendt regionskode %(code)s")
                if name == "regions"
                else _("ukendt kommunekode %(code)s")
            )
            row.error(name, message % {"code": code})
        if not unknown_codes:
            row.values[name] = sorted(set(codes))


def _check_dates(data: Mapping[str, Any], row: _Checked, reference: Reference) -> None:
    for name in DATE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if value is None:
            row.values[name] = None
            continue
        parsed = _parse_date(value)
        if parsed is None:
            row.error(
                name,
                _("skal være en dato på formen ÅÅÅÅ-MM-DD, ikke %(value)s")
                % {"value": json.dumps(value, ensure_ascii=False)[:60]},
            )
        else:
            row.values[name] = parsed


def _check_languages(data: Mapping[str, Any], row: _Checked, reference: Reference) -> None:
    if "languages" not in data:
        return
    languages = _string_list(data["languages"], "languages", row)
    if languages is None:
        return
    bad_languages = [lang for lang in languages if not _LANGUAGE_RE.match(lang)]
    for lang in bad_languages:
        row.error("languages", _("ugyldig sprogkode '%(code)s'") % {"code": lang[:20]})
    if not bad_languages:
        row.values["languages"] = list(dict.fromkeys(languages))


def _check_cannot_combine_with(
    data: Mapping[str, Any], row: _Checked, reference: Reference
) -> None:
    # Whether the offers named exist is checked against the whole file and the catalogue.
    if "cannot_combine_with" not in data:
        return
    others = _string_list(data["cannot_combine_with"], "cannot_combine_with", row)
    if others is None:
        return
    external_id = data.get("external_id")
    if isinstance(external_id, str) and external_id in others:
        row.error("cannot_combine_with", _("et tilbud kan ikke udelukke sig selv"))
    else:
        row.combine = sorted(set(others))


def _check_industry_groups(data: Mapping[str, Any], row: _Checked, reference: Reference) -> None:
    if "industry_groups" not in data:
        return
    groups = _string_list(data["industry_groups"], "industry_groups", row)
    if groups is None:
        return
    problems = industry_groups_problems(groups, row.values.get("industries"))
    for message in problems:
        row.error("industry_groups", message)
    if not problems:
        row.values["industry_groups"] = sorted(set(groups))


def industry_groups_problems(groups: list[str], industries: list[str] | None) -> list[str]:
    """What is wrong with an offer's DB07 main groups: a code that is none, or a group outside
    the sections the offer is restricted to (``industries``; empty or None: all sections)."""
    problems: list[str] = []
    for group in groups:
        section = section_of_group(group)
        if section is None:
            problems.append(
                _("„%(value)s“ er ikke en DB07-hovedgruppe (to cifre, f.eks. 31)")
                % {"value": group[:10]}
            )
        elif industries and section not in industries:
            problems.append(
                _("gruppe %(group)s hører til branche %(section)s, som tilbuddet ikke er for")
                % {"group": group, "section": section}
            )
    return problems


def _check_state_aid(data: Mapping[str, Any], row: _Checked, reference: Reference) -> None:
    """The aid value is whole kroner or null. (That a de minimis offer states its aid value and
    a GBER offer its article is a rule of the offer: ``offers.services.offer_rule_violations``.)"""
    if "aid_value_dkk" not in data:
        return
    value = data["aid_value_dkk"]
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        row.values["aid_value_dkk"] = value
    else:
        row.error("aid_value_dkk", _("skal være et helt antal kroner (0 eller mere) eller null"))


_CHECKS: tuple[_Check, ...] = (
    _check_keys,
    _check_external_id,
    _check_texts,
    _check_choices,
    _check_organisations,
    _check_themes,
    _check_choice_lists,
    _check_geography,
    _check_dates,
    _check_languages,
    _check_cannot_combine_with,
    _check_industry_groups,
    _check_state_aid,
)


def _invalid_choice(value: Any, choices: type[models.TextChoices]) -> str:
    return _("ugyldig værdi %(value)s (tilladt: %(allowed)s)") % {
        "value": json.dumps(value, ensure_ascii=False)[:60],
        "allowed": ", ".join(_choice_values(choices)),
    }


def _string_list(value: Any, name: str, row: _Checked) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        row.error(name, _("skal være en liste af tekster"))
        return None
    return value


def _code_list(value: Any, name: str, row: _Checked) -> list[int] | None:
    if not isinstance(value, list):
        row.error(name, _("skal være en liste af koder"))
        return None
    codes: list[int] = []
    for item in value:
        if isinstance(item, bool):
            row.error(name, _("skal være en liste af koder"))
            return None
        if isinstance(item, int):
            codes.append(item)
        elif isinstance(item, str) and item.isdigit():
            codes.append(int(item))
        else:
            row.error(name, _("skal være en liste af koder"))
            return None
    return codes


def _parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None
