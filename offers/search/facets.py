"""Facet counts and the page of results: query 2 of a catalogue search.

Disjunctive faceting: each facet's counts apply all the other active filters, so ticking a theme
does not zero the other themes. The total, every facet's counts and the ids of the page asked for
come from one statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    Func,
    PositiveSmallIntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import get_language
from django_stubs_ext import StrOrPromise

from offers.models import CompanySize, Industry, Level, Offer, Phase, Price
from offers.search.index import FACET_BITS
from offers.search.query import (
    FACETS,
    FILTERS,
    PAGE_SIZE,
    OfferSearch,
    Prepared,
    Sort,
    TextQuery,
    municipality_label,
    text_rank,
)

# Which facet a row that fails exactly one filter failed (0: none), as stored in ``scored.fail``.
_FACET_NUMBERS = {name: number for number, name in enumerate(FILTERS, start=1)}


CHOICE_LABELS: dict[str, dict[str, StrOrPromise]] = {
    "level": dict(Level.choices),
    "phase": dict(Phase.choices),
    "size": dict(CompanySize.choices),
    "industry": dict(Industry.choices),
    "price": dict(Price.choices),
}


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


# --- Facet counts (query 2) ---------------------------------------------------------------------

# How each sort order reads the columns of ``scored`` (our own SQL, never user text).
_ORDER_SQL = {
    "rank": "s.sort_rank DESC, s.title, s.id",
    "title": "s.title, s.id",
    "deadline": "s.application_deadline ASC NULLS LAST, s.title, s.id",
    "newest": "s.sort_newest DESC, s.id DESC",
}


def _order_key(sort: Sort, text: TextQuery | None) -> str:
    if sort in ("deadline", "newest"):
        return sort
    return "rank" if text is not None else "title"


def _facet_sql(
    base: QuerySet[Offer],
    conditions: dict[str, Q],
    *,
    order: str,
    text: TextQuery | None,
    offset: int,
    clamp: bool,
) -> tuple[str, list[Any]]:
    """One statement: facet counts, the total, the page's ids, theme, region and municipality
    names.

    Disjunctive faceting in one pass over the matching offers: a row that passes every filter
    counts for all its facet values; a row that fails exactly one facet's filter counts for that
    facet's values only (ticking a second theme widens the search, so each theme's count ignores
    the theme filter); a row failing two or more counts nowhere. Rows are grouped by the facet
    they failed (``fail``, 0 for none) and the caller adds group 0 and the facet's own group.

    Municipalities are counted without pairing every offer with 98 municipalities: an offer is
    available in municipality m when it is nationwide (the "region *" bit of group 0; a
    nationwide offer never fails the municipality filter), lists m's region, or lists m itself.
    Only non-nationwide rows are looked at, through ``listed_codes`` (their regions and
    municipalities in one array): rows with the same codes are counted together first (most
    local offers list one municipality), then each distinct array is unnested once and counts
    for each region it lists and each municipality whose region it does not also list (so an
    offer listing both Vejle and Region Syddanmark counts once for Vejle, and a code listed
    twice counts once). Region and municipality codes never overlap (1081-1085 against
    101-860), so the caller adds, per municipality, the nationwide count, its region's count and
    its own.

    The bit counts are only read for group 0 and the bit facets' own groups, so rows that fail
    the theme, operator or municipality filter skip them.
    """
    flags = {
        f"f_{name}": ExpressionWrapper(condition, output_field=BooleanField())
        for name, condition in conditions.items()
        if name in FACETS
    }
    codes = ArrayField(PositiveSmallIntegerField())
    listed_codes = Case(
        When(nationwide=True, then=Value(None)),
        default=Func(
            F("regions"),
            F("municipalities"),
            template="(%(expressions)s)",
            arg_joiner=" || ",
            output_field=codes,
        ),
        output_field=codes,
    )
    sort_keys: dict[str, Any] = {}
    if order == "rank" and text is not None:
        sort_keys["sort_rank"] = text_rank(text)
    if order == "newest":
        sort_keys["sort_newest"] = Coalesce("published_at", "created_at")
    columns = [
        "id",
        "facet_bits",
        "theme_ids",
        "operator_id",
        "listed_codes",
        "title",
        "application_deadline",
        *flags,
        *sort_keys,
    ]
    inner = (
        base.annotate(listed_codes=listed_codes, **flags, **sort_keys).order_by().values(*columns)
    )
    inner_sql, inner_params = inner.query.sql_with_params()
    misses = " + ".join(f"(NOT {flag})::int" for flag in flags) or "0"
    fail = (
        "CASE "
        + " ".join(f"WHEN NOT {flag} THEN {_FACET_NUMBERS[flag[2:]]}" for flag in flags)
        + " ELSE 0 END"
        if flags
        else "0"
    )
    bit_counts = ", ".join(
        f"count(*) FILTER (WHERE s.facet_bits & {1 << bit} <> 0)" for bit in range(len(FACET_BITS))
    )
    offset_sql = "%s"
    offset_params: list[int] = [offset]
    if clamp:
        # A page past the end shows the last page.
        offset_sql = (
            "LEAST(%s, (SELECT greatest(count(*) - 1, 0) / %s * %s"
            " FROM scored s WHERE s.misses = 0))"
        )
        offset_params = [offset, PAGE_SIZE, PAGE_SIZE]
    theme, operator = _FACET_NUMBERS["theme"], _FACET_NUMBERS["operator"]
    municipality = _FACET_NUMBERS["municipality"]
    without_bits = f"{theme}, {operator}, {municipality}"

    # Rows: kind, group (fail), key, slug, name, English name, count, bit counts. Only our own
    # SQL is interpolated; every user value travels in the parameters.
    sql = f"""
