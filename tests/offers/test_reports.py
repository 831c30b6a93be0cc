import datetime as dt
import itertools
import random
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from offers.reports import (
    OfferFacts,
    Vocabulary,
    analyse,
    consolidation,
    level_mismatches,
    overlap_groups,
    pair_overlap,
    regional_not_nationwide,
)
from tests.offers.factories import local_to, make_offer, regional_in

VOCABULARY = Vocabulary(
    theme_levels={
        "export": "state",
        "capital": "state",
        "research": "state",
        "digitalisation": "region",
        "clusters": "region",
        "business-service": "municipality",
        "startup": "municipality",
    },
    theme_names={
        "export": "Eksport",
        "capital": "Kapital og finansiering",
        "research": "Forskning og innovation",
        "digitalisation": "Digitalisering og automatisering",
        "clusters": "Klynger og netværk",
        "business-service": "Lokal erhvervsservice",
        "startup": "Iværksætteri",
    },
    theme_order=[
        "export",
        "capital",
        "research",
        "digitalisation",
        "clusters",
        "business-service",
        "startup",
    ],
    municipality_regions={101: 1084, 147: 1084, 751: 1082, 657: 1082, 851: 1081},
    region_names={
        1081: "Region Nordjylland",
        1082: "Region Midtjylland",
        1084: "Region Hovedstaden",
    },
    municipality_names={
        101: "København Kommune",
        147: "Frederiksberg Kommune",
        751: "Aarhus Kommune",
        657: "Herning Kommune",
        851: "Aalborg Kommune",
    },
)


def facts(external_id, **fields):
    data = {
        "external_id": external_id,
        "title": external_id.replace("-", " ").capitalize(),
        "level": "state",
        "owner": "eksportraadet",
        "owner_kind": "state_agency",
        "owner_level": "state",
        "operator": f"operator-{external_id}",
        "operator_name": f"Operatør {external_id}",
        "themes": frozenset({"export"}),
        "phases": frozenset({"growth"}),
        "sizes": frozenset({"small"}),
        "industries": frozenset(),
        "nationwide": True,
        "regions": frozenset(),
        "municipalities": frozenset(),
    }
    for key, value in fields.items():
        data[key] = frozenset(value) if isinstance(value, (set, list, tuple)) else value
    return OfferFacts(**data)


def test_it_flags_a_municipal_export_programme_as_a_level_mismatch():
    offers = [
        facts("eksport-stat"),
        facts("eksport-kommune", level="municipality", owner="kommune-561"),
        facts("blandet-kommune", level="municipality", themes={"export", "business-service"}),
    ]

    found = level_mismatches(offers, VOCABULARY)

    assert [item["external_id"] for item in found] == ["eksport-kommune"]
    assert found[0]["expected_levels"] == ["state"]
    assert found[0]["reason"] == (
        "Tilbuddet er på kommunalt niveau, men temaet «Eksport» hører under statsligt niveau."
    )


def test_a_national_clusters_own_clusters_theme_counts_at_the_clusters_level():
    offers = [
        # A national cluster (state-funded) running a network: not a mismatch.
        facts("klynge-netvaerk", owner="cluster-energi", owner_kind="cluster", themes={"clusters"}),
        # The same theme at state level from a state agency: the theme is the regions'.
        facts("stat-netvaerk", themes={"clusters"}),
        # A regional-level offer from the state-level cluster does not match either.
        facts(
            "klynge-regional",
            level="region",
            owner="cluster-energi",
            owner_kind="cluster",
            themes={"clusters"},
        ),
    ]

    found = level_mismatches(offers, VOCABULARY)

    assert sorted(item["external_id"] for item in found) == ["klynge-regional", "stat-netvaerk"]


