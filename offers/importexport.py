"""Import and export of the offer catalogue in the stable format of DESIGN.md.

One offer is one JSON object with the fields in ``FIELDS`` (plus the optional ``EXTRA_FIELDS``);
a file is a JSON array of them or JSON Lines, detected from the first character.

Import rules:

- Upsert by ``external_id``. A field left out of a row keeps the stored value of an existing offer
  (and takes the model default for a new one), so a source system that knows nothing of, say,
  ``how_to_apply`` does not wipe what editors wrote here. The required fields must always be
  there.
- All or nothing: every row is checked before anything is written, every problem is reported
  with its line (for a JSON array: the line where the object starts) and field, and the writes
  run in one transaction.
- ``cannot_combine_with`` is resolved after all rows, so it may name offers later in the file.
  The relation is symmetrical: a pair named on either side is stored, and a row that carries the
  field replaces that offer's pairs.
- The status is taken from the file as given (the file is the owning organisation's own
  register); a change of status is stamped with who and when like in the admin.
- Rows that change nothing are not written at all, so importing the same file twice is cheap and
  leaves no history noise.

Bulk operations throughout: a fixed number of queries whatever the size of the file.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import functools
import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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
    Theme,
)
from offers.search import refresh_search_vectors
from offers.services import CONSTRAINT_FIELDS, offer_rule_violations

if TYPE_CHECKING:
    from accounts.models import User

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
)
ALL_FIELDS = FIELDS + EXTRA_FIELDS
REQUIRED_FIELDS = frozenset(
    {
        "external_id",
        "title",
        "summary",
        "level",
        "owner",
        "operator",
        "themes",
        "phases",
        "company_sizes",
        "price",
    }
)

# Text fields: maximum length (None = unlimited) and whether an empty value is allowed.
_TEXT_FIELDS: dict[str, tuple[int | None, bool]] = {
    "title": (200, False),
    "summary": (500, False),
    "description": (None, True),
    "url": (500, True),
    "contact_email": (254, True),
    "contact_phone": (30, True),
    "how_to_apply": (None, True),
    "expected_result": (None, True),
    "delivery_time": (100, True),
}
_CHOICE_FIELDS: dict[str, type[models.TextChoices]] = {
    "level": Level,
    "price": Price,
    "status": Offer.Status,
}
_CHOICE_LIST_FIELDS: dict[str, tuple[type[models.TextChoices], bool]] = {
    # choices, may be empty
    "phases": (Phase, False),
    "company_sizes": (CompanySize, False),
    "industries": (Industry, True),
}
_DATE_FIELDS = ("application_deadline", "valid_from", "valid_to", "last_reviewed")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-zA-Z]{2})?$")

# Model fields an import writes (attnames), in the order of the format.
_MODEL_FIELDS: tuple[str, ...] = (
    "title",
    "summary",
    "description",
    "level",
    "owner_id",
    "operator_id",
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
    "how_to_apply",
    "expected_result",
    "languages",
    "delivery_time",
)
_STAMP_FIELDS = ("published_at", "published_by_id", "archived_at", "archived_by_id")
_UPSERT_FIELDS = [name.removesuffix("_id") for name in (*_MODEL_FIELDS, *_STAMP_FIELDS)] + [
    "updated_at"
]

_url_validator = URLValidator()
# New rows after which the import refreshes the planner statistics of the offer tables.
_ANALYZE_AFTER = 1000


@functools.cache
def _choice_values(choices: type[models.TextChoices]) -> tuple[str, ...]:
    # Django computes ``Choices.values`` anew on every access; 10,000 rows ask often.
    return tuple(choices.values)


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


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


class ImportFailed(Exception):
    """Raised inside the import transaction to roll it back; carries the row errors."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


# --- Parsing -----------------------------------------------------------------------------------


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
    return rows, errors


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


# --- Validation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _OrganisationRef:
    id: int
    kind: str


@dataclass
class Reference:
    """The lookups every row is checked against, loaded once per import."""

    organisations: dict[str, _OrganisationRef]
    themes: dict[str, int]
    regions: frozenset[int]
    municipalities: frozenset[int]

    @classmethod
    def load(cls) -> Reference:
        return cls(
            organisations={
                slug: _OrganisationRef(pk, kind)
                for pk, slug, kind in Organisation.objects.values_list("pk", "slug", "kind")
            },
            themes=dict(Theme.objects.values_list("slug", "pk")),
            regions=frozenset(Region.objects.values_list("code", flat=True)),
            municipalities=frozenset(Municipality.objects.values_list("code", flat=True)),
        )


