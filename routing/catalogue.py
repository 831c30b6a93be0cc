"""The published catalogue as arrays, to choose the offers a guidance request is scored on.

Every guidance request asks the same question of the whole catalogue: which published offers can
this company use (open now, its place, phase, size and industry) and which of them fit its themes
best. Answering that in SQL means testing five array conditions on every offer for every request
(about 10 ms at 10,000 offers); answering it from a copy of those columns held as NumPy arrays takes
well under a millisecond. The copy is exact, not a cache with an expiry: it is taken under the
catalogue's version (``offers.catalogue_version``), which PostgreSQL moves at the commit of every
change to an offer, its themes, what it cannot be combined with or a theme, and it is replaced as
soon as the version read for a request differs. Inside a transaction that has itself changed the
catalogue a fresh copy is read and not kept.

The copy chooses which offers reach the scoring (``routing.candidates``) and hands them to
``routing.matching`` as plain data, which checks every rule once more. The offers' texts, which
only the chosen ones need, are read the first time an offer is chosen under a version and kept
with the copy. A request therefore judges the catalogue as it was when the request read the
version: an offer withdrawn or changed later is seen by the next request, which reads the new
version and so a new copy.

The rules here are those of ``routing.matching.eligibility_failures`` and the score that of
``routing.matching.score``, with ``ts_rank`` for the text part when choosing. The final score uses
``ts_rank_cd`` (cover density), which the copy computes exactly from what it kept per word
(:meth:`Catalogue.cover_density`). Tests hold each to PostgreSQL's answers.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection
from numpy.typing import NDArray

from offers.catalogue_version import VERSION_SQL
from routing.matching import (
    INDUSTRY_BONUS,
    LOCAL_BONUS,
    REGIONAL_BONUS,
    TEXT_RANK_HALF,
    TEXT_WEIGHT,
    THEME_WEIGHT,
    CompanyProfile,
    OfferCandidate,
    company_section,
    size_class,
)

# One statement, so the version it reads and the offers and themes it reads are from the same
# snapshot: the copy is labelled with the version of exactly the data it holds. The first row
# carries the version and the themes (as JSON); an empty catalogue still gives that one row.
_CATALOGUE_SQL = f"""
SELECT CASE WHEN coalesce(o.n, 1) = 1 THEN v.version END,
       CASE WHEN coalesce(o.n, 1) = 1 THEN t.themes END,
       o.id, o.external_id, o.valid_from, o.valid_to, o.application_deadline, o.nationwide,
       o.regions, o.municipalities, o.phases, o.company_sizes, o.industries, o.theme_ids