def test_two_offers_overlap_on_theme_target_group_and_geography_with_a_weighted_score():
    a = facts("a", phases={"growth", "established"}, sizes={"small"})
    b = facts("b", phases={"growth"}, sizes={"small", "medium"})

    overlap = pair_overlap(a, b, VOCABULARY)

    assert overlap is not None
    # phases 1/2 * 0.3 + sizes 1/2 * 0.3 + geography 1 * 0.25 + industries 1 * 0.15
    assert overlap["score"] == pytest.approx(0.7)
    assert overlap["reasons"] == [
        "Samme tema: Eksport.",
        "Samme faser: Vækst.",
        "Samme virksomhedsstørrelser: 10–49 ansatte.",
        "Begge er for alle brancher.",
        "Begge gælder i hele landet.",
        "Forskellige operatører: Operatør a og Operatør b.",
    ]


@pytest.mark.parametrize(
    ("other", "overlaps"),
    [
        ({"operator": "operator-a"}, False),  # same operator
        ({"themes": {"capital"}}, False),
        ({"phases": {"idea"}}, False),
        ({"sizes": {"large"}}, False),
        ({"industries": {"C"}}, True),  # the first is for all industries
        ({"nationwide": False, "municipalities": {751}}, True),  # inside Region Midtjylland
        ({"nationwide": False, "municipalities": {101}}, False),  # Copenhagen is elsewhere
        ({"nationwide": False, "regions": {1082}}, True),
    ],
)
def test_overlap_needs_every_dimension_to_meet(other, overlaps):
    a = facts("a", nationwide=False, regions={1082})
    b = facts("b", **other)

    assert (pair_overlap(a, b, VOCABULARY) is not None) is overlaps


def test_it_does_not_overlap_offers_for_different_industries():
    a = facts("a", industries={"C"})
    b = facts("b", industries={"J", "M"})

    assert pair_overlap(a, b, VOCABULARY) is None


def test_overlapping_offers_are_grouped_per_theme_with_a_mean_score_and_reasons():
    offers = [
        facts("a", phases={"startup", "growth"}),
        facts("b", phases={"growth", "established"}),
        facts("c", phases={"established"}),  # overlaps b, not a
        facts("d", themes={"capital"}),  # alone in its theme
    ]

    groups = overlap_groups(offers, VOCABULARY)

    assert len(groups) == 1
    group = groups[0]
    assert group["theme"] == "export"
    assert group["offers"] == ["a", "b", "c"]
    assert group["pair_count"] == 2
    ab = 0.3 * (1 / 3) + 0.3 + 0.25 + 0.15
    bc = 0.3 * (1 / 2) + 0.3 + 0.25 + 0.15
    assert group["score"] == pytest.approx((ab + bc) / 2, abs=0.001)
    assert group["reasons"][0] == (
        "3 tilbud om «Eksport» fra 3 forskellige operatører: Operatør a, Operatør b og Operatør c."
    )
    assert "Målgrupperne overlapper to og to, men ikke alle på én gang." in group["reasons"]
    assert [pair["offers"] for pair in group["pairs"]] == [["b", "c"], ["a", "b"]]


def test_the_bucketed_overlap_search_finds_exactly_the_pairs_a_plain_comparison_finds():
    rng = random.Random(7)
    themes, phases, sizes = (
        ["export", "capital", "digitalisation"],
        ["idea", "startup", "growth", "established"],
        ["micro", "small", "medium", "large"],
    )
    offers = []
    for number in range(80):
        nationwide = rng.random() < 0.4
        offers.append(
            facts(
                f"o{number}",
                operator=f"op{rng.randrange(12)}",
                themes=set(rng.sample(themes, rng.randint(1, 2))),
                phases=set(rng.sample(phases, rng.randint(1, 2))),
                sizes=set(rng.sample(sizes, rng.randint(1, 2))),
                industries=set(rng.sample("ACJM", rng.randint(0, 2))),
                nationwide=nationwide,
                regions=set() if nationwide else set(rng.sample([1081, 1082, 1084], 1)),
                municipalities=set() if nationwide else set(rng.sample([101, 751, 851], 1)),
            )
        )

    groups = overlap_groups(offers, VOCABULARY)

    expected = {}
    for theme in themes:
        members = [o for o in offers if theme in o.themes]
        for a, b in itertools.combinations(members, 2):
            overlap = pair_overlap(a, b, VOCABULARY)
            if overlap:
                expected[theme, frozenset((a.external_id, b.external_id))] = overlap["score"]
    assert sum(g["pair_count"] for g in groups) == len(expected)
    for group in groups:
        for pair in group["pairs"]:
            assert pair["score"] == pytest.approx(
                expected[group["theme"], frozenset(pair["offers"])], abs=0.001
            )