@dataclass
class _Row:
    line: int
    external_id: str
    present: frozenset[str]
    values: dict[str, Any]  # model attnames → value, only for fields present in the row
    theme_ids: list[int] | None
    combine: list[str] | None


def _validate_row(line: int, data: Any, reference: Reference) -> tuple[_Row | None, list[RowError]]:
    if not isinstance(data, dict):
        return None, [RowError(line, "", _("rækken skal være et JSON-objekt"))]
    errors: list[RowError] = []

    def error(name: str, message: str) -> None:
        errors.append(RowError(line, name, message))

    for key in data:
        if key not in ALL_FIELDS:
            error(str(key), _("ukendt felt"))
    for key in sorted(REQUIRED_FIELDS - data.keys(), key=ALL_FIELDS.index):
        error(key, _("mangler"))

    values: dict[str, Any] = {}
    theme_ids: list[int] | None = None
    combine: list[str] | None = None

    external_id = data.get("external_id")
    if "external_id" in data:
        if not isinstance(external_id, str) or not external_id:
            error("external_id", _("skal være en tekst"))
        elif len(external_id) > 100 or not _SLUG_RE.match(external_id):
            error(
                "external_id",
                _(
                    "ugyldig ekstern id '%(value)s' (højst 100 tegn: bogstaverne a–z, tal, "
                    "bindestreg og understregning)"
                )
                % {"value": external_id[:120]},
            )

    for name, (max_length, blank) in _TEXT_FIELDS.items():
        if name not in data:
            continue
        value = data[name]
        if value is None and blank:
            value = ""
        if not isinstance(value, str):
            error(name, _("skal være en tekst"))
            continue
        if not blank and not value.strip():
            error(name, _("må ikke være tom"))
            continue
        if max_length is not None and len(value) > max_length:
            error(
                name,
                _("højst %(max)d tegn (har %(length)d)")
                % {
                    "max": max_length,
                    "length": len(value),
                },
            )
            continue
        if value and name == "url":
            try:
                _url_validator(value)
            except ValidationError:
                error(name, _("ugyldigt link '%(value)s'") % {"value": value[:200]})
                continue
        if value and name == "contact_email":
            try:
                validate_email(value)
            except ValidationError:
                error(name, _("ugyldig e-mailadresse '%(value)s'") % {"value": value[:200]})
                continue
        values[name] = value

    for name, choices in _CHOICE_FIELDS.items():
        if name not in data:
            continue
        value = data[name]
        if value not in _choice_values(choices):
            error(name, _invalid_choice(value, choices))
        else:
            values[name] = value

    for name in ("owner", "operator"):
        if name not in data:
            continue
        value = data[name]
        if not isinstance(value, str):
            error(name, _("skal være en organisations kortnavn (tekst)"))
        elif value not in reference.organisations:
            error(name, _("ukendt organisation '%(slug)s'") % {"slug": value[:120]})
        else:
            values[f"{name}_id"] = reference.organisations[value].id

    if "themes" in data:
        slugs = _string_list(data["themes"], "themes", error)
        if slugs is not None:
            unknown = [slug for slug in slugs if slug not in reference.themes]
            for slug in unknown:
                error("themes", _("ukendt tema '%(slug)s'") % {"slug": slug[:120]})
            if not slugs:
                error("themes", _("angiv mindst ét tema"))
            elif not unknown:
                theme_ids = sorted({reference.themes[slug] for slug in slugs})

    for name, (choices, may_be_empty) in _CHOICE_LIST_FIELDS.items():
        if name not in data:
            continue
        items = _string_list(data[name], name, error)
        if items is None:
            continue
        allowed = _choice_values(choices)
        bad = [item for item in items if item not in allowed]
        for item in bad:
            error(name, _invalid_choice(item, choices))
        if not items and not may_be_empty:
            error(name, _("angiv mindst én værdi"))
        elif not bad:
            # Stored in the vocabulary's own order, so equal sets compare equal.
            values[name] = [value for value in allowed if value in items]

    if "nationwide" in data:
        if isinstance(data["nationwide"], bool):
            values["nationwide"] = data["nationwide"]
        else:
            error("nationwide", _("skal være true eller false"))

    for name, known in (
        ("regions", reference.regions),
        ("municipalities", reference.municipalities),
    ):
        if name not in data:
            continue
        codes = _code_list(data[name], name, error)
        if codes is None:
            continue
        unknown_codes = [code for code in codes if code not in known]
        for code in unknown_codes:
            message = (
                _("ukendt regionskode %(code)s")
                if name == "regions"
                else _("ukendt kommunekode %(code)s")
            )
            error(name, message % {"code": code})
        if not unknown_codes:
            values[name] = sorted(set(codes))

    for name in _DATE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if value is None:
            values[name] = None
            continue
        parsed = _parse_date(value)
        if parsed is None:
            error(
                name,
                _("skal være en dato på formen ÅÅÅÅ-MM-DD, ikke %(value)s")
                % {"value": json.dumps(value, ensure_ascii=False)[:60]},
            )
        else:
            values[name] = parsed

    if "languages" in data:
        languages = _string_list(data["languages"], "languages", error)
        if languages is not None:
            bad_languages = [lang for lang in languages if not _LANGUAGE_RE.match(lang)]
            for lang in bad_languages:
                error("languages", _("ugyldig sprogkode '%(code)s'") % {"code": lang[:20]})
            if not bad_languages:
                values["languages"] = list(dict.fromkeys(languages))

    if "cannot_combine_with" in data:
        others = _string_list(data["cannot_combine_with"], "cannot_combine_with", error)
        if others is not None:
            if isinstance(external_id, str) and external_id in others:
                error("cannot_combine_with", _("et tilbud kan ikke udelukke sig selv"))
            else:
                combine = sorted(set(others))

    if errors or not isinstance(external_id, str):
        return None, errors
    return (
        _Row(
            line=line,
            external_id=external_id,
            present=frozenset(data),
            values=values,
            theme_ids=theme_ids,
            combine=combine,
        ),
        [],
    )