FROM (SELECT {VERSION_SQL} AS version) AS v
CROSS JOIN (
    SELECT coalesce(json_agg(json_build_array(id, slug, name) ORDER BY id), '[]') AS themes
    FROM offers_theme
) AS t
LEFT JOIN LATERAL (
    SELECT row_number() OVER (ORDER BY p.id) AS n, p.id, p.external_id, p.valid_from,
           p.valid_to, p.application_deadline, p.nationwide, p.regions, p.municipalities,
           p.phases, p.company_sizes, p.industries, p.theme_ids
    FROM offers_offer p WHERE p.status = 'published'
) AS o ON true
ORDER BY o.id NULLS FIRST
"""  # noqa: S608

# Dates as day numbers; an open end is further away than any real date.
_NO_START = 0
_NO_END = dt.date.max.toordinal() + 1


@dataclass(frozen=True, slots=True, eq=False)
class _Values:
    """One restriction column (phases, sizes or industries): which offers list which value.

    ``open`` marks offers that list none (no restriction); ``lists[:, column[value]]`` those
    that list ``value``.
    """

    open: NDArray[np.bool_]
    lists: NDArray[np.bool_]
    column: Mapping[str, int]

    @classmethod
    def of(cls, rows: Sequence[Sequence[str]]) -> _Values:
        vocabulary = sorted({value for values in rows for value in values})
        column = {value: index for index, value in enumerate(vocabulary)}
        lists = np.zeros((len(rows), len(vocabulary)), dtype=np.bool_)
        for row, values in enumerate(rows):
            for value in values:
                lists[row, column[value]] = True
        return cls(
            open=np.fromiter((not values for values in rows), np.bool_, len(rows)),
            lists=lists,
            column=column,
        )

    def listing(self, value: str | None) -> NDArray[np.bool_]:
        """The offers that list ``value``."""
        index = self.column.get(value) if value is not None else None
        if index is None:
            return np.zeros(len(self.open), dtype=np.bool_)
        return self.lists[:, index]

    def allow(self, value: str | None) -> NDArray[np.bool_]:
        """Offers whose restriction lets ``value`` through (an unknown value passes all)."""
        if value is None:
            return np.ones(len(self.open), dtype=np.bool_)
        return self.open | self.listing(value)


type _Columns = tuple[
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    bool,
    tuple[int, ...],
    tuple[int, ...],
]


@dataclass(frozen=True, slots=True, eq=False)
class _Posting:
    """The published offers whose search vector contains one stem: their rows, their
    ``ts_rank`` for the stem, and what the stem adds to their ``ts_rank_cd`` (below)."""

    rows: NDArray[np.intp]
    ranks: NDArray[np.float64]
    covers: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class _Texts:
    """What the scoring reads of an offer besides its matching columns."""

    title: str
    summary: str
    expected_result: str
    description: str
    cannot_combine_with: tuple[str, ...]
    industry_groups: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Catalogue:
    """The matching columns of every published offer, ordered by primary key."""

    version: str | None
    ids: NDArray[np.int64]
    external_ids: tuple[str, ...]
    row_of: Mapping[str, int]
    #: Each offer's place in ``external_id`` order, the final tie-break.
    external_order: NDArray[np.int64]
    opens: NDArray[np.int64]
    closes: NDArray[np.int64]
    nationwide: NDArray[np.bool_]
    #: Rows of the offers that list a municipality / a region by code.
    by_municipality: Mapping[int, NDArray[np.intp]]
    by_region: Mapping[int, NDArray[np.intp]]
    phases: _Values
    sizes: _Values
    industries: _Values
    themes: _Values
    #: Theme primary key → slug, and slug → Danish label (lower case, as reasons use it).
    theme_slugs: Mapping[int, str]
    theme_labels: Mapping[str, str]
    #: Each offer's matching columns as ``routing.matching`` reads them: themes (slugs, sorted),
    #: phases, sizes, industries, nationwide, regions, municipalities.
    columns: tuple[_Columns, ...] = ()
    #: Stem → the offers whose search vector contains it (:class:`_Posting`), read from
    #: PostgreSQL the first time a request needs the stem under this version.
    postings: dict[str, _Posting] = field(default_factory=dict)
    #: Row → the offer's texts (:class:`_Texts`), read the first time the offer is chosen.
    texts: dict[int, _Texts] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def eligible(self, company: CompanyProfile, day: dt.date) -> NDArray[np.bool_]:
        """The offers the company can use on ``day`` (``matching.eligibility_failures``)."""
        today = day.toordinal()
        ok = (self.opens <= today) & (self.closes >= today)
        ok &= self._place(company)
        ok &= self.phases.allow(company.phase)
        ok &= self.sizes.allow(size_class(company.employees))
        # An unknown industry passes only offers open to every industry.
        ok &= self.industries.open | self.industries.listing(company_section(company))
        return ok

    def text_match(self, terms: Sequence[str]) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        """Which offers match any of the stemmed ``terms``, and their ``ts_rank`` against the
        query ORing them (PostgreSQL's ``ts_rank`` of ``t1 | ... | tk`` is the mean of the
        single-term ranks, so the per-term ranks kept in :attr:`postings` give it exactly)."""
        count = len(self)
        hit = np.zeros(count, dtype=np.bool_)
        rank = np.zeros(count)
        terms = list(dict.fromkeys(terms))
        if not terms or not count:
            return hit, rank
        missing = [term for term in terms if term not in self.postings]
        if missing:
            self.postings.update(_postings(self.ids, missing))
        for term in terms:
            posting = self.postings[term]
            hit[posting.rows] = True
            rank[posting.rows] += posting.ranks
        return hit, rank / len(terms)

    def cover_density(self, terms: Sequence[str]) -> NDArray[np.float32]:
        """Each offer's ``ts_rank_cd`` against the query ORing the stemmed ``terms``, exactly as
        PostgreSQL gives it (default weights, no normalisation); call :meth:`text_match` first.

        For a query of ORed words every matching position is a cover of its own, worth its
        class's weight ``1 / (1 / w)``, which in double precision is the float4 weight itself:
        the rank is the sum of the weights of the positions of the query's words, rounded to
        float4. A sum of at most 256 positions per word (PostgreSQL keeps no more) of four float4
        weights is exact in double precision whatever its order, so adding each word's part
        (:func:`_postings`) gives PostgreSQL's sum, and rounding it gives its float4. (PostgreSQL
        merges a position only with the same word's, and a word lists each position once.)
        """
        total = np.zeros(len(self))
        for term in dict.fromkeys(terms):
            posting = self.postings[term]
            total[posting.rows] += posting.covers
        return total.astype(np.float32)

    def candidates(
        self, pool: Sequence[int], *, day: dt.date, text_rank: NDArray[np.float32]
    ) -> list[OfferCandidate]:
        """The offers of ``pool`` (primary keys, from :meth:`pool`; one not in the copy is left
        out) as ``routing.matching`` scores them, in pool order, with ``text_rank`` (from
        :meth:`cover_density`).

        Their texts are read once per offer and version; an offer PostgreSQL no longer has
        published when its texts are read is left out (and read again next time).
        """
        wanted = np.array(pool, dtype=np.int64)
        found_at = np.searchsorted(self.ids, wanted)
        rows = [
            int(row)
            for row, pk in zip(found_at, wanted, strict=True)
            if row < len(self.ids) and self.ids[row] == pk
        ]
        missing = [row for row in rows if row not in self.texts]
        if missing:
            self.texts.update(_texts(self.ids, missing))
        today = day.toordinal()
        found = []
        for row in rows:
            texts = self.texts.get(row)
            if texts is None:
                continue
            themes, phases, sizes, industries, nationwide, regions, municipalities = self.columns[
                row
            ]
            found.append(
                OfferCandidate(
                    external_id=self.external_ids[row],
                    title=texts.title,
                    themes=themes,
                    phases=phases,
                    company_sizes=sizes,
                    industries=industries,
                    nationwide=nationwide,
                    region_codes=regions,
                    municipality_codes=municipalities,
                    is_open=bool(self.opens[row] <= today <= self.closes[row]),
                    text_rank=_as_read(text_rank[row]),
                    summary=texts.summary,
                    expected_result=texts.expected_result,
                    description=texts.description,
                    cannot_combine_with=texts.cannot_combine_with,
                    industry_groups=texts.industry_groups,
                )
            )
        return found

    def pool(
        self,
        company: CompanyProfile,
        *,
        day: dt.date,
        hit: NDArray[np.bool_],
        rank: NDArray[np.float64],
        limit: int,
    ) -> list[int]:
        """Primary keys of the best ``limit`` eligible offers that share a chosen theme, match
        the needs text (``hit``, with ``rank`` from :meth:`text_match`) or are the offer the
        company came from; origin first, then by score, then by ``external_id``."""
        count = len(self)
        if not count or limit <= 0:
            return []
        chosen = list(dict.fromkeys(company.themes))
        covered = np.zeros(count)
        for slug in chosen:
            covered += self.themes.listing(slug)
        origin = np.zeros(count, dtype=np.bool_)
        origin_row = self.row_of.get(company.origin_offer_id or "")
        if origin_row is not None:
            origin[origin_row] = True

        candidates = np.flatnonzero(self.eligible(company, day) & ((covered > 0) | hit | origin))
        if not len(candidates):
            return []
        score = np.zeros(len(candidates))
        if chosen:
            score += covered[candidates] * (THEME_WEIGHT / len(chosen))
        text = rank[candidates]
        score += TEXT_WEIGHT * text / (text + TEXT_RANK_HALF)
        score += self._bonus(company)[candidates]
        order = np.lexsort((self.external_order[candidates], -score, ~origin[candidates]))[:limit]
        return [int(pk) for pk in self.ids[candidates[order]]]

    def _place(self, company: CompanyProfile) -> NDArray[np.bool_]:
        local, regional = self._local(company)
        return self.nationwide | local | regional

    def _local(self, company: CompanyProfile) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Offers listing the company's municipality, and those listing its region (a company
        without a municipality has neither)."""
        local = np.zeros(len(self), dtype=np.bool_)
        regional = np.zeros(len(self), dtype=np.bool_)
        if company.municipality_code is not None:
            local[self.by_municipality.get(company.municipality_code, _NO_ROWS)] = True
            if company.region_code is not None:
                regional[self.by_region.get(company.region_code, _NO_ROWS)] = True
        return local, regional

    def _bonus(self, company: CompanyProfile) -> NDArray[np.float64]:
        local, regional = self._local(company)
        bonus = np.where(local, LOCAL_BONUS, np.where(regional, REGIONAL_BONUS, 0.0))
        section = company_section(company)
        if section is not None:
            bonus = bonus + np.where(self.industries.listing(section), INDUSTRY_BONUS, 0)
        return bonus


