"""The search index: the columns of an offer that catalogue search reads, and keeping them fresh.

``refresh_search_vectors`` recomputes everything the search derives from an offer. Every write
must be followed by it, in the same transaction (the contract):

- after saving an offer or changing its themes: ``refresh_search_vectors(offer_ids=[offer.pk])``;
- after renaming a theme: ``refresh_search_vectors(theme_ids=[theme.pk])``;
- after renaming an organisation: ``refresh_search_vectors(organisation_ids=[org.pk])``;
- with no arguments it refreshes the whole catalogue (and rebuilds the word list from scratch).

The services in ``offers.services`` keep the contract (``offer_save`` and the status changes,
``theme_save``, ``organisation_save``), and so does the importer, once for all imported rows; the
admin, the API and the import command change the catalogue only through them.

What is indexed, and with which weight (``ts_rank_cd`` weighs A > B > C > D):

- A: the title;
- B: the summary and the theme names (a theme is a strong statement of what the offer is about);
- C: the description and the expected result;
- D: the owner's and operator's names (so "Eksportrådet" finds their offers, ranked low).

Each weight class also gets the parts of its compound words (see ``offers.compounds``), because
the ``danish`` configuration keeps "eksportrådgivning" as one lexeme.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from offers.compounds import CompoundSplitter, words_in
from offers.models import CompanySize, Industry, Level, Offer, OfferSearchTerm, Phase, Price

SEARCH_CONFIG = "danish"
REFRESH_BATCH = 2000

# Facet bits: the fixed-vocabulary facets of an offer in one bigint (``Offer.facet_bits``), one
# bit per value, so counting them is a handful of integer tests per offer (no unnest) and each
# filter is one bitwise AND. "*" marks an offer for every industry / the whole country, which
# counts for (and matches) each industry / region. Themes and operators are data, not a fixed
# vocabulary, and use ``theme_ids`` and ``operator_id``.
REGION_CODES = (1081, 1082, 1083, 1084, 1085)
# The bits are stored in every offer's row: a value added to a vocabulary takes a new bit at the
# end, so the stored bits of existing offers keep their meaning.
_ADDED_LATER: tuple[tuple[str, str], ...] = (("price", Price.NOT_STATED.value),)
FACET_BITS: tuple[tuple[str, str], ...] = (
    *(("level", value) for value in Level.values),
    *(("price", value) for value in Price.values if ("price", value) not in _ADDED_LATER),
    *(("phase", value) for value in Phase.values),
    *(("size", value) for value in CompanySize.values),
    ("industry", "*"),
    *(("industry", value) for value in Industry.values),
    ("region", "*"),
    *(("region", str(code)) for code in REGION_CODES),
    *_ADDED_LATER,
)
_BIT = {pair: index for index, pair in enumerate(FACET_BITS)}


def facet_mask(facet: str, values: Iterable[str]) -> int:
    """The bits of ``values`` of one facet (unknown values have none)."""
    mask = 0
    for value in values:
        bit = _BIT.get((facet, value))
        if bit is not None:
            mask |= 1 << bit
    return mask


def facet_bits(
    *,
    level: str,
    price: str,
    phases: Iterable[str],
    company_sizes: Iterable[str],
    industries: Sequence[str],
    nationwide: bool,
    reach: Iterable[int],
) -> int:
    """An offer's facet bits; ``reach`` = the regions of a non-nationwide offer."""
    return (
        facet_mask("level", [level])
        | facet_mask("price", [price])
        | facet_mask("phase", phases)
        | facet_mask("size", company_sizes)
        | facet_mask("industry", industries or ["*"])
        | facet_mask("region", ["*"] if nationwide else [str(code) for code in reach])
    )


# --- Keeping the search data fresh -------------------------------------------------------------


def refresh_search_vectors(
    *,
    offer_ids: Iterable[int] | None = None,
    theme_ids: Iterable[int] | None = None,
    organisation_ids: Iterable[int] | None = None,
) -> int:
    """Recompute the search text, vector and facet columns of offers; return how many.

    With no arguments, every offer (and the word list is rebuilt from scratch). Otherwise the
    offers named, plus those with any of the themes, plus those owned or operated by any of the
    organisations. See the module docstring for when each write path must call it.
    """
    selectors = (offer_ids, theme_ids, organisation_ids)
    everything = all(selector is None for selector in selectors)
    offers = Offer.objects.all()
    if not everything:
        condition = Q(pk__in=list(offer_ids or ()))
        if theme_ids is not None:
            condition |= Q(themes__in=list(theme_ids))
        if organisation_ids is not None:
            organisation_ids = list(organisation_ids)
            condition |= Q(owner_id__in=organisation_ids) | Q(operator_id__in=organisation_ids)
        offers = offers.filter(condition)
    ids = sorted(set(offers.values_list("pk", flat=True)))
    if not ids:
        return 0

    with transaction.atomic():
        known_words = (
            [] if everything else list(OfferSearchTerm.objects.values_list("word", flat=True))
        )
        for start in range(0, len(ids), REFRESH_BATCH):
            _refresh_batch(ids[start : start + REFRESH_BATCH], known_words)
        _refresh_terms(None if everything else ids)
    return len(ids)