def _invalid_choice(value: Any, choices: type[models.TextChoices]) -> str:
    return _("ugyldig værdi %(value)s (tilladt: %(allowed)s)") % {
        "value": json.dumps(value, ensure_ascii=False)[:60],
        "allowed": ", ".join(_choice_values(choices)),
    }


def _string_list(value: Any, name: str, error: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        error(name, _("skal være en liste af tekster"))
        return None
    return value


def _code_list(value: Any, name: str, error: Any) -> list[int] | None:
    if not isinstance(value, list):
        error(name, _("skal være en liste af koder"))
        return None
    codes: list[int] = []
    for item in value:
        if isinstance(item, bool):
            error(name, _("skal være en liste af koder"))
            return None
        if isinstance(item, int):
            codes.append(item)
        elif isinstance(item, str) and item.isdigit():
            codes.append(int(item))
        else:
            error(name, _("skal være en liste af koder"))
            return None
    return codes


def _parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


# --- Import ------------------------------------------------------------------------------------


@dataclass
class _Existing:
    values: dict[str, Any]  # every field the history tracks, by attname
    theme_ids: list[int]
    combine: list[str]


def import_offers(
    *, source: str, user: User | Any | None = None, dry_run: bool = False
) -> ImportResult:
    """Check and (unless ``dry_run``) write the offers in ``source`` in one transaction.

    With a ``user`` who is not a superuser, every row must be owned or operated by the user's
    organisation, and so must the stored offer it would change. ``user=None`` is the command
    line: the whole catalogue.
    """
    result = ImportResult(dry_run=dry_run)
    parsed, syntax_errors = parse_offers(source)
    reference = Reference.load()
    errors = list(syntax_errors)
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for line, data in parsed:
        row, row_errors = _validate_row(line, data, reference)
        errors.extend(row_errors)
        if row is None:
            continue
        if row.external_id in seen:
            errors.append(
                RowError(
                    line,
                    "external_id",
                    _("'%(id)s' står også i linje %(other)d")
                    % {"id": row.external_id, "other": seen[row.external_id]},
                )
            )
            continue
        seen[row.external_id] = line
        rows.append(row)
    try:
        with transaction.atomic():
            _import_rows(rows, errors, reference=reference, user=user, result=result)
            if errors:
                raise ImportFailed(errors)
            if dry_run:
                # The writes ran, so the database checked them too; now undo them.
                transaction.set_rollback(True)
    except ImportFailed as failure:
        result.errors = sorted(set(failure.errors))
        result.created, result.updated, result.unchanged = [], [], []
    except IntegrityError as error:
        result.errors = [_integrity_error(error)]
        result.created, result.updated, result.unchanged = [], [], []
    return result


def _integrity_error(error: IntegrityError) -> RowError:
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) or ""
    return RowError(
        0,
        CONSTRAINT_FIELDS.get(constraint, ""),
        _("databasen afviste importen (%(constraint)s); intet er gemt")
        % {"constraint": constraint or error.__class__.__name__},
    )


