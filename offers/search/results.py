"""Running a catalogue search: one page of offers, the total, the facets and the active filters.

``run_search(search, today=...)`` answers an ``OfferSearch`` in at most three SQL queries:

1. *prepare* (``offers.search.query``, only when there is text or a theme/operator/region/
   municipality filter);
2. *facets* (``offers.search.facets``): the total, every facet's counts and the page's ids;
3. *results*: one page of offers with owner and operator.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from offers.models import Offer
from offers.search.facets import CHOICE_LABELS, FacetValue, count_facets
from offers.search.query import (
    FILTERS,
    PAGE_SIZE,
    OfferSearch,
    Prepared,
    drop_unknown,
    filter_conditions,
    prepare_search,
    query_words,
    text_query,
)


@dataclass(frozen=True)
class ActiveFilter:
    """A chip on the results page: what is filtered on, and the search without it."""

    name: str
    value: str
    label: str
    without: OfferSearch


@dataclass
class SearchResult:
    search: OfferSearch
    offers: list[Offer]
    total: int
    num_pages: int
    facets: dict[str, list[FacetValue]]
    active_filters: list[ActiveFilter]
    # Query words that were unknown, with the known word searched for as well.
    corrections: dict[str, str] = field(default_factory=dict)
    # Values that match nothing in the catalogue, per filter (the page ignores them).
    unknown: dict[str, list[str]] = field(default_factory=dict)
    theme_labels: dict[int, tuple[str, str]] = field(default_factory=dict)
    region_labels: dict[int, str] = field(default_factory=dict)

    @property
    def filter_count(self) -> int:
        """The filters chosen, not counting the search text (the phone's "Filtre (2 valgt)")."""
        return sum(1 for chip in self.active_filters if chip.name != "q")

    @property
    def page(self) -> int:
        return self.search.page

    @property
    def suggestion(self) -> str | None:
        """The query with its misspelt words corrected ("Mente du: digitalisering?")."""
        if not self.corrections:
            return None
        return _replace_words(self.search.q, self.corrections)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    def themes_of(self, offer: Offer) -> list[tuple[str, str]]:
        """(slug, label) of an offer's themes, from the facet query (no query per offer)."""
        return [self.theme_labels[i] for i in offer.theme_ids if i in self.theme_labels]


def _replace_words(text: str, replacements: dict[str, str]) -> str:
    def swap(match: re.Match[str]) -> str:
        return replacements.get(match.group(0).lower(), match.group(0))

    return re.sub(r"[^\W\d_]+", swap, text)


def run_search(
    search: OfferSearch,
    *,
    today: dt.date,
    clamp_page: bool = True,
    prepared: tuple[OfferSearch, Prepared, dict[str, list[str]]] | None = None,
) -> SearchResult:
    """Answer a search: one page of offers, the total and the facet counts.

    Values that match nothing are dropped. A page past the last one becomes the last page
    (``clamp_page``) or an empty page.
    """
    search, resolved, unknown = prepared or prepare_search(search)
    search = drop_unknown(search, unknown)
    text = text_query(search.q, query_words(search.q), resolved)

    base = Offer.objects.published()
    if not search.include_closed:
        base = base.open_on(today)
    if text is not None:
        base = base.filter(search_vector=text.query)
    conditions = filter_conditions(search, resolved)

    counted = count_facets(base, conditions, search, resolved, text=text, clamp=clamp_page)
    num_pages = max(1, math.ceil(counted.total / PAGE_SIZE))
    if clamp_page and search.page > num_pages:
        search = search.on_page(num_pages)

    offers: list[Offer] = []
    if counted.page_ids:
        # Query 3: the page's offers by primary key; the ranking happened in query 2.
        by_id = (
            Offer.objects.select_related("owner", "operator")
            .defer(
                "description",
                "expected_result",
                "how_to_apply",
                "search_text",
                "search_vector",
                "owner__address",
                "operator__address",
            )
            .in_bulk(counted.page_ids)
        )
        offers = [by_id[pk] for pk in counted.page_ids if pk in by_id]

    return SearchResult(
        search=search,
        offers=offers,
        total=counted.total,
        num_pages=num_pages,
        facets=counted.facets,
        active_filters=_active_filters(search, resolved),
        corrections=text.corrections if text else {},
        unknown=unknown,
        theme_labels=counted.theme_labels,
        region_labels=counted.region_labels,
    )


def _active_filters(search: OfferSearch, prepared: Prepared) -> list[ActiveFilter]:
    chips: list[ActiveFilter] = []
    if search.q:
        chips.append(ActiveFilter("q", search.q, f"“{search.q}”", search.without("q")))
    lookups: dict[str, dict[Any, str]] = {
        "theme": prepared.theme_labels,
        "operator": prepared.operator_labels,
        "region": prepared.region_labels,
        "municipality": prepared.municipality_labels,
        **{name: {k: str(v) for k, v in labels.items()} for name, labels in CHOICE_LABELS.items()},
    }
    for name in FILTERS:
        for value in getattr(search, name):
            label = lookups[name].get(value, str(value))
            chips.append(ActiveFilter(name, str(value), label, search.without(name, str(value))))
    if search.include_closed:
        chips.append(
            ActiveFilter(
                "include_closed",
                "1",
                str(_("Også lukkede tilbud")),
                search.without("include_closed"),
            )
        )
    return chips
