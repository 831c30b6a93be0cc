"""Division of labour and overlap in the catalogue: the figures behind "fewer but stronger".

Everything is computed on the offers companies can use today (published and open), as plain
rows (``OfferFacts``), so the rules are tested without a database. Only ``load_catalogue`` and
``division_of_labour`` touch the ORM.

Rules, as decided:

- **Level mismatch.** An offer's level should be the responsible level of at least one of its
  themes; it is a mismatch when its level differs from *all* of them (a municipal export
  programme). The one exception is the ``clusters`` theme on an offer owned by a cluster: a
  national cluster is funded by the level that funds the cluster organisation (the state, reform
  proposal 3), so for those offers that theme counts at the owner's level instead of the theme's
  regional level. A regional cluster programme run by a region keeps the regional reading.
- **Overlap.** Two offers overlap when they share a theme, have a phase and a company size in
  common, have an industry in common (an empty list means all industries), can be used in a
  common place (nationwide covers everything; a municipality lies in its region) and have
  different operators. Overlaps are grouped per theme into connected components (A overlaps B
  and B overlaps C puts all three in one group). A pair's score is a weighted Jaccard
  similarity: phases 0.3, sizes 0.3, geography 0.25 (over the municipalities covered) and
  industries 0.15; a group's score is the mean over its overlapping pairs.
- **Regional offers not open nationwide.** Regional-level offers restricted to a region or
  municipalities: allowed, but the reform asks regional offers to be open to the whole country.
- **Consolidation.** Per theme and level: the number of offers and of distinct operators.

Overlap detection buckets offers by theme and compares the offers of one bucket as bit masks in
blocks with numpy, so 10,000 offers take well under a second rather than 50 million Python
comparisons.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from offers.models import (
    CompanySize,
    Industry,
    Level,
    Municipality,
    Offer,
    Organisation,
    Phase,
    Region,
    Theme,
)

CLUSTER_THEME = "clusters"
WEIGHTS = {"phases": 0.3, "sizes": 0.3, "geography": 0.25, "industries": 0.15}
PAIRS_PER_GROUP = 10
CACHE_SECONDS = 10 * 60
_BLOCK_CELLS = 2_000_000

_PHASES = list(Phase.values)
_SIZES = list(CompanySize.values)
_INDUSTRIES = list(Industry.values)
_LEVEL_ORDER = {level: position for position, level in enumerate(Level.values)}


@dataclass(frozen=True)
class OfferFacts:
    """What the analysis needs to know about one offer."""

    external_id: str
    title: str
    level: str
    owner: str
    owner_kind: str
    owner_level: str
    operator: str
    operator_name: str
    themes: frozenset[str]
    phases: frozenset[str]
    sizes: frozenset[str]
    industries: frozenset[str]  # empty = all industries
    nationwide: bool
    regions: frozenset[int]
    municipalities: frozenset[int]
    owner_name: str = ""  # for people: the owner's name beside its slug (the stable key)


@dataclass(frozen=True)
class Vocabulary:
    """Reference data: themes with their level and name, and the map of Denmark."""

    theme_levels: Mapping[str, str]
    theme_names: Mapping[str, str]
    municipality_regions: Mapping[int, int]  # municipality code → region code
    region_names: Mapping[int, str]
    municipality_names: Mapping[int, str]
    theme_order: Sequence[str] = ()

    def municipalities_of(self, offer: OfferFacts) -> frozenset[int]:
        """The municipalities where the offer can be used."""
        if offer.nationwide:
            return frozenset(self.municipality_regions)
        covered = set(offer.municipalities)
        if offer.regions:
            covered.update(
                code
                for code, region in self.municipality_regions.items()
                if region in offer.regions
            )
        return frozenset(covered)


# --- Level mismatches --------------------------------------------------------------------------


def effective_theme_levels(offer: OfferFacts, vocabulary: Vocabulary) -> dict[str, str]:
    """Each theme of the offer → the level responsible for it, for this offer."""
    levels = {}
    for theme in offer.themes:
        level = vocabulary.theme_levels[theme]
        if theme == CLUSTER_THEME and offer.owner_kind == Organisation.Kind.CLUSTER:
            level = offer.owner_level
        levels[theme] = level
    return levels


def level_mismatches(offers: Iterable[OfferFacts], vocabulary: Vocabulary) -> list[dict[str, Any]]:
    found = []
    for offer in offers:
        levels = effective_theme_levels(offer, vocabulary)
        if not levels or offer.level in levels.values():
            continue
        expected = sorted(set(levels.values()), key=_LEVEL_ORDER.__getitem__)
        themes = sorted(levels, key=lambda slug: _theme_position(slug, vocabulary))
        found.append(
            {
                "external_id": offer.external_id,
                "title": offer.title,
                "level": offer.level,
                "owner": offer.owner,
                "owner_name": offer.owner_name or offer.owner,
                "operator": offer.operator,
                "themes": [{"theme": slug, "responsible_level": levels[slug]} for slug in themes],
                "expected_levels": expected,
                "reason": ngettext(
                    "Tilbuddet er på %(level)s niveau, men temaet %(themes)s hører under "
                    "%(expected)s niveau.",
                    "Tilbuddet er på %(level)s niveau, men temaerne %(themes)s hører under "
                    "%(expected)s niveau.",
                    len(themes),
                )
                % {
                    "level": level_adjective(offer.level),
                    "themes": _join([f"«{vocabulary.theme_names[slug]}»" for slug in themes]),
                    "expected": _join([level_adjective(e) for e in expected], _("eller")),
                },
            }
        )
    return sorted(found, key=lambda item: (item["level"], item["external_id"]))


# --- Overlaps ----------------------------------------------------------------------------------


def _jaccard(a: frozenset[Any], b: frozenset[Any]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def pair_overlap(a: OfferFacts, b: OfferFacts, vocabulary: Vocabulary) -> dict[str, Any] | None:
    """The overlap of two offers with its score and reasons, or None when they do not overlap."""
    themes = a.themes & b.themes
    phases = a.phases & b.phases
    sizes = a.sizes & b.sizes
    industries_a = a.industries or frozenset(_INDUSTRIES)
    industries_b = b.industries or frozenset(_INDUSTRIES)
    industries = industries_a & industries_b
    geography_a = vocabulary.municipalities_of(a)
    geography_b = vocabulary.municipalities_of(b)
    geography = geography_a & geography_b
    if (
        a.operator == b.operator
        or not themes
        or not phases
        or not sizes
        or not industries
        or not geography
    ):
        return None
    score = (
        WEIGHTS["phases"] * _jaccard(a.phases, b.phases)
        + WEIGHTS["sizes"] * _jaccard(a.sizes, b.sizes)
        + WEIGHTS["geography"] * _jaccard(geography_a, geography_b)
        + WEIGHTS["industries"] * _jaccard(industries_a, industries_b)
    )
    return {
        "offers": [a.external_id, b.external_id],
        "score": round(score, 3),
        "reasons": _pair_reasons(a, b, themes, phases, sizes, vocabulary),
    }


def _pair_reasons(
    a: OfferFacts,
    b: OfferFacts,
    themes: frozenset[str],
    phases: frozenset[str],
    sizes: frozenset[str],
    vocabulary: Vocabulary,
) -> list[str]:
    phase_labels = dict(Phase.choices)
    size_labels = dict(CompanySize.choices)
    theme_names = sorted(themes, key=lambda slug: _theme_position(slug, vocabulary))
    reasons = [
        _("Samme tema: %(themes)s.")
        % {"themes": _join([vocabulary.theme_names[slug] for slug in theme_names])},
        _("Samme faser: %(phases)s.")
        % {"phases": _join([str(phase_labels[p]) for p in _PHASES if p in phases])},
        _("Samme virksomhedsstørrelser: %(sizes)s.")
        % {"sizes": _join([str(size_labels[s]) for s in _SIZES if s in sizes])},
    ]
    if not a.industries and not b.industries:
        reasons.append(_("Begge er for alle brancher."))
    elif not a.industries or not b.industries:
        narrow = b if not a.industries else a
        reasons.append(
            _("Det ene tilbud er for alle brancher, det andet for %(codes)s.")
            % {"codes": _join(sorted(narrow.industries))}
        )
    else:
        reasons.append(
            _("Fælles brancher: %(codes)s.") % {"codes": _join(sorted(a.industries & b.industries))}
        )
    reasons.append(_geography_reason(a, b, vocabulary))
    reasons.append(
        _("Forskellige operatører: %(a)s og %(b)s.") % {"a": a.operator_name, "b": b.operator_name}
    )
    return reasons


def _place(offer: OfferFacts, vocabulary: Vocabulary) -> str:
    if offer.nationwide:
        return _("hele landet")
    names = [vocabulary.region_names[code] for code in sorted(offer.regions)]
    names += [vocabulary.municipality_names[code] for code in sorted(offer.municipalities)]
    return _join(names)


def _geography_reason(a: OfferFacts, b: OfferFacts, vocabulary: Vocabulary) -> str:
    place_a, place_b = _place(a, vocabulary), _place(b, vocabulary)
    if place_a == place_b:
        return _("Begge gælder i %(place)s.") % {"place": place_a}
    return _("Det ene gælder i %(a)s, det andet i %(b)s.") % {"a": place_a, "b": place_b}


def _bits(values: Iterable[str], vocabulary_values: Sequence[str]) -> int:
    chosen = set(values)
    return sum(1 << index for index, value in enumerate(vocabulary_values) if value in chosen)


def overlap_groups(offers: Sequence[OfferFacts], vocabulary: Vocabulary) -> list[dict[str, Any]]:
    """Overlapping offers grouped per theme (connected components), best-scoring first."""
    municipality_index = {code: i for i, code in enumerate(sorted(vocabulary.municipality_regions))}
    if len(municipality_index) > 128:
        raise ValueError("The geography masks hold at most 128 municipalities.")
    all_industries = (1 << len(_INDUSTRIES)) - 1

    n = len(offers)
    phases = np.array([_bits(o.phases, _PHASES) for o in offers], dtype=np.uint8)
    sizes = np.array([_bits(o.sizes, _SIZES) for o in offers], dtype=np.uint8)
    industries = np.array(
        [_bits(o.industries, _INDUSTRIES) or all_industries for o in offers], dtype=np.uint32
    )
    geo_low = np.zeros(n, dtype=np.uint64)
    geo_high = np.zeros(n, dtype=np.uint64)
    geography_cache: dict[tuple[bool, frozenset[int], frozenset[int]], tuple[int, int]] = {}
    for i, offer in enumerate(offers):
        key = (offer.nationwide, offer.regions, offer.municipalities)
        if key not in geography_cache:
            mask = 0
            for code in vocabulary.municipalities_of(offer):
                mask |= 1 << municipality_index[code]
            geography_cache[key] = (mask & (2**64 - 1), mask >> 64)
        geo_low[i], geo_high[i] = geography_cache[key]
    operator_ids: dict[str, int] = {}
    operators = np.array(
        [operator_ids.setdefault(o.operator, len(operator_ids)) for o in offers], dtype=np.int64
    )

    by_theme: dict[str, list[int]] = defaultdict(list)
    for i, offer in enumerate(offers):
        for theme in offer.themes:
            by_theme[theme].append(i)

    groups: list[dict[str, Any]] = []
    for theme in sorted(by_theme, key=lambda slug: _theme_position(slug, vocabulary)):
        members = np.array(by_theme[theme], dtype=np.int64)
        if len(members) < 2:
            continue
        left, right, scores = _overlapping_pairs(
            members, phases, sizes, industries, geo_low, geo_high, operators
        )
        if not len(left):
            continue
        groups.extend(_components(theme, members, left, right, scores, offers, vocabulary))
    groups.sort(key=lambda group: (-group["score"], -len(group["offers"]), group["theme"]))
    return groups


def _popcount(values: np.ndarray) -> np.ndarray:
    return np.bitwise_count(values).astype(np.float64)


def _overlapping_pairs(
    members: np.ndarray,
    phases: np.ndarray,
    sizes: np.ndarray,
    industries: np.ndarray,
    geo_low: np.ndarray,
    geo_high: np.ndarray,
    operators: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j, indices into ``members``) that overlap, with their scores."""
    k = len(members)
    ph, sz, ind = phases[members], sizes[members], industries[members]
    gl, gh, op = geo_low[members], geo_high[members], operators[members]
    block = max(1, _BLOCK_CELLS // k)
    lefts, rights = [], []
    columns = np.arange(k)
    for start in range(0, k, block):
        rows = np.arange(start, min(start + block, k))
        overlap = (
            (columns[None, :] > rows[:, None])
            & ((ph[rows, None] & ph[None, :]) != 0)
            & ((sz[rows, None] & sz[None, :]) != 0)
            & ((ind[rows, None] & ind[None, :]) != 0)
            & (((gl[rows, None] & gl[None, :]) | (gh[rows, None] & gh[None, :])) != 0)
            & (op[rows, None] != op[None, :])
        )
        row_index, column_index = np.nonzero(overlap)
        lefts.append(rows[row_index])
        rights.append(column_index)
    left = np.concatenate(lefts)
    right = np.concatenate(rights)
    if not len(left):
        return left, right, np.zeros(0)

    def jaccard(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return _popcount(x & y) / _popcount(x | y)

    geo_shared = _popcount(gl[left] & gl[right]) + _popcount(gh[left] & gh[right])
    geo_union = _popcount(gl[left] | gl[right]) + _popcount(gh[left] | gh[right])
    scores = (
        WEIGHTS["phases"] * jaccard(ph[left], ph[right])
        + WEIGHTS["sizes"] * jaccard(sz[left], sz[right])
        + WEIGHTS["geography"] * geo_shared / geo_union
        + WEIGHTS["industries"] * jaccard(ind[left], ind[right])
    )
    return left, right, scores


def _components(
    theme: str,
    members: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    scores: np.ndarray,
    offers: Sequence[OfferFacts],
    vocabulary: Vocabulary,
) -> list[dict[str, Any]]:
    k = len(members)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(k, k))
    _count, labels = connected_components(graph, directed=False)
    pair_labels = labels[left]
    score_sum = np.bincount(pair_labels, weights=scores)
    pair_count = np.bincount(pair_labels)
    order = np.lexsort((-scores, pair_labels))
    top_pairs: dict[int, list[int]] = defaultdict(list)
    for position in order:
        label = int(pair_labels[position])
        if len(top_pairs[label]) < PAIRS_PER_GROUP:
            top_pairs[label].append(int(position))

    theme_name = vocabulary.theme_names[theme]
    groups = []
    for label in np.unique(pair_labels):
        label = int(label)
        indices = [int(members[i]) for i in np.nonzero(labels == label)[0]]
        group_offers = [offers[i] for i in indices]
        pairs = []
        for position in top_pairs[label]:
            a, b = offers[int(members[left[position]])], offers[int(members[right[position]])]
            detail = pair_overlap(a, b, vocabulary)
            if detail is not None:
                pairs.append(detail)
        operator_names = sorted({o.operator_name for o in group_offers})
        groups.append(
            {
                "theme": theme,
                "theme_label": theme_name,
                "score": round(float(score_sum[label] / pair_count[label]), 3),
                "offers": sorted(o.external_id for o in group_offers),
                "operators": sorted({o.operator for o in group_offers}),
                "pair_count": int(pair_count[label]),
                "reasons": _group_reasons(theme_name, group_offers, operator_names, vocabulary),
                "pairs": pairs,
            }
        )
    return groups


def _group_reasons(
    theme_name: str,
    offers: Sequence[OfferFacts],
    operator_names: Sequence[str],
    vocabulary: Vocabulary,
) -> list[str]:
    reasons = [
        _("%(offers)d tilbud om «%(theme)s» fra %(operators)d forskellige operatører: %(names)s.")
        % {
            "offers": len(offers),
            "theme": theme_name,
            "operators": len(operator_names),
            "names": _join(list(operator_names)),
        }
    ]
    phase_labels = dict(Phase.choices)
    size_labels = dict(CompanySize.choices)
    phases = frozenset.intersection(*(o.phases for o in offers))
    sizes = frozenset.intersection(*(o.sizes for o in offers))
    if phases:
        reasons.append(
            ngettext(
                "Alle henvender sig til fasen %(phases)s.",
                "Alle henvender sig til faserne %(phases)s.",
                len(phases),
            )
            % {"phases": _join([str(phase_labels[p]).lower() for p in _PHASES if p in phases])}
        )
    if sizes:
        reasons.append(
            _("Alle henvender sig til virksomheder med %(sizes)s.")
            % {"sizes": _join([str(size_labels[s]).lower() for s in _SIZES if s in sizes])}
        )
    if not phases or not sizes:
        reasons.append(_("Målgrupperne overlapper to og to, men ikke alle på én gang."))
    if all(o.nationwide for o in offers):
        reasons.append(_("Alle gælder i hele landet."))
    else:
        common = frozenset.intersection(*(vocabulary.municipalities_of(o) for o in offers))
        if common:
            reasons.append(
                ngettext(
                    "Alle kan bruges i %(count)d fælles kommune.",
                    "Alle kan bruges i %(count)d fælles kommuner.",
                    len(common),
                )
                % {"count": len(common)}
            )
        else:
            reasons.append(_("Geografien overlapper to og to."))
    return reasons


# --- Regional offers and consolidation ---------------------------------------------------------


def regional_not_nationwide(
    offers: Iterable[OfferFacts], vocabulary: Vocabulary
) -> list[dict[str, Any]]:
    found = [
        {
            "external_id": offer.external_id,
            "title": offer.title,
            "owner": offer.owner,
            "owner_name": offer.owner_name or offer.owner,
            "regions": sorted(offer.regions),
            "municipalities": sorted(offer.municipalities),
            "reason": _("Et regionalt tilbud, der kun gælder i %(place)s, ikke i hele landet.")
            % {"place": _place(offer, vocabulary)},
        }
        for offer in offers
        if offer.level == Level.REGION and not offer.nationwide
    ]
    return sorted(found, key=lambda item: item["external_id"])


def consolidation(offers: Iterable[OfferFacts], vocabulary: Vocabulary) -> list[dict[str, Any]]:
    """Per theme and level: how many offers and how many distinct operators."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    operators: dict[tuple[str, str], set[str]] = defaultdict(set)
    for offer in offers:
        for theme in offer.themes:
            counts[theme, offer.level] += 1
            operators[theme, offer.level].add(offer.operator)
    rows = [
        {
            "theme": theme,
            "theme_label": vocabulary.theme_names[theme],
            "responsible_level": vocabulary.theme_levels[theme],
            "level": level,
            "offers": count,
            "operators": len(operators[theme, level]),
        }
        for (theme, level), count in counts.items()
    ]
    return sorted(
        rows,
        key=lambda row: (_theme_position(row["theme"], vocabulary), _LEVEL_ORDER[row["level"]]),
    )


def analyse(offers: Sequence[OfferFacts], vocabulary: Vocabulary) -> dict[str, Any]:
    """The whole division-of-labour report on plain rows."""
    return {
        "level_mismatches": level_mismatches(offers, vocabulary),
        "overlaps": overlap_groups(offers, vocabulary),
        "regional_not_nationwide": regional_not_nationwide(offers, vocabulary),
        "consolidation": consolidation(offers, vocabulary),
    }


def _theme_position(slug: str, vocabulary: Vocabulary) -> tuple[int, str]:
    order = vocabulary.theme_order
    return (order.index(slug) if slug in order else len(order), slug)


def _join(items: Sequence[str], word: str | None = None) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word or _('og')} {items[-1]}"


def level_adjective(level: str) -> str:
    """'statsligt', 'regionalt', 'kommunalt' (as in "på kommunalt niveau")."""
    return {
        Level.STATE: _("statsligt"),
        Level.REGION: _("regionalt"),
        Level.MUNICIPALITY: _("kommunalt"),
    }[Level(level)]


# --- From the database -------------------------------------------------------------------------


def load_vocabulary() -> Vocabulary:
    themes = list(Theme.objects.order_by("position", "name"))
    return Vocabulary(
        theme_levels={t.slug: t.responsible_level for t in themes},
        theme_names={t.slug: t.label for t in themes},
        theme_order=[t.slug for t in themes],
        municipality_regions=dict(Municipality.objects.values_list("code", "region_id")),
        region_names=dict(Region.objects.values_list("code", "name")),
        municipality_names={m.code: str(m) for m in Municipality.objects.all()},
    )


# Where each of ``OfferFacts``'s fields is read from (themes come from the through table).
_FACT_LOOKUPS: dict[str, str] = {
    "external_id": "external_id",
    "title": "title",
    "level": "level",
    "owner": "owner__slug",
    "owner_name": "owner__name",
    "owner_kind": "owner__kind",
    "owner_level": "owner__level",
    "operator": "operator__slug",
    "operator_name": "operator__name",
    "phases": "phases",
    "sizes": "company_sizes",
    "industries": "industries",
    "nationwide": "nationwide",
    "regions": "regions",
    "municipalities": "municipalities",
}
_SET_FACTS = frozenset({"phases", "sizes", "industries", "regions", "municipalities"})


def load_catalogue(*, today: dt.date) -> list[OfferFacts]:
    """The published offers open on ``today`` as plain rows (two queries)."""
    offers = Offer.objects.published().open_on(today)
    themes: dict[int, set[str]] = defaultdict(set)
    for offer_id, slug in Offer.themes.through.objects.filter(
        offer__in=offers.values("pk")
    ).values_list("offer_id", "theme__slug"):
        themes[offer_id].add(slug)
    rows = offers.order_by("external_id").values_list("pk", *_FACT_LOOKUPS.values())
    return [_facts(values, themes[pk]) for pk, *values in rows]


def _facts(values: Sequence[Any], themes: Iterable[str]) -> OfferFacts:
    facts: dict[str, Any] = {
        name: frozenset(value) if name in _SET_FACTS else value
        for name, value in zip(_FACT_LOOKUPS, values, strict=True)
    }
    return OfferFacts(themes=frozenset(themes), **facts)


def division_of_labour(*, today: dt.date | None = None) -> dict[str, Any]:
    """The report for today's catalogue, cached until an offer changes (or ten minutes pass)."""
    today = today or timezone.localdate()
    # Any write to an offer moves updated_at or the count, so the key changes with the data.
    state = Offer.objects.aggregate(changed=Max("updated_at"), count=Count("pk"))
    key = (
        f"offers:division-of-labour:{get_language()}:{today.isoformat()}:{state['count']}:"
        f"{state['changed'].isoformat() if state['changed'] else '-'}"
    )
    report: dict[str, Any] | None = cache.get(key)
    if report is None:
        report = {
            "date": today.isoformat(),
            **analyse(load_catalogue(today=today), load_vocabulary()),
        }
        cache.set(key, report, CACHE_SECONDS)
    return report