def _load_existing(external_ids: Sequence[str]) -> dict[str, _Existing]:
    # The tracked fields are exactly the stored facts; derived search columns are left to
    # refresh_search_vectors.
    attnames = [f.attname for f in Offer.history.model.tracked_fields]
    existing: dict[str, _Existing] = {}
    for offset in range(0, len(external_ids), 5000):
        chunk = external_ids[offset : offset + 5000]
        for values in Offer.objects.filter(external_id__in=chunk).values(*attnames):
            existing[values["external_id"]] = _Existing(values, [], [])
    by_id = {item.values["id"]: item for item in existing.values()}
    if not by_id:
        return existing
    ids = list(by_id)
    themes_through = Offer.themes.through
    for offer_id, theme_id in themes_through.objects.filter(offer_id__in=ids).values_list(
        "offer_id", "theme_id"
    ):
        by_id[offer_id].theme_ids.append(theme_id)
    combine_through = Offer.cannot_combine_with.through
    for offer_id, other in combine_through.objects.filter(from_offer_id__in=ids).values_list(
        "from_offer_id", "to_offer__external_id"
    ):
        by_id[offer_id].combine.append(other)
    for item in existing.values():
        item.theme_ids.sort()
        item.combine.sort()
    return existing


def _defaults() -> dict[str, Any]:
    return {
        "description": "",
        "expected_result": "",
        "how_to_apply": "",
        "delivery_time": "",
        "languages": [],
        "industries": [],
        "nationwide": True,
        "regions": [],
        "municipalities": [],
        "url": "",
        "contact_email": "",
        "contact_phone": "",
        "application_deadline": None,
        "valid_from": None,
        "valid_to": None,
        "status": Offer.Status.DRAFT,
        "last_reviewed": None,
    }