_NO_ROWS: NDArray[np.intp] = np.zeros(0, dtype=np.intp)


def _as_read(value: np.float32) -> float:
    """A float4 as psycopg reads PostgreSQL's: the shortest decimal that is this float4 (5.4, not
    5.400000095367432). The two shortest-digit algorithms agree below 2**24 (tested); a rank is
    at most 40 words of 256 positions of weight 1.0."""
    return float(np.format_float_positional(value, unique=True))


def load_catalogue(version: str | None) -> Catalogue:
    """Read the published catalogue's matching columns, the themes and the version they are at
    (one query). The copy is labelled with that version, or None when ``version`` is None (the
    reader's transaction has changed the catalogue itself: nothing of it may be kept)."""
    with connection.cursor() as cursor:
        cursor.execute(_CATALOGUE_SQL)
        found: list[tuple[Any, ...]] = cursor.fetchall()
    read_version, themes = found[0][0], found[0][1] or []
    rows = [row[2:] for row in found if row[2] is not None]
    if version is not None:
        version = None if read_version is None else str(read_version)
    theme_slugs = {int(pk): str(slug) for pk, slug, _name in themes}
    by_municipality: dict[int, list[int]] = {}
    by_region: dict[int, list[int]] = {}
    for row, offer in enumerate(rows):
        for code in offer[7] or ():
            by_municipality.setdefault(int(code), []).append(row)
        for code in offer[6] or ():
            by_region.setdefault(int(code), []).append(row)
    external_ids = tuple(str(offer[1]) for offer in rows)
    theme_lists = [
        [theme_slugs[pk] for pk in offer[11] or () if pk in theme_slugs] for offer in rows
    ]
    external_order = np.empty(len(rows), dtype=np.int64)
    external_order[sorted(range(len(rows)), key=external_ids.__getitem__)] = np.arange(len(rows))
    return Catalogue(
        version=version,
        ids=np.fromiter((offer[0] for offer in rows), np.int64, len(rows)),
        external_ids=external_ids,
        row_of={external_id: row for row, external_id in enumerate(external_ids)},
        external_order=external_order,
        opens=np.fromiter(
            (offer[2].toordinal() if offer[2] else _NO_START for offer in rows),
            np.int64,
            len(rows),
        ),
        closes=np.fromiter(
            (
                min((d.toordinal() for d in (offer[3], offer[4]) if d), default=_NO_END)
                for offer in rows
            ),
            np.int64,
            len(rows),
        ),
        nationwide=np.fromiter((bool(offer[5]) for offer in rows), np.bool_, len(rows)),
        by_municipality={code: np.array(r, dtype=np.intp) for code, r in by_municipality.items()},
        by_region={code: np.array(r, dtype=np.intp) for code, r in by_region.items()},
        phases=_Values.of([offer[8] or () for offer in rows]),
        sizes=_Values.of([offer[9] or () for offer in rows]),
        industries=_Values.of([offer[10] or () for offer in rows]),
        themes=_Values.of(theme_lists),
        theme_slugs=theme_slugs,
        theme_labels={slug: name.lower() for _pk, slug, name in themes},
        columns=tuple(
            (
                tuple(sorted(theme_list)),
                tuple(offer[8] or ()),
                tuple(offer[9] or ()),
                tuple(offer[10] or ()),
                bool(offer[5]),
                tuple(offer[6] or ()),
                tuple(offer[7] or ()),
            )
            for offer, theme_list in zip(rows, theme_lists, strict=True)
        ),
    )