_SOURCE_SQL = """
SELECT o.id, o.title, o.summary, o.description, o.expected_result,
       owner.name, operator.name,
       coalesce((SELECT string_agg(t.name, ' ' ORDER BY t.id)
                 FROM offers_offer_themes ot JOIN offers_theme t ON t.id = ot.theme_id
                 WHERE ot.offer_id = o.id), ''),
       ARRAY(SELECT ot.theme_id FROM offers_offer_themes ot
             WHERE ot.offer_id = o.id ORDER BY ot.theme_id),
       ARRAY(SELECT r FROM unnest(o.regions) AS r
             UNION
             SELECT m.region_id FROM offers_municipality m WHERE m.code = ANY(o.municipalities)
             ORDER BY 1),
       o.level, o.price, o.phases, o.company_sizes, o.industries, o.nationwide
FROM offers_offer o
JOIN offers_organisation owner ON owner.id = o.owner_id
JOIN offers_organisation operator ON operator.id = o.operator_id
WHERE o.id = ANY(%s)
"""

_UPDATE_SQL = """
UPDATE offers_offer AS o SET
    search_text = v.search_text,
    search_vector =
        setweight(to_tsvector('danish', v.a), 'A')
        || setweight(to_tsvector('danish', v.b), 'B')
        || setweight(to_tsvector('danish', v.c), 'C')
        || setweight(to_tsvector('danish', v.d), 'D'),
    theme_ids = v.theme_ids::bigint[],
    reach_regions = v.reach_regions::smallint[],
    facet_bits = v.facet_bits
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
            %s::text[], %s::text[], %s::bigint[])
    AS v(id, search_text, a, b, c, d, theme_ids, reach_regions, facet_bits)
WHERE o.id = v.id
"""


def _array_literal(values: Iterable[int]) -> str:
    # Arrays travel as text: unnest() of a two-dimensional parameter would flatten it.
    return "{" + ",".join(str(int(value)) for value in values) + "}"


def _refresh_batch(ids: list[int], known_words: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_SOURCE_SQL, [ids])
        rows = cursor.fetchall()
    # Words of these offers count as catalogue words at once, so a new offer's own compounds
    # split by its own vocabulary ("Eksportrådgivning" in the title, "rådgivning" in the text).
    batch_words = {
        word for row in rows for text in row[1:8] for word in words_in(text or "") if len(word) > 3
    }
    splitter = CompoundSplitter([*known_words, *batch_words])
    columns: list[list[Any]] = [[] for _ in range(9)]
    for row in rows:
        (offer_id, title, summary, description, expected_result, owner, operator, themes) = row[:8]
        theme_ids, reach, level, price, phases, sizes, industries, nationwide = row[8:]
        body = f"{description}\n{expected_result}"
        organisations = owner if owner == operator else f"{owner}\n{operator}"
        parts = {
            "a": splitter.parts_of_text(title),
            "b": splitter.parts_of_text(f"{summary} {themes}"),
            "c": splitter.parts_of_text(body),
            "d": splitter.parts_of_text(organisations),
        }
        own = {"a": [title], "b": [summary, themes], "c": [body], "d": [organisations]}
        texts = [" ".join(t for t in [*own[key], *parts[key]] if t) for key in "abcd"]
        # search_text keeps only what the offer's own columns lack (names and compound parts),
        # so the rows the search reads stay narrow.
        extra = " ".join([themes, organisations, *(p for key in "abcd" for p in parts[key])])
        bits = facet_bits(
            level=level,
            price=price,
            phases=phases,
            company_sizes=sizes,
            industries=industries,
            nationwide=nationwide,
            reach=reach,
        )
        values = (
            offer_id,
            extra,
            *texts,
            _array_literal(theme_ids),
            _array_literal([] if nationwide else reach),
            bits,
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_SQL, columns)


_TERMS_SQL = """
INSERT INTO offers_offersearchterm (word, lexeme, documents)
SELECT w.word, w.lexeme, count(*)
FROM offers_offer o
CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('simple', concat_ws(' ',
    o.title, o.summary, o.description, o.expected_result, o.search_text)))) AS t(word)
CROSS JOIN LATERAL (
    SELECT t.word, (tsvector_to_array(to_tsvector('danish', t.word)))[1] AS lexeme
) AS w
WHERE o.status = 'published' {only}
  AND char_length(w.word) BETWEEN 3 AND 100
  AND w.word ~ '^[[:alpha:]]+$'
  AND w.lexeme IS NOT NULL
GROUP BY w.word, w.lexeme
ON CONFLICT (word) DO NOTHING
"""


def _refresh_terms(ids: list[int] | None) -> None:
    """The words of published offers, for typo correction and spelling suggestions.

    Only published text goes in: a suggestion must never reveal a draft. A partial refresh adds
    new words (a word that disappeared lingers until the next full refresh, which is harmless:
    correcting to it simply finds nothing more).
    """
    with connection.cursor() as cursor:
        if ids is None:
            cursor.execute("DELETE FROM offers_offersearchterm")
            cursor.execute(_TERMS_SQL.format(only=""))
        else:
            cursor.execute(_TERMS_SQL.format(only="AND o.id = ANY(%s)"), [ids])