def _import_rows(
    rows: list[_Row],
    errors: list[RowError],
    *,
    reference: Reference,
    user: User | Any | None,
    result: ImportResult,
) -> None:
    existing = _load_existing([row.external_id for row in rows])
    kinds = {ref.id: ref.kind for ref in reference.organisations.values()}
    scoped_to = None
    if user is not None and not user.is_superuser:
        scoped_to = user.organisation_id if user.is_active else None

    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        before = existing.get(row.external_id)
        values: dict[str, Any] = dict(before.values) if before else {"external_id": row.external_id}
        if before is None:
            values.update(_defaults())
        values.update(row.values)
        if user is not None and not user.is_superuser:
            if before is not None and scoped_to not in (
                before.values["owner_id"],
                before.values["operator_id"],
            ):
                errors.append(
                    RowError(
                        row.line,
                        "external_id",
                        _("tilbuddet '%(id)s' tilhører en anden organisation")
                        % {"id": row.external_id},
                    )
                )
                continue
            if scoped_to is None or scoped_to not in (values["owner_id"], values["operator_id"]):
                errors.append(
                    RowError(
                        row.line,
                        "owner",
                        _("din organisation hverken ejer eller driver tilbuddet"),
                    )
                )
                continue
        violations = offer_rule_violations(values=values, owner_kind=kinds.get(values["owner_id"]))
        for name, messages in violations.items():
            errors.extend(RowError(row.line, name, message) for message in messages)
        merged[row.external_id] = values

    # cannot_combine_with may name offers in the file or already in the catalogue.
    wanted = {other for row in rows if row.combine for other in row.combine}
    missing = wanted - _ids_of(rows) - existing.keys()
    if missing:
        missing -= set(
            Offer.objects.filter(external_id__in=missing).values_list("external_id", flat=True)
        )
    for row in rows:
        for other in row.combine or []:
            if other in missing:
                errors.append(
                    RowError(
                        row.line,
                        "cannot_combine_with",
                        _("ukendt tilbud '%(id)s'") % {"id": other[:120]},
                    )
                )
    if errors:
        return

    pairs = _combine_pairs(rows, existing)
    now = timezone.now()
    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    actor_id = actor.pk if actor is not None else None
    creates: list[Offer] = []
    updates: list[Offer] = []
    theme_changes: dict[str, list[int]] = {}
    for row in rows:
        values = merged[row.external_id]
        before = existing.get(row.external_id)
        previous_status = before.values["status"] if before else None
        if values["status"] != previous_status:
            if values["status"] == Offer.Status.PUBLISHED:
                values["published_at"], values["published_by_id"] = now, actor_id
                values["archived_at"], values["archived_by_id"] = None, None
            elif values["status"] == Offer.Status.ARCHIVED:
                values["archived_at"], values["archived_by_id"] = now, actor_id
            else:
                values["archived_at"], values["archived_by_id"] = None, None
        theme_ids = (
            row.theme_ids if row.theme_ids is not None else (before.theme_ids if before else [])
        )
        combine_changed = before is not None and sorted(pairs.get(row.external_id, ())) != (
            before.combine
        )
        if before is None:
            result.created.append(row.external_id)
            creates.append(Offer(**values))
            theme_changes[row.external_id] = theme_ids
            continue
        fields_changed = any(
            values[name] != before.values[name] for name in (*_MODEL_FIELDS, *_STAMP_FIELDS)
        )
        themes_changed = theme_ids != before.theme_ids
        if not (fields_changed or themes_changed or combine_changed):
            result.unchanged.append(row.external_id)
            continue
        result.updated.append(row.external_id)
        if themes_changed:
            theme_changes[row.external_id] = theme_ids
        if fields_changed or themes_changed:
            # A theme change is a change of the offer: a new updated_at and a history entry.
            values["updated_at"] = now
            updates.append(Offer(**values))

    _write(
        creates=creates,
        updates=updates,
        theme_changes=theme_changes,
        pairs=pairs,
        combine_rows=[row.external_id for row in rows if row.combine is not None],
        existing=existing,
        actor=actor,
        now=now,
        result=result,
    )


def _ids_of(rows: Iterable[_Row]) -> set[str]:
    return {row.external_id for row in rows}


def _combine_pairs(rows: list[_Row], existing: Mapping[str, _Existing]) -> dict[str, set[str]]:
    """Each offer in the file → the offers it cannot be combined with after the import."""
    replaced = {row.external_id for row in rows if row.combine is not None}
    partners: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.external_id not in replaced:
            before = existing.get(row.external_id)
            # Kept pairs, except those a replacing row in this file dropped.
            for other in before.combine if before else []:
                if other not in replaced:
                    partners[row.external_id].add(other)
    for row in rows:
        for other in row.combine or []:
            partners[row.external_id].add(other)
            partners[other].add(row.external_id)
    return partners