# ``ts_rank``, and what the stem adds to ``ts_rank_cd``: its positions of each weight class (D, C,
# B, A), from the GIN index (``offers_matching_published_weights``, migration ``offers.0014``).
_POSTINGS_SQL = """
SELECT t.term, m.id, m.rank, m.d, m.c, m.b, m.a
FROM unnest(%s::text[]) AS t(term)
CROSS JOIN LATERAL offers_matching_published_weights(to_tsquery('simple', quote_literal(t.term)))
    AS m
"""
#: ``ts_rank_cd``'s default weights of the classes D, C, B and A, as the float4 values PostgreSQL
#: holds (a position of a class adds ``1 / (1 / w)`` in double precision, which is exactly this).
_COVER_WEIGHTS = np.array([0.1, 0.2, 0.4, 1.0], dtype=np.float32).astype(np.float64)


def _postings(ids: NDArray[np.int64], terms: Sequence[str]) -> dict[str, _Posting]:
    """For each stem, the rows (in ``ids``) of the published offers containing it, their
    ``ts_rank`` for it and its part of their ``ts_rank_cd``, from the GIN index (one query for
    all ``terms``)."""
    with connection.cursor() as cursor:
        cursor.execute(_POSTINGS_SQL, [list(terms)])
        rows = cursor.fetchall()
    found: dict[str, tuple[list[int], list[float], list[tuple[float, ...]]]] = {
        term: ([], [], []) for term in terms
    }
    for term, pk, rank, *counts in rows:
        found[term][0].append(pk)
        found[term][1].append(rank)
        found[term][2].append(tuple(counts))
    postings = {}
    for term, (pks, ranks, counts) in found.items():
        # Whole numbers below 257 times float4 weights: every product and sum is exact.
        covers = np.array(counts, dtype=np.float64).reshape(-1, 4) @ _COVER_WEIGHTS
        wanted = np.array(pks, dtype=np.int64)
        positions = np.searchsorted(ids, wanted)
        known = positions < len(ids)
        known[known] = ids[positions[known]] == wanted[known]
        # An offer published after this copy was taken is not in it; the next copy has it.
        postings[term] = _Posting(
            rows=positions[known].astype(np.intp),
            ranks=np.array(ranks, dtype=np.float64)[known],
            covers=np.array(covers, dtype=np.float64)[known],
        )
    return postings


