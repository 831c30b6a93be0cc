"""Load the offers worth scoring for a guidance request.

Three steps, each where it is cheapest:

1. PostgreSQL stems the needs text in Danish and tells which stems the catalogue knows and how
   common each is (the same statement reads the catalogue's version); only informative stems
   count (:func:`informative_stems`).
2. PostgreSQL finds the published offers whose stored search vector contains each of those
   stems, through the GIN index, with ``ts_rank`` and the stem's positions per weight class
   (``offers_matching_published_weights``, migration ``offers.0014``), once per stem and catalogue
   version: the copy keeps them. The catalogue's matching columns, held in this process as arrays
   under that version (``routing.catalogue``), then give the eligible offers (open now, the
   company's place, phase, size and industry) that share a chosen theme or match the text, ordered
   by the score of ``routing.matching`` and cut at :data:`CANDIDATE_LIMIT`.
3. The copy gives those offers as plain data with their ``ts_rank_cd`` (cover density, as
   ``routing.matching`` expects; computed exactly from what the copy keeps per stem), reading the
   texts of an offer from PostgreSQL the first time it is chosen under a version, and
   ``routing.matching`` scores and explains.

The needs are free text ("Vi vil gerne eksportere til Tyskland og har brug for kapital"), so the
words are ORed: PostgreSQL's ``websearch`` syntax would AND them and find almost nothing. Each word
is reduced to letters and digits before it reaches the database, so no input can inject query
operators; the ``danish`` configuration drops stop words and stems the rest. Compound words are
split the way the catalogue indexes them (``offers.compounds``), so "eksportrådgivning" in the
needs also finds an offer about "rådgivning".

Only informative words count. A stem the catalogue does not contain cannot match, and a stem found
in a large share of the catalogue ("virksomhed", "rådgivning", "forløb") says nothing about which
offer fits, while it would make most offers "match the text" and cost a rank computation each.
``ts_rank_cd`` has no notion of how common a word is, so this is also what keeps the text reason
("Matcher det, du skriver om dit behov") meaningful. The word frequencies come from the catalogue's
word list (``offers.OfferSearchTerm``, rebuilt by ``offers.search.refresh_search_vectors``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import connection

from offers.catalogue_version import CHANGED_HERE_SQL, VERSION_SQL
from offers.compounds import CompoundSplitter
from routing.catalogue import catalogue_at
from routing.matching import CompanyProfile, OfferCandidate
from routing.vocabulary import Vocabulary, default_vocabulary

#: At most this many offers reach the pure scoring, best first by the same score with
#: ``ts_rank`` for the text part. On 200 varied requests over 10,000 offers the shown top ten
#: were the same as with a pool of 5,000 (``benchmarks/routing.py`` data).
CANDIDATE_LIMIT = 120
#: Words of the needs text used for ranking; a longer text adds little and costs time.
MAX_QUERY_WORDS = 40
#: A stem in more than this share of the catalogue is too common to tell offers apart ...
COMMON_SHARE = 0.2
#: ... unless the catalogue is small: below this many offers per stem nothing is too common.
COMMON_MIN_DOCUMENTS = 50
#: When every known stem is common, the rarest few still count, so a need is never ignored.
RAREST_KEPT = 2

_WORD = re.compile(r"\w+", re.UNICODE)


def expanded_needs(needs: str, vocabulary: Vocabulary | None = None) -> str:
    """The needs text with the Danish search words of what it is about (the needs vocabulary,
    ``routing.vocabulary``), so "sell abroad" or "penge" finds "eksport" or "finansiering"."""
    extra = (vocabulary or default_vocabulary()).expansion(needs)
    return f"{needs} {' '.join(extra)}" if extra else needs


def needs_words(needs: str) -> list[str]:
    """The distinct words of a needs text and the parts of its compounds, lower-cased, letters
    and digits only, in order."""
    # A splitter per call: its memo must not grow with every visitor's words in a long process.
    splitter = CompoundSplitter()
    words: dict[str, None] = {}
    for word in _WORD.findall(needs.lower()):
        cleaned = word.replace("_", "")
        if len(cleaned) < 2:
            continue
        for part in (cleaned, *splitter.split(cleaned)):
            words.setdefault(part, None)
        if len(words) >= MAX_QUERY_WORDS:
            break
    return list(words)[:MAX_QUERY_WORDS]


# One row at least (the version), plus one per stem of the needs with the number of published
# offers that contain it (0: unknown to the catalogue). Composed of constants only.
_VERSION_AND_STEMS_SQL = f"""
SELECT v.version, v.changed_here, s.lexeme, s.documents
FROM (SELECT {VERSION_SQL} AS version, {CHANGED_HERE_SQL} AS changed_here) AS v
LEFT JOIN LATERAL (
    SELECT q.lexeme, coalesce(sum(t.documents), 0) AS documents
    FROM unnest(tsvector_to_array(to_tsvector('danish', %s))) AS q(lexeme)
    LEFT JOIN offers_offersearchterm t ON t.lexeme = q.lexeme
    GROUP BY q.lexeme
) AS s ON true
"""  # noqa: S608


def _version_and_stems(needs: str) -> tuple[str | None, dict[str, int]]:
    """The catalogue version to reuse a kept copy under (None: do not) and the Danish stems of
    the needs with how many published offers contain each."""
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_AND_STEMS_SQL, [" ".join(needs_words(needs))])
        rows = cursor.fetchall()
    version, changed_here = rows[0][0], rows[0][1]
    stems = {lexeme: int(documents) for _v, _c, lexeme, documents in rows if lexeme is not None}
    return (None if changed_here or version is None else str(version)), stems


def informative_stems(stems: Mapping[str, int], catalogue_size: int) -> list[str]:
    """The stems worth matching on, rarest first.

    Known to the catalogue and in at most :data:`COMMON_SHARE` of it; when none qualifies, the
    :data:`RAREST_KEPT` rarest known stems.
    """
    known = sorted((documents, lexeme) for lexeme, documents in stems.items() if documents)
    if not known:
        return []
    limit = max(COMMON_MIN_DOCUMENTS, COMMON_SHARE * catalogue_size)
    informative = [lexeme for documents, lexeme in known if documents <= limit]
    return informative or [lexeme for _documents, lexeme in known[:RAREST_KEPT]]


def terms_tsquery(terms: Sequence[str]) -> str:
    """``to_tsquery`` text ORing already-stemmed terms (letters and digits only, so quoting
    each is enough)."""
    return " | ".join(f"'{term}'" for term in terms)


@dataclass(frozen=True, slots=True)
class Candidates:
    """The offers to score, best first, and the theme labels the reasons use."""

    offers: list[OfferCandidate]
    theme_labels: Mapping[str, str]


def load_candidates(
    company: CompanyProfile, *, day: dt.date, limit: int = CANDIDATE_LIMIT
) -> list[OfferCandidate]:
    """The open, eligible offers that fit a chosen theme or the needs text, as plain data."""
    return find_candidates(company, day=day, limit=limit).offers


def find_candidates(
    company: CompanyProfile,
    *,
    day: dt.date,
    limit: int = CANDIDATE_LIMIT,
    vocabulary: Vocabulary | None = None,
) -> Candidates:
    """The offers to score for ``company`` (see the module docstring): one query once the copy
    knows the stems of the needs and the texts of the chosen offers.

    The company's ``origin_offer_id`` (the offer page it came from) is always among them when
    eligible, first.
    """
    vocabulary = vocabulary or default_vocabulary()
    version, stems = _version_and_stems(expanded_needs(company.needs_text, vocabulary))
    catalogue = catalogue_at(version)
    terms = informative_stems(stems, len(catalogue))
    hit, rank = catalogue.text_match(terms)
    # The themes the text implies choose candidates too ("sælge i udlandet" finds export offers).
    implied = vocabulary.implied_themes(vocabulary.need_concepts(company.needs_text))
    pooled = dataclasses.replace(company, themes=tuple(dict.fromkeys((*company.themes, *implied))))
    pool = catalogue.pool(pooled, day=day, hit=hit, rank=rank, limit=limit)
    return Candidates(
        offers=catalogue.candidates(pool, day=day, text_rank=catalogue.cover_density(terms)),
        theme_labels=catalogue.theme_labels,
    )
