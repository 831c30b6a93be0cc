"""Catalogue search: one implementation behind /tilbud/, the offers API and saved-search alerts.

Two halves, each a module of one idea:

- the index (``offers.search.index``): the search text, vector and facet columns derived from
  every offer, and ``refresh_search_vectors``, which every write path calls after it has saved;
- the query: what was asked (``offers.search.query``: parameters, text, filters), the facet
  counts and the page (``offers.search.facets``), and running it all
  (``offers.search.results``: ``run_search`` in at most three SQL queries).

Code outside the search imports these names from ``offers.search``.
"""

from offers.search.facets import CHOICE_LABELS, FacetValue
from offers.search.index import (
    FACET_BITS,
    REFRESH_BATCH,
    REGION_CODES,
    SEARCH_CONFIG,
    facet_bits,
    facet_mask,
    refresh_search_vectors,
)
from offers.search.query import (
    FACETS,
    FILTERS,
    MAX_EXPANDED_WORDS,
    MAX_QUERY_LENGTH,
    MIN_SIMILARITY,
    PAGE_SIZE,
    SORTS,
    OfferSearch,
    Sort,
    clean_query_text,
    municipality_label,
    prepare_search,
)
from offers.search.results import ActiveFilter, SearchResult, run_search

__all__ = [
    "CHOICE_LABELS",
    "FACETS",
    "FACET_BITS",
    "FILTERS",
    "MAX_EXPANDED_WORDS",
    "MAX_QUERY_LENGTH",
    "MIN_SIMILARITY",
    "PAGE_SIZE",
    "REFRESH_BATCH",
    "REGION_CODES",
    "SEARCH_CONFIG",
    "SORTS",
    "ActiveFilter",
    "FacetValue",
    "OfferSearch",
    "SearchResult",
    "Sort",
    "clean_query_text",
    "facet_bits",
    "facet_mask",
    "municipality_label",
    "prepare_search",
    "refresh_search_vectors",
    "run_search",
]
