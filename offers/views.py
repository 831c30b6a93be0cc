"""Public pages of the catalogue: the search at /tilbud/ and one page per offer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import BooleanField, F, Func, OuterRef
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONObject
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from offers.forms import OfferSearchForm, lenient_search
from offers.models import Municipality, Offer, Region, Theme
from offers.public_cache import public_cached
from offers.search import CHOICE_LABELS, SearchResult, run_search

# Where the effect measurement shows an offer's measured effect, when that app provides it.
OFFER_EFFECTS_TEMPLATE = "evaluation/includes/offer_effects.html"
RELATED_OFFERS = 5


@require_GET
@public_cached
def search(request: HttpRequest) -> HttpResponse:
    """/tilbud/: every state in the URL, so a search can be bookmarked and shared.

    ``?partial=1`` answers with the filters and results only, for search.js to swap in.
    Nothing personal is recorded; the governance app counts zero-result searches by their text.
    """
    context = search_context(request, request.GET)
    partial = request.GET.get("partial") == "1"
    template = "offers/includes/search_body.html" if partial else "offers/search.html"
    return render(request, template, context)


def search_context(request: HttpRequest, data: Mapping[str, Any]) -> dict[str, Any]:
    """What /tilbud/ shows for the query ``data`` (the page's, or a partner's embedded catalogue
    with its theme fixed)."""
    offer_search, notices = lenient_search(data)
    result = run_search(offer_search, today=timezone.localdate())
    for name, values in result.unknown.items():
        label = OfferSearchForm.base_fields[name].label
        notices.append(
            _("%(field)s: %(values)s findes ikke og er ikke brugt i søgningen.")
            % {"field": label, "values": ", ".join(values)}
        )
    if result.search.q:
        # Read by governance.middleware to count searches that found nothing.
        request.search_result_count = result.total  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "result": result,
        "search": result.search,
        "notices": notices,
        "sort_choices": OfferSearchForm.base_fields["sort"].choices,  # type: ignore[attr-defined]
        "facet_legends": {
            "theme": _("Tema"),
            "level": _("Hvem står bag tilbuddet"),
            "phase": _("Virksomhedens fase"),
            "size": _("Antal ansatte"),
            "region": _("Region"),
            "municipality": _("Kommune"),
            "price": _("Pris"),
            "industry": _("Branche"),
            "operator": _("Udbydes af"),
        },
        **_pagination(result),
    }
    if result.suggestion:
        corrected = replace(result.search, q=result.suggestion, page=1)
        context["suggestion_query"] = corrected.querystring()
    return context


def _pagination(result: SearchResult) -> dict[str, Any]:
    """Links to the first, last and nearby pages; gaps as None."""
    search, last = result.search, result.num_pages
    wanted = {1, last, *range(search.page - 2, search.page + 3)}
    numbers = sorted(n for n in wanted if 1 <= n <= last)
    links: list[dict[str, Any]] = []
    for number in numbers:
        if links and number - links[-1]["number"] > 1:
            links.append({"number": None})
        url = "?" + search.on_page(number).querystring()
        links.append({"number": number, "url": url, "current": number == search.page})
    return {
        "page_links": links,
        "previous_url": "?" + search.on_page(search.page - 1).querystring()
        if result.has_previous
        else None,
        "next_url": "?" + search.on_page(search.page + 1).querystring()
        if result.has_next
        else None,
    }


def _code_in(array_field: str) -> Func:
    """``code = ANY(<the outer offer's array>)``: names for the codes an offer stores."""
    return Func(
        F("code"),
        OuterRef(array_field),
        template="%(expressions)s)",
        arg_joiner=" = ANY(",
        output_field=BooleanField(),
    )


def _detail_queryset() -> Any:
    theme_names = ArraySubquery(
        Theme.objects.filter(offers=OuterRef("pk"))
        .order_by("position", "name")
        .values(json=JSONObject(slug="slug", name="name", name_en="name_en"))
    )
    exclusive = ArraySubquery(
        Offer.objects.filter(cannot_combine_with=OuterRef("pk"), status=Offer.Status.PUBLISHED)
        .order_by("title")
        .values(json=JSONObject(external_id="external_id", title="title"))
    )
    region_names = ArraySubquery(
        Region.objects.filter(_code_in("regions")).order_by("code").values("name")
    )
    municipality_names = ArraySubquery(
        Municipality.objects.filter(_code_in("municipalities")).order_by("name").values("name")
    )
    return (
        Offer.objects.filter(status__in=[Offer.Status.PUBLISHED, Offer.Status.ARCHIVED])
        .select_related("owner", "operator")
        .defer("search_text", "search_vector")
        .annotate(
            theme_list=theme_names,
            exclusive_list=exclusive,
            region_names=region_names,
            municipality_names=municipality_names,
        )
    )


@require_GET
@public_cached
def detail(request: HttpRequest, external_id: str) -> HttpResponse:
    """/tilbud/<external_id>/: everything a company needs to decide, and the way to guidance.

    Drafts do not exist for the public (404); an archived offer says so and is not indexed.
    """
    offer = _detail_queryset().filter(external_id=external_id).first()
    if offer is None:
        raise Http404(_("Tilbuddet findes ikke."))
    return render(request, "offers/detail.html", offer_page_context(request, offer))


def offer_page_context(request: HttpRequest, offer: Any) -> dict[str, Any]:
    """What offers/detail.html shows of ``offer``: annotated as by ``_detail_queryset`` (or by
    ``annotate_unsaved`` for the editor's preview of changes not saved yet)."""
    today = timezone.localdate()
    related: list[Offer] = []
    if offer.theme_ids:
        shared = RawSQL(
            "cardinality(ARRAY(SELECT unnest(offers_offer.theme_ids)"
            " INTERSECT SELECT unnest(%s::bigint[])))",
            (list(offer.theme_ids),),
        )
        related = list(
            Offer.objects.published()
            .open_on(today)
            .filter(theme_ids__overlap=list(offer.theme_ids))
            .exclude(pk=offer.pk)
            .select_related("operator")
            .only("external_id", "title", "summary", "level", "price", "operator__name")
            .annotate(shared=shared)
            .order_by(F("shared").desc(), "title")[:RELATED_OFFERS]
        )
    english = request.LANGUAGE_CODE == "en"
    themes = [
        {"slug": t["slug"], "label": t["name_en"] if english and t["name_en"] else t["name"]}
        for t in offer.theme_list
    ]
    return {
        "offer": offer,
        "themes": themes,
        "is_open": offer.is_open_on(today),
        "is_archived": offer.status == Offer.Status.ARCHIVED,
        "related": related,
        "guidance_url": f"/vejledning/?offer={offer.external_id}",
        "effects_template": _effects_template(),
        "phase_labels": [
            CHOICE_LABELS["phase"][p] for p in offer.phases if p in CHOICE_LABELS["phase"]
        ],
        "size_labels": [
            CHOICE_LABELS["size"][s] for s in offer.company_sizes if s in CHOICE_LABELS["size"]
        ],
        "industry_labels": [
            CHOICE_LABELS["industry"][i] for i in offer.industries if i in CHOICE_LABELS["industry"]
        ],
        "language_names": [_language_name(code) for code in offer.languages],
        "municipality_names": [
            _("%(name)s Kommune") % {"name": name} for name in offer.municipality_names
        ],
    }


def annotate_unsaved(
    offer: Any, *, themes: Iterable[Theme], cannot_combine_with: Iterable[Offer]
) -> Any:
    """Give an offer built from the editor's form (not saved) what ``_detail_queryset`` adds."""
    chosen = sorted(themes, key=lambda t: (t.position, t.name))
    offer.theme_list = [{"slug": t.slug, "name": t.name, "name_en": t.name_en} for t in chosen]
    offer.theme_ids = [t.pk for t in chosen]
    offer.exclusive_list = [
        {"external_id": o.external_id, "title": o.title}
        for o in sorted(cannot_combine_with, key=lambda o: o.title)
        if o.status == Offer.Status.PUBLISHED
    ]
    offer.region_names = list(
        Region.objects.filter(code__in=offer.regions or [])
        .order_by("code")
        .values_list("name", flat=True)
    )
    offer.municipality_names = list(
        Municipality.objects.filter(code__in=offer.municipalities or [])
        .order_by("name")
        .values_list("name", flat=True)
    )
    return offer


def _effects_template() -> str | None:
    try:
        get_template(OFFER_EFFECTS_TEMPLATE)
    except TemplateDoesNotExist:
        return None
    return OFFER_EFFECTS_TEMPLATE


def _language_name(code: str) -> str:
    names = {
        "da": _("Dansk"),
        "en": _("Engelsk"),
        "de": _("Tysk"),
        "sv": _("Svensk"),
        "no": _("Norsk"),
        "fr": _("Fransk"),
    }
    return names.get(code, code)
