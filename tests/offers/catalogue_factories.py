"""Helpers for the catalogue maintenance tests (offers come from tests/offers/factories.py)."""

from django.contrib.postgres.search import SearchQuery

from offers.models import Offer


def found_by_search(offer: Offer, words: str) -> bool:
    """Whether the catalogue's full-text index finds ``offer`` for ``words``."""
    query = SearchQuery(words, config="danish", search_type="websearch")
    return Offer.objects.filter(pk=offer.pk, search_vector=query).exists()