_TEXTS_SQL = """
SELECT o.id, o.title, o.summary, o.expected_result, o.description,
       ARRAY(SELECT other.external_id FROM offers_offer_cannot_combine_with c
             JOIN offers_offer other ON other.id = c.to_offer_id
             WHERE c.from_offer_id = o.id ORDER BY other.external_id),
       o.industry_groups
FROM offers_offer o
WHERE o.id = ANY(%s) AND o.status = 'published'
"""


def _texts(ids: NDArray[np.int64], rows: Sequence[int]) -> dict[int, _Texts]:
    """The texts of the offers at ``rows`` that are still published (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_TEXTS_SQL, [[int(ids[row]) for row in rows]])
        found = cursor.fetchall()
    row_of = {int(ids[row]): row for row in rows}
    return {
        row_of[pk]: _Texts(
            title=title,
            summary=summary or "",
            expected_result=expected_result or "",
            description=description or "",
            cannot_combine_with=tuple(combine or ()),
            industry_groups=tuple(groups or ()),
        )
        for pk, title, summary, expected_result, description, combine, groups in found
    }


class _Kept:
    """The copy this process keeps (one per process; a thread may read while another replaces
    it)."""

    lock = threading.Lock()
    #: Held while a thread reads a new version, so the process's other threads wait for that
    #: copy instead of each reading its own: under a spike, every thread of every process would
    #: otherwise read the catalogue at once after each change (about a second of Python each).
    loading = threading.Lock()
    catalogue: Catalogue | None = None


def catalogue_at(version: str | None) -> Catalogue:
    """The catalogue as of ``version``: the kept copy if it is that version, else a new one
    (kept unless ``version`` is None, which means "do not reuse": see
    ``offers.catalogue_version``)."""
    kept = _Kept.catalogue
    if version is not None and kept is not None and kept.version == version:
        return kept
    if version is None:
        return load_catalogue(None)
    with _Kept.loading:
        kept = _Kept.catalogue
        if kept is not None and kept.version == version:
            return kept  # read by the thread this one waited for
        fresh = load_catalogue(version)
        if fresh.version is not None:
            # Labelled with the version of its own data, which may be newer than ``version``.
            with _Kept.lock:
                _Kept.catalogue = fresh
        return fresh


def forget() -> None:
    """Drop the kept copy (tests)."""
    with _Kept.lock:
        _Kept.catalogue = None