def _write(
    *,
    creates: list[Offer],
    updates: list[Offer],
    theme_changes: dict[str, list[int]],
    pairs: dict[str, set[str]],
    combine_rows: list[str],
    existing: Mapping[str, _Existing],
    actor: Any,
    now: dt.datetime,
    result: ImportResult,
) -> None:
    with connection.cursor() as cursor:
        written = _upsert_offers(cursor, creates + updates, now=now)
        for offer in creates + updates:
            offer.pk = written[offer.external_id]
        if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            _copy_history(cursor, creates, "+", actor=actor, now=now)
            _copy_history(cursor, updates, "~", actor=actor, now=now)

    ids = {offer.external_id: offer.pk for offer in creates}
    ids.update({key: item.values["id"] for key, item in existing.items()})
    touched = set(result.created) | set(result.updated)

    if theme_changes:
        through = Offer.themes.through
        changed_ids = [ids[key] for key in theme_changes]
        through.objects.filter(offer_id__in=changed_ids).delete()
        with connection.cursor() as cursor:
            _copy(
                cursor,
                through._meta.db_table,
                ["offer_id", "theme_id"],
                (
                    (ids[key], theme_id)
                    for key, theme_ids in theme_changes.items()
                    for theme_id in theme_ids
                ),
            )

    if combine_rows:
        pairs_through = Offer.cannot_combine_with.through
        others = {other for key in combine_rows for other in pairs.get(key, ())}
        others.update(
            other for key in combine_rows if key in existing for other in existing[key].combine
        )
        unknown = others - ids.keys()
        if unknown:
            ids.update(
                dict(Offer.objects.filter(external_id__in=unknown).values_list("external_id", "pk"))
            )
        replaced_ids = [ids[key] for key in combine_rows]
        pairs_through.objects.filter(
            models.Q(from_offer_id__in=replaced_ids) | models.Q(to_offer_id__in=replaced_ids)
        ).delete()
        edges = {(ids[key], ids[other]) for key in combine_rows for other in pairs.get(key, ())}
        edges |= {(b, a) for a, b in edges}
        with connection.cursor() as cursor:
            _copy(
                cursor,
                pairs_through._meta.db_table,
                ["from_offer_id", "to_offer_id"],
                sorted(edges),
            )

    if touched and not result.dry_run:
        refresh_search_vectors(offer_ids=sorted(ids[key] for key in touched))
    if len(creates) >= _ANALYZE_AFTER and not result.dry_run:
        # Planner statistics that still describe a small catalogue pick nested loops over
        # thousands of rows (seen: 3.6 s instead of 0.1 s for the open catalogue).
        with connection.cursor() as cursor:
            for model in (Offer, Offer.themes.through):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# COPY instead of bulk_create: for 10,000 rows Django's INSERT compilation and psycopg's
# parameter splitting cost more than the database's own work.


def _copy(cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _column(field: Any) -> str:
    return str(field.column)


def _upsert_offers(cursor: Any, offers: list[Offer], *, now: dt.datetime) -> dict[str, int]:
    """Insert or update ``offers`` by external_id; return their ids by external_id."""
    if not offers:
        return {}
    quote = connection.ops.quote_name
    fields = [f for f in Offer._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(quote(_column(f)) for f in fields)
    updates = ", ".join(
        f"{quote(column)} = EXCLUDED.{quote(column)}"
        for column in (_column(Offer._meta.get_field(name)) for name in _UPSERT_FIELDS)
    )
    table = quote(Offer._meta.db_table)
    staging = "offers_offer_import"
    for offer in offers:
        offer.created_at = offer.created_at or now
        offer.updated_at = now
    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{staging}")
    # Identifiers come from the model's metadata; every value travels through COPY.
    cursor.execute(f"CREATE TEMP TABLE {staging} AS SELECT {columns} FROM {table} WITH NO DATA")  # noqa: S608
    _copy(
        cursor,
        staging,
        [_column(f) for f in fields],
        ([getattr(o, f.attname) for f in fields] for o in offers),
    )
    cursor.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} "  # noqa: S608
        f"ON CONFLICT ({quote('external_id')}) DO UPDATE SET {updates} "
        f"RETURNING {quote('external_id')}, {quote('id')}"
    )
    written = dict(cursor.fetchall())
    cursor.execute(f"DROP TABLE pg_temp.{staging}")
    return written


def _copy_history(
    cursor: Any, offers: list[Offer], history_type: str, *, actor: Any, now: dt.datetime
) -> None:
    if not offers:
        return
    history = Offer.history.model
    special = {
        "history_date": now,
        "history_change_reason": None,
        "history_type": history_type,
        "history_user_id": actor.pk if actor is not None else None,
    }
    fields = [f for f in history._meta.concrete_fields if not f.primary_key]
    _copy(
        cursor,
        history._meta.db_table,
        [_column(f) for f in fields],
        (
            [special[f.attname] if f.attname in special else getattr(o, f.attname) for f in fields]
            for o in offers
        ),
    )


# --- Export ------------------------------------------------------------------------------------