WITH base AS ({inner_sql}),
scored AS (
    SELECT * FROM (
        SELECT b.*, {misses} AS misses, {fail} AS fail FROM base b
    ) AS b WHERE b.misses <= 1
)
SELECT 'bits', s.fail, 0, '', '', '', count(*), ARRAY[{bit_counts}]
FROM scored s WHERE s.fail NOT IN ({without_bits}) GROUP BY s.fail
UNION ALL
SELECT 'theme', s.fail, t.theme_id, '', '', '', count(*), NULL
FROM scored s CROSS JOIN LATERAL unnest(s.theme_ids) AS t(theme_id)
WHERE s.fail IN (0, {theme}) GROUP BY s.fail, t.theme_id
UNION ALL
SELECT 'operator', s.fail, o.id, o.slug, o.name, '', count(*), NULL
FROM scored s JOIN offers_organisation o ON o.id = s.operator_id
WHERE s.fail IN (0, {operator}) GROUP BY s.fail, o.id
UNION ALL
SELECT 'geography', a.fail, g.code, '', '', '', sum(a.offers)::bigint, NULL
FROM (
    SELECT s.fail, s.listed_codes, count(*) AS offers FROM scored s
    WHERE s.fail IN (0, {municipality}) AND s.listed_codes IS NOT NULL
    GROUP BY s.fail, s.listed_codes
) AS a
CROSS JOIN LATERAL (SELECT DISTINCT unnest(a.listed_codes)) AS g(code)
LEFT JOIN offers_municipality m ON m.code = g.code
WHERE m.code IS NULL OR NOT m.region_id = ANY(a.listed_codes)
GROUP BY a.fail, g.code
UNION ALL
SELECT 'page', row_number() OVER (), p.id, '', '', '', 0, NULL
FROM (
    SELECT s.id FROM scored s WHERE s.misses = 0
    ORDER BY {_ORDER_SQL[order]} LIMIT {PAGE_SIZE} OFFSET {offset_sql}
) AS p
UNION ALL
SELECT 'theme_name', t.position, t.id, t.slug, t.name, t.name_en, 0, NULL FROM offers_theme t
UNION ALL
SELECT 'region_name', 0, r.code, '', r.name, '', 0, NULL FROM offers_region r
UNION ALL
SELECT 'municipality_name', row_number() OVER (ORDER BY m.name, m.code), m.code,
    m.region_id::text, m.name, '', 0, NULL