def test_it_lists_regional_offers_that_are_not_open_nationwide():
    offers = [
        facts(
            "region-lokal", level="region", nationwide=False, regions={1084}, municipalities={751}
        ),
        facts("region-hele-landet", level="region", themes={"digitalisation"}),
        facts("kommune-lokal", level="municipality", nationwide=False, municipalities={751}),
    ]

    found = regional_not_nationwide(offers, VOCABULARY)

    assert found == [
        {
            "external_id": "region-lokal",
            "title": "Region lokal",
            "owner": "eksportraadet",
            "owner_name": "eksportraadet",  # the facts carry no name: the key stands in
            "regions": [1084],
            "municipalities": [751],
            "reason": "Et regionalt tilbud, der kun gælder i Region Hovedstaden og Aarhus Kommune, "
            "ikke i hele landet.",
        }
    ]


def test_it_counts_offers_and_distinct_operators_per_theme_and_level():
    offers = [
        facts("a", operator="eksportraadet"),
        facts("b", operator="eksportraadet"),
        facts("c", operator="vaeksthus-midtjylland", themes={"export", "capital"}),
        facts("d", level="municipality", operator="kommune-561"),
    ]

    rows = consolidation(offers, VOCABULARY)

    assert [(r["theme"], r["level"], r["offers"], r["operators"]) for r in rows] == [
        ("export", "state", 3, 2),
        ("export", "municipality", 1, 1),
        ("capital", "state", 1, 1),
    ]


def test_the_whole_report_has_the_four_parts():
    report = analyse([facts("a"), facts("b")], VOCABULARY)

    assert set(report) == {
        "level_mismatches",
        "overlaps",
        "regional_not_nationwide",
        "consolidation",
    }
    assert report["overlaps"][0]["offers"] == ["a", "b"]


# --- Page and API ------------------------------------------------------------------------------


@pytest.fixture
def catalogue(db):
    make_offer(
        external_id="eksport-stat", title="Eksportforløb", owner="eksportraadet", themes=["export"]
    )
    export_in_561 = {**local_to(561), "themes": ["export"]}
    make_offer(external_id="eksport-kommune", title="Kommunalt eksportnetværk", **export_in_561)
    make_offer(
        external_id="region-lokal",
        title="Lokal kompetencepulje",
        themes=["growth"],
        **regional_in(1085),
    )
    make_offer(
        external_id="kladde-kommune", title="Kladde om eksport", status="draft", **export_in_561
    )
    closed = dt.date(2020, 1, 1)
    make_offer(
        external_id="lukket-kommune",
        title="Lukket eksportpulje",
        application_deadline=closed,
        **export_in_561,
    )


URL = reverse("offers:division_of_labour")
API = "/api/reports/division-of-labour/"


def test_an_analyst_reads_the_division_of_labour_page(
    client, make_user, catalogue, django_assert_max_num_queries
):
    client.force_login(make_user("analytiker", organisation="erhvervsstyrelsen", role="Analytiker"))
    client.get(URL)

    with django_assert_max_num_queries(6):
        response = client.get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Arbejdsdeling og overlap" in body
    assert "Kommunalt eksportnetværk" in body  # a level mismatch
    assert "Lokal kompetencepulje" in body  # regional, not nationwide
    assert "«Eksport»: 2 tilbud" in body  # an overlap group
    # Owners by name, not by their internal key.
    assert "<td>Esbjerg Kommune</td>" in body
    assert "<td>kommune-561</td>" not in body
    # Only published offers open today count.
    assert "Kladde om eksport" not in body
    assert "Lukket eksportpulje" not in body