def offer_records(queryset: models.QuerySet[Offer]) -> Iterator[dict[str, Any]]:
    """The offers of ``queryset`` as import-format dictionaries, ordered by external_id."""
    offers = list(
        queryset.order_by("external_id").values(
            "id",
            "external_id",
            *[name for name in _MODEL_FIELDS if name not in ("owner_id", "operator_id")],
            "owner__slug",
            "operator__slug",
        )
    )
    ids = [offer["id"] for offer in offers]
    themes: dict[int, list[str]] = defaultdict(list)
    combine: dict[int, list[str]] = defaultdict(list)
    for offset in range(0, len(ids), 5000):
        chunk = ids[offset : offset + 5000]
        for offer_id, slug in (
            Offer.themes.through.objects.filter(offer_id__in=chunk)
            .order_by("theme__position", "theme__slug")
            .values_list("offer_id", "theme__slug")
        ):
            themes[offer_id].append(slug)
        for offer_id, other in (
            Offer.cannot_combine_with.through.objects.filter(from_offer_id__in=chunk)
            .order_by("to_offer__external_id")
            .values_list("from_offer_id", "to_offer__external_id")
        ):
            combine[offer_id].append(other)
    for offer in offers:
        record: dict[str, Any] = {}
        for name in ALL_FIELDS:
            if name in ("owner", "operator"):
                record[name] = offer[f"{name}__slug"]
            elif name == "themes":
                record[name] = themes[offer["id"]]
            elif name == "cannot_combine_with":
                record[name] = combine[offer["id"]]
            else:
                value = offer[name]
                record[name] = value.isoformat() if isinstance(value, dt.date) else value
        yield record


def export_json(queryset: models.QuerySet[Offer], out: io.TextIOBase | Any) -> int:
    """A JSON array with one offer per line, so import errors point at a useful line."""
    count = 0
    out.write("[\n")
    for record in offer_records(queryset):
        if count:
            out.write(",\n")
        out.write(json.dumps(record, ensure_ascii=False))
        count += 1
    out.write("\n]\n")
    return count


def export_jsonl(queryset: models.QuerySet[Offer], out: io.TextIOBase | Any) -> int:
    count = 0
    for record in offer_records(queryset):
        out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


# --- HSDS (Open Referral) ------------------------------------------------------------------------

HSDS_ORGANIZATION_COLUMNS = (
    "id",
    "name",
    "alternate_name",
    "description",
    "email",
    "website",
    "legal_status",
    "uri",
    "parent_organization_id",
)
HSDS_SERVICE_COLUMNS = (
    "id",
    "organization_id",
    "program_id",
    "name",
    "alternate_name",
    "description",
    "url",
    "email",
    "status",
    "interpretation_services",
    "application_process",
    "fees_description",
    "wait_time",
    "fees",
    "accreditations",
    "eligibility_description",
    "minimum_age",
    "maximum_age",
    "assured_date",
    "assurer_email",
    "licenses",
    "alert",
)
# HSDS 3 names the free-text area `name`; HSDS 2 readers look for `service_area`. Both are filled.
HSDS_SERVICE_AREA_COLUMNS = (
    "id",
    "service_id",
    "service_at_location_id",
    "name",
    "service_area",
    "description",
    "extent",
    "extent_type",
    "uri",
)
HSDS_FUNDING_COLUMNS = ("id", "organization_id", "service_id", "source")
HSDS_STATUS = {
    Offer.Status.PUBLISHED: "active",
    Offer.Status.DRAFT: "inactive",
    Offer.Status.ARCHIVED: "defunct",
}
_DAWA = "https://api.dataforsyningen.dk"
_PUBLIC_AUTHORITIES = (
    Organisation.Kind.STATE_AGENCY,
    Organisation.Kind.REGION,
    Organisation.Kind.MUNICIPALITY,
)