FROM offers_municipality m
"""  # noqa: S608
    return sql, [*inner_params, *offset_params]


@dataclass
class Counted:
    total: int
    facets: dict[str, list[FacetValue]]
    page_ids: list[int]
    theme_labels: dict[int, tuple[str, str]]
    region_labels: dict[int, str]


def count_facets(
    base: QuerySet[Offer],
    conditions: dict[str, Q],
    search: OfferSearch,
    prepared: Prepared,
    *,
    text: TextQuery | None,
    clamp: bool,
) -> Counted:
    """The total, the facet counts and the ids of the page asked for (query 2)."""
    sql, params = _facet_sql(
        base,
        conditions,
        order=_order_key(search.sort, text),
        text=text,
        offset=(search.page - 1) * PAGE_SIZE,
        clamp=clamp,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()

    english = get_language() == "en"
    total = 0
    bits: dict[int, list[int]] = {}
    theme_counts: dict[int, dict[int, int]] = defaultdict(dict)
    operator_counts: dict[int, dict[str, int]] = defaultdict(dict)
    operator_names: dict[str, str] = dict(prepared.operator_labels)
    page: list[tuple[int, int]] = []
    themes: list[tuple[int, int, str, str]] = []
    region_labels: dict[int, str] = {}
    geography: dict[int, dict[int, int]] = defaultdict(dict)
    municipalities: list[tuple[int, int, int, str]] = []
    for kind, group, key, slug, name, name_en, count, bit_counts in rows:
        if kind == "bits":
            bits[group] = bit_counts
            if group == 0:
                total = count
        elif kind == "theme":
            theme_counts[group][key] = count
        elif kind == "operator":
            operator_counts[group][slug] = count
            operator_names[slug] = name
        elif kind == "page":
            page.append((group, key))
        elif kind == "theme_name":
            themes.append((group, key, slug, name_en if english and name_en else name))
        elif kind == "region_name":
            region_labels[key] = name
        elif kind == "geography":
            geography[group][key] = count
        elif kind == "municipality_name":
            municipalities.append((group, key, int(slug), name))
    themes.sort()
    municipalities.sort()
    theme_labels = {theme_id: (slug, label) for _p, theme_id, slug, label in themes}

    def merged(name: str, groups: Mapping[int, Mapping[Any, int]]) -> dict[Any, int]:
        # Offers passing every filter, plus those failing only this facet's filter.
        totals: dict[Any, int] = defaultdict(int)
        for group in (0, _FACET_NUMBERS[name]):
            for value, count in groups.get(group, {}).items():
                totals[value] += count
        return totals

    bit_groups = {
        group: {FACET_BITS[bit]: count for bit, count in enumerate(counts)}
        for group, counts in bits.items()
    }
    facets: dict[str, list[FacetValue]] = {}
    for name in FACETS:
        selected = set(search.values(name))
        if name == "theme":
            counts = merged(name, theme_counts)
            choices = [(theme_id, slug, label) for theme_id, (slug, label) in theme_labels.items()]
            facets[name] = [
                FacetValue(slug, label, counts.get(theme_id, 0), slug in selected)
                for theme_id, slug, label in choices
            ]
            continue
        if name == "operator":
            counts = merged(name, operator_counts)
            values = [
                FacetValue(slug, operator_names[slug], counts.get(slug, 0), slug in selected)
                for slug in {*counts, *selected}
                if slug in operator_names
            ]
            facets[name] = sorted(values, key=lambda v: (-v.count, v.label))
            continue
        if name == "municipality":
            # Nationwide offers (the "region *" bit), those listing the municipality's region,
            # and those listing the municipality but not its region (see ``_facet_sql``).
            nationwide = bit_groups.get(0, {}).get(("region", "*"), 0)
            listed = merged(name, geography)
            facets[name] = [
                FacetValue(
                    str(code),
                    municipality_label(code, label),
                    nationwide + listed.get(region, 0) + listed.get(code, 0),
                    str(code) in selected,
                )
                for _position, code, region, label in municipalities
            ]
            continue
        counts = merged(name, bit_groups)
        # Offers for the whole country (or every industry) count for each region (industry).
        everywhere = counts.get((name, "*"), 0)
        if name == "region":
            labels = {str(code): label for code, label in sorted(region_labels.items())}
        else:
            labels = {value: str(label) for value, label in CHOICE_LABELS[name].items()}
        facets[name] = [
            FacetValue(value, label, counts.get((name, value), 0) + everywhere, value in selected)
            for value, label in labels.items()
        ]
    page_ids = [offer_id for _position, offer_id in sorted(page)]
    return Counted(total, facets, page_ids, theme_labels, region_labels)