def test_the_english_page_names_offers_by_their_danish_title_and_operator_not_by_id(
    client, make_user, catalogue
):
    client.force_login(make_user("analytiker", organisation="erhvervsstyrelsen", role="Analytiker"))
    client.cookies["django_language"] = "en"

    body = client.get(URL).content.decode()

    assert "Division of labour and overlap" in body
    assert re.search(
        r'<a href="/tilbud/eksport-kommune/" lang="da">Kommunalt eksportnetværk</a>', body
    )
    assert re.search(r'lang="da">Lokal kompetencepulje</a> <small>\([^)<]+\)</small>', body)
    # The overlap group lists each offer's operator by name.
    assert "<small>(Esbjerg Kommune)</small>" in body
    text = re.sub(r"<[^>]+>", " ", body[body.index("<main") : body.index("</main>")])
    for external_id in ("eksport-stat", "eksport-kommune", "region-lokal"):
        assert external_id not in text
    # The figures are defined under the heading, in English.
    assert '<dfn id="figure-level_mismatches">Offers at a different level' in body


def test_an_editor_may_read_the_page_but_an_adviser_may_not(client, make_user, catalogue):
    client.force_login(make_user("redaktoer", organisation="kommune-561", role="Redaktør"))
    assert client.get(URL).status_code == 200

    client.force_login(
        make_user("raadgiver", organisation="vaeksthus-midtjylland", role="Rådgiver")
    )
    assert client.get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, catalogue):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_api_names_offers_by_external_id_and_is_public(client, catalogue):
    response = client.get(API)

    assert response.status_code == 200
    data = response.json()
    assert set(data) == {
        "date",
        "level_mismatches",
        "overlaps",
        "regional_not_nationwide",
        "consolidation",
    }
    assert [m["external_id"] for m in data["level_mismatches"]] == ["eksport-kommune"]
    assert data["overlaps"][0]["offers"] == ["eksport-kommune", "eksport-stat"]
    assert [r["external_id"] for r in data["regional_not_nationwide"]] == ["region-lokal"]
    export_state = next(
        c for c in data["consolidation"] if c["theme"] == "export" and c["level"] == "state"
    )
    assert export_state == {
        "theme": "export",
        "theme_label": "Eksport",
        "responsible_level": "state",
        "level": "state",
        "offers": 1,
        "operators": 1,
    }


def test_the_report_follows_changes_to_the_catalogue(client, catalogue):
    assert len(client.get(API).json()["level_mismatches"]) == 1

    make_offer(
        external_id="region-kapital", owner="region-midtjylland", level="region", themes=["capital"]
    )

    ids = [m["external_id"] for m in client.get(API).json()["level_mismatches"]]
    assert ids == ["eksport-kommune", "region-kapital"]


def test_the_report_is_in_the_openapi_schema(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/reports/division-of-labour/"]["get"]
    assert operation["operationId"] == "reports_division_of_labour"
    response_schema = operation["responses"]["200"]["content"]["application/json"]
    assert "examples" in response_schema


def test_the_page_writes_its_day_as_a_date_in_the_pages_language(
    client, make_user, catalogue, time_machine
):
    time_machine.move_to(dt.datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Europe/Copenhagen")))
    client.force_login(make_user("analytiker", organisation="erhvervsstyrelsen", role="Analytiker"))

    danish = client.get(URL).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(URL).content.decode()

    assert "åbne den 27. november 2026." in danish
    lead = english[english.index('class="font-lead"') :][:200]
    assert "2026-11-27" not in lead, lead
    assert "open on 27 November 2026." in lead, lead
