"""Template tags for governance includes on other apps' pages."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from django import template

from offers.search import OfferSearch

register = template.Library()


@register.simple_tag
def saved_search_query(search: OfferSearch | None) -> str:
    """The query string of the search a page shows, without its page number."""
    if search is None:
        return ""
    return urlencode(sorted(replace(search, page=1).params()))
