"""Saved searches: the stored query string, run through the catalogue's own search.

There is no second implementation of the filters here. A saved search is the query string of
/tilbud/, parsed by ``offers.forms.lenient_search`` and answered by ``offers.search.run_search``
exactly as the page does, so an alert always holds the offers the page would show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse

from offers.forms import lenient_search
from offers.models import Offer
from offers.search import OfferSearch, SearchResult, prepare_search, run_search

# The search page itself shows 20 per page; an alert reads them all, page by page.
MAX_PAGES = 500


def _search(query_string: str) -> OfferSearch:
    search, _notices = lenient_search(QueryDict(query_string))
    return replace(search, page=1)


def canonical_query(query_string: str, *, today: dt.date) -> str:
    """The query string as the search page understands it: unusable values and the page left out.

    Two ways of writing the same search ("theme=a&theme=b" and "theme=b&theme=a&page=3") give
    the same stored search, so nothing is saved twice.
    """
    result = run_search(_search(query_string), today=today)
    # Sorted, because OR within a filter and AND across filters do not depend on the order.
    return urlencode(sorted(replace(result.search, page=1).params()))


@dataclass(frozen=True)
class SearchSummary:
    query_string: str
    labels: list[str]
    total: int

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL}{reverse('offers:search')}" + (
            f"?{self.query_string}" if self.query_string else ""
        )


def describe(query_string: str, *, today: dt.date) -> SearchSummary:
    """What the search is, in the words of the search page's filter chips."""
    result = run_search(_search(query_string), today=today)
    return SearchSummary(
        query_string=query_string,
        labels=[str(chip.label) for chip in result.active_filters],
        total=result.total,
    )


def matching_offer_ids(query_string: str, *, today: dt.date) -> list[int]:
    """Every offer the search page shows for this query string, in the page's order."""
    search = _search(query_string)
    prepared = prepare_search(search)
    ids: list[int] = []
    page = 1
    while page <= MAX_PAGES:
        on_page = (replace(prepared[0], page=page), *prepared[1:])
        result: SearchResult = run_search(
            on_page[0], today=today, clamp_page=False, prepared=on_page
        )
        ids.extend(offer.pk for offer in result.offers)
        if not result.has_next:
            break
        page += 1
    return ids


def changed_offers(
    query_string: str, *, since: dt.datetime, until: dt.datetime, today: dt.date
) -> list[Offer]:
    """The offers the search shows that were created or changed in ``(since, until]``."""
    ids = matching_offer_ids(query_string, today=today)
    if not ids:
        return []
    changed = {
        offer.pk: offer
        for offer in Offer.objects.filter(
            pk__in=ids, updated_at__gt=since, updated_at__lte=until
        ).only("id", "external_id", "title", "summary", "created_at", "published_at")
    }
    return [changed[pk] for pk in ids if pk in changed]
