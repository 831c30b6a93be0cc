"""Forms of the public catalogue pages (and the API's search parameters)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from core.parsing import parse_int
from offers.models import CompanySize, Industry, Level, Phase, Price
from offers.search import MAX_QUERY_LENGTH, SORTS, OfferSearch, clean_query_text

T = TypeVar("T")

# More values than this for one filter is not a search a person makes.
MAX_VALUES = 50
MAX_PAGE = 1_000_000
_SLUG = re.compile(r"^[-a-z0-9_]{1,100}$")
_TRUE = {"1", "true", "on", "yes", "ja"}
_FALSE = {"", "0", "false", "off", "no", "nej"}
# The spellings a yes/no parameter accepts (an empty value is no); the API schema lists them.
FLAG_VALUES = frozenset((_TRUE | _FALSE) - {""})


class ListField(forms.Field):
    """A repeatable query parameter (``?theme=a&theme=b``): OR within, duplicates dropped."""

    widget = forms.MultipleHiddenInput
    invalid_message: StrOrPromise = _("Ukendt værdi: %(values)s.")

    def __init__(self, parse: Callable[[str], Any | None], **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.parse = parse

    def split(self, raw: Any) -> tuple[tuple[Any, ...], list[str]]:
        """The valid values and the rejected raw values."""
        values: list[Any] = []
        rejected: list[str] = []
        for item in raw if isinstance(raw, list | tuple) else [raw] if raw else []:
            text = clean_query_text(str(item))
            if not text:
                continue
            value = self.parse(text)
            if value is None:
                rejected.append(text[:100])
            elif value not in values:
                values.append(value)
        return tuple(values[:MAX_VALUES]), rejected

    def clean(self, value: Any) -> tuple[Any, ...]:
        values, rejected = self.split(value)
        if rejected:
            raise ValidationError(
                self.invalid_message, code="invalid", params={"values": ", ".join(rejected)}
            )
        return values


def _choice(values: list[str]) -> Callable[[str], str | None]:
    allowed = frozenset(values)
    return lambda text: text if text in allowed else None


def _slug(text: str) -> str | None:
    return text if _SLUG.match(text) else None


def _code(text: str) -> int | None:
    return parse_int(text, max_digits=5)


def _flag(text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


class OfferSearchForm(forms.Form):
    """The parameters of /tilbud/ and GET /api/offers/, validated into an ``OfferSearch``.

    The API answers 400 with these errors. The page is lenient instead (``lenient_search``):
    it drops what it cannot use and says so, because a shared or hand-edited link must still
    show a page.
    """

    q = forms.CharField(
        label=_("Søg i tilbud"),
        required=False,
        strip=True,
        max_length=MAX_QUERY_LENGTH,
        error_messages={
            "max_length": _(
                "Søgeteksten må højst være %(limit_value)d tegn (den er %(show_value)d)."
            )
        },
    )
    theme = ListField(_slug, label=_("Tema"))
    level = ListField(_choice(Level.values), label=_("Niveau"))
    phase = ListField(_choice(Phase.values), label=_("Fase"))
    size = ListField(_choice(CompanySize.values), label=_("Virksomhedsstørrelse"))
    industry = ListField(_choice(Industry.values), label=_("Branche"))
    region = ListField(_code, label=_("Region"))
    municipality = ListField(_code, label=_("Kommune"))
    price = ListField(_choice(Price.values), label=_("Pris"))
    operator = ListField(_slug, label=_("Operatør"))
    include_closed = forms.CharField(label=_("Vis også lukkede tilbud"), required=False)
    sort = forms.ChoiceField(
        label=_("Sortér efter"),
        required=False,
        choices=[
            ("relevance", _("Relevans")),
            ("deadline", _("Ansøgningsfrist")),
            ("newest", _("Nyeste")),
        ],
    )
    page = forms.IntegerField(
        label=_("Side"),
        required=False,
        min_value=1,
        error_messages={"invalid": _("Sidetallet skal være et helt tal fra 1.")},
    )

    def __init__(self, data: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        for name in ("q", "include_closed"):
            # NUL and other control characters never reach the database.
            field = self.fields[name]
            field.validators = [v for v in field.validators if "Null" not in type(v).__name__]

    def clean_q(self) -> str:
        return clean_query_text(self.cleaned_data.get("q") or "")

    def clean_include_closed(self) -> bool:
        value = _flag(self.cleaned_data.get("include_closed") or "")
        if value is None:
            raise ValidationError(_("Brug 1 eller 0."), code="invalid")
        return value

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or "relevance"

    def clean_page(self) -> int:
        # Any page past the end is the last page (or an empty one in the API); capped so the
        # offset stays a sane number.
        return min(self.cleaned_data.get("page") or 1, MAX_PAGE)

    def search(self) -> OfferSearch:
        """The validated search (call after ``is_valid()``)."""
        data = self.cleaned_data
        return OfferSearch(
            q=data["q"],
            theme=data["theme"],
            level=data["level"],
            phase=data["phase"],
            size=data["size"],
            industry=data["industry"],
            region=data["region"],
            municipality=data["municipality"],
            price=data["price"],
            operator=data["operator"],
            include_closed=data["include_closed"],
            sort=data["sort"],
            page=data["page"],
        )


def lenient_search(data: Mapping[str, Any]) -> tuple[OfferSearch, list[str]]:
    """The search a page can show for any query string, and notices about what was dropped.

    Unusable values are left out (with a notice), an over-long text is shortened, and a bad page
    number or sort order falls back to the default.
    """
    form = OfferSearchForm(data)
    if form.is_valid():
        return form.search(), []
    notices: list[str] = []
    values: dict[str, Any] = {}
    for name, field in form.fields.items():
        raw = form[name].value() if name != "q" else data.get("q", "")
        if name not in form.errors:
            values[name] = form.cleaned_data[name]
        elif isinstance(field, ListField):
            kept, rejected = field.split(raw)
            values[name] = kept
            notices.append(
                str(_("%(field)s: %(values)s findes ikke og er ikke brugt i søgningen."))
                % {"field": field.label, "values": ", ".join(rejected)}
            )
        elif name == "q":
            values[name] = clean_query_text(str(raw or ""))[:MAX_QUERY_LENGTH]
            notices.append(
                str(_("Søgeteksten var for lang og er forkortet til %(limit)d tegn."))
                % {"limit": MAX_QUERY_LENGTH}
            )
        else:
            values[name] = {"include_closed": False, "sort": SORTS[0], "page": 1}[name]
    return OfferSearch(**values), notices