def hsds_tables(queryset: models.QuerySet[Offer]) -> dict[str, list[dict[str, Any]]]:
    """The Open Referral tables for the offers of ``queryset``, as lists of rows."""
    records = list(offer_records(queryset))
    slugs = {record["owner"] for record in records} | {record["operator"] for record in records}
    organisations = {
        org.slug: org
        for org in Organisation.objects.filter(slug__in=slugs).select_related("region")
    }
    regions = dict(Region.objects.values_list("code", "name"))
    municipalities = {m.code: str(m) for m in Municipality.objects.all()}
    kinds = dict(Organisation.Kind.choices)
    levels = dict(Level.choices)
    phases = dict(Phase.choices)
    sizes = dict(CompanySize.choices)
    prices = dict(Price.choices)

    organization_rows = [
        {
            "id": org.slug,
            "name": org.name,
            "alternate_name": "",
            "description": _("%(kind)s, %(level)s niveau")
            % {"kind": kinds[org.kind], "level": str(levels[org.level]).lower()},
            "email": org.contact_email,
            "website": org.website,
            "legal_status": _("offentlig myndighed")
            if org.kind
            in (
                Organisation.Kind.STATE_AGENCY,
                Organisation.Kind.REGION,
                Organisation.Kind.MUNICIPALITY,
            )
            else "",
            "uri": "",
            "parent_organization_id": "",
        }
        for org in sorted(organisations.values(), key=lambda o: o.slug)
    ]
    service_rows = []
    area_rows = []
    funding_rows = []
    for record in records:
        service_id = record["external_id"]
        eligibility = "; ".join(
            part
            for part in (
                ", ".join(str(phases[p]) for p in record["phases"]),
                ", ".join(str(sizes[s]) for s in record["company_sizes"]),
                _("brancher: %(codes)s") % {"codes": ", ".join(record["industries"])}
                if record["industries"]
                else "",
            )
            if part
        )
        service_rows.append(
            {
                "id": service_id,
                "organization_id": record["operator"],
                "program_id": "",
                "name": record["title"],
                "alternate_name": "",
                "description": record["summary"]
                + ("\n\n" + record["description"] if record["description"] else ""),
                "url": record["url"],
                "email": record["contact_email"],
                "status": HSDS_STATUS[record["status"]],
                "interpretation_services": "",
                "application_process": record["how_to_apply"],
                "fees_description": str(prices[record["price"]]),
                "wait_time": record["delivery_time"],
                "fees": "",
                "accreditations": "",
                "eligibility_description": eligibility,
                "minimum_age": "",
                "maximum_age": "",
                "assured_date": record["last_reviewed"] or "",
                "assurer_email": "",
                "licenses": "",
                "alert": _("Ansøgningsfrist %(date)s") % {"date": record["application_deadline"]}
                if record["application_deadline"]
                else "",
            }
        )
        areas: list[tuple[str, str, str]] = []
        if record["nationwide"]:
            areas.append(("dk", _("Hele Danmark"), "https://www.geonames.org/2623032"))
        for code in record["regions"]:
            areas.append((f"region-{code}", regions[code], f"{_DAWA}/regioner/{code}"))
        for code in record["municipalities"]:
            areas.append((f"kommune-{code}", municipalities[code], f"{_DAWA}/kommuner/{code:04d}"))
        for key, name, uri in areas:
            area_rows.append(
                {
                    "id": f"{service_id}--{key}",
                    "service_id": service_id,
                    "service_at_location_id": "",
                    "name": name,
                    "service_area": name,
                    "description": _("Tilbuddet gælder for virksomheder i %(area)s.")
                    % {"area": name},
                    "extent": "",
                    "extent_type": "",
                    "uri": uri,
                }
            )
        funding_rows.append(
            {
                "id": f"{service_id}--funding",
                "organization_id": record["owner"],
                "service_id": service_id,
                "source": organisations[record["owner"]].name,
            }
        )
    return {
        "organizations.csv": organization_rows,
        "services.csv": service_rows,
        "service_areas.csv": area_rows,
        "funding.csv": funding_rows,
    }


HSDS_COLUMNS = {
    "organizations.csv": HSDS_ORGANIZATION_COLUMNS,
    "services.csv": HSDS_SERVICE_COLUMNS,
    "service_areas.csv": HSDS_SERVICE_AREA_COLUMNS,
    "funding.csv": HSDS_FUNDING_COLUMNS,
}


def _csv_text(columns: Sequence[str], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def export_hsds(queryset: models.QuerySet[Offer], target: Path) -> dict[str, int]:
    """Write the HSDS CSV set into the folder ``target``, or a zip when it ends in ``.zip``."""
    tables = hsds_tables(queryset)
    if target.suffix.lower() == ".zip":
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, rows in tables.items():
                archive.writestr(name, _csv_text(HSDS_COLUMNS[name], rows))
    else:
        target.mkdir(parents=True, exist_ok=True)
        for name, rows in tables.items():
            (target / name).write_text(_csv_text(HSDS_COLUMNS[name], rows), encoding="utf-8")
    return {name: len(rows) for name, rows in tables.items()}
