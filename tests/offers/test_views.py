from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from offers.models import Offer
from tests.offers.factories import make_export_advice, make_export_offers, make_offer
from tests.pages import assert_contains

pytestmark = pytest.mark.django_db


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


# --- /tilbud/ -----------------------------------------------------------------------------------


def test_it_shows_matching_offers_with_their_facts(client):
    make_export_advice(application_deadline=timezone.localdate() + dt.timedelta(days=30))
    make_offer(external_id="andet", title="Byggetilladelse")

    body = page(client, "/tilbud/?q=rådgivning")

    assert_contains(
        body,
        "<h1>Find tilbud til din virksomhed</h1>",
        "<title>“rådgivning” – find tilbud – Erhvervsfremmeportalen</title>",
        'href="/tilbud/eksport/"',
        "Gratis sparring om jeres første eksportmarked.",
        "Eksportrådet",
        "Gratis",
    )
    assert "Byggetilladelse" not in body
    assert "1 tilbud" in body


def test_it_shows_facets_as_labelled_check_boxes_with_counts(client):
    make_offer(themes=["export"])
    make_offer(themes=["export", "capital"])

    body = page(client, "/tilbud/?theme=export")

    assert '<legend class="form-label">Tema</legend>' in body
    assert (
        '<input class="form-checkbox" type="checkbox" id="f-theme-export" name="theme" '
        'value="export" checked>' in body
    )
    assert '<label class="form-label" for="f-theme-capital">Kapital og finansiering' in body
    assert '(1<span class="sr-only"> tilbud</span>)' in body
    assert '(2<span class="sr-only"> tilbud</span>)' in body


@pytest.fixture
def vejle_and_nationwide(db):
    """Two offers for a company in Vejle, one for a company in Aarhus."""
    make_offer()
    make_offer(nationwide=False, municipalities=[630])


def test_it_offers_every_municipality_in_a_labelled_select_with_counts(
    client, vejle_and_nationwide
):
    body = page(client, "/tilbud/")

    assert_contains(
        body,
        '<label class="form-label" for="f-municipality">Kommune</label>',
        '<select class="form-select" id="f-municipality" name="municipality" '
        'aria-describedby="f-municipality-hint">',
        '<option value="">Alle kommuner</option>',
        '<option value="630">Vejle Kommune (2 tilbud)</option>',
        '<option value="751">Aarhus Kommune (1 tilbud)</option>',
    )
    assert body.count("<option value=") == 1 + 98 + 3  # none, the municipalities, sort orders


def test_a_chosen_municipality_is_a_ticked_check_box_and_the_select_adds_another(
    client, vejle_and_nationwide
):
    body = page(client, "/tilbud/?municipality=630")

    assert '<legend class="form-label">Kommune</legend>' in body
    assert (
        '<input class="form-checkbox" type="checkbox" id="f-municipality-630" '
        'name="municipality" value="630" checked>' in body
    )
    assert (
        '<label class="form-label" for="f-municipality-630">Vejle Kommune '
        '<span class="facet-count">(2<span class="sr-only"> tilbud</span>)</span></label>' in body
    )
    assert '<option value="630">' not in body
    assert '<option value="">Vælg kommune</option>' in body
    assert '<label class="form-label" for="f-municipality">Tilføj endnu en kommune</label>' in body
    # Ticking Vejle does not zero the others.
    assert '<option value="751">Aarhus Kommune (1 tilbud)</option>' in body
    # The script's partial answer carries the same control.
    assert '<option value="751">Aarhus Kommune (1 tilbud)</option>' in page(
        client, "/tilbud/?municipality=630&partial=1"
    )


def test_it_shows_each_active_filter_with_a_link_that_removes_it(client):
    make_offer(themes=["export"], price="free")

    body = page(client, "/tilbud/?q=eksport&theme=export&price=free")

    assert 'href="?q=eksport&amp;price=free">Eksport<span class="sr-only"> – fjern filteret' in body
    assert 'href="?q=eksport&amp;theme=export">Gratis<span class="sr-only">' in body


def test_it_hides_closed_offers_unless_asked_and_marks_them_closed(client):
    make_offer(title="Åbent tilbud")
    make_offer(title="Udløbet tilbud", application_deadline=timezone.localdate() - dt.timedelta(1))

    assert "Udløbet tilbud" not in page(client, "/tilbud/")

    body = page(client, "/tilbud/?include_closed=1")
    assert "Udløbet tilbud" in body
    assert 'class="badge badge-warning">Lukket</span>' in body


def test_it_helps_when_nothing_is_found(client):
    make_offer(title="Digitalisering af produktionen", level="region", owner="region-midtjylland")

    body = page(client, "/tilbud/?q=digitalsering&level=municipality")

    assert "Ingen tilbud passer til din søgning." in body
    assert (
        'Mente du: <a href="?q=digitalisering&amp;level=municipality">digitalisering</a>?' in body
    )
    assert '<a href="?q=digitalsering">Fjern Kommune</a>' in body
    assert 'href="/vejledning/">Få vejledning</a>' in body


def test_a_search_word_alone_is_not_called_a_filter(client):
    make_offer(title="Eksport til Tyskland", level="region", owner="region-midtjylland")

    only_word = page(client, "/tilbud/?q=eksport")
    with_filter = page(client, "/tilbud/?q=eksport&level=region")
    nothing = page(client, "/tilbud/?q=xyzzyqq")

    # "Reset all filters" would lead back to the same page when no filter is chosen.
    assert "Nulstil alle filtre" not in only_word
    assert '<a href="/tilbud/?q=eksport">Nulstil alle filtre</a>' in with_filter
    assert "Prøv at fjerne søgeordet:" in nothing
    assert "Prøv at fjerne et filter:" not in nothing


def test_it_answers_the_script_with_only_the_filters_and_results(client):
    make_offer(title="Eksport til Tyskland")

    body = page(client, "/tilbud/?q=eksport&partial=1")

    assert body.lstrip().startswith('<div id="search-body"')
    assert "<html" not in body
    assert 'data-status="1 tilbud fundet"' in body
    assert "Eksport til Tyskland" in body


def test_it_links_to_the_other_pages_of_results(client):
    for number in range(25):
        make_offer(title=f"Tilbud {number:02d}")

    body = page(client, "/tilbud/?page=2")

    assert 'aria-current="page" aria-label="Side 2">2</a>' in body
    assert 'href="?page=1"' in body or 'href="?"' in body
    assert "Tilbud 24" in body
    assert "Tilbud 00" not in body


@pytest.mark.parametrize(
    "query",
    [
        "theme=findes-ikke",
        "level=ukendt",
        "page=999999",
        "page=99999999999999999999999",
        "page=-1",
        "page=abc",
        "q=" + "eksport " * 1250,
        "q=%27%22%21%3A%2A",
        "q=%00",
        "q=&&&",
        "region=abc&municipality=99999999",
        "include_closed=måske&sort=tilfældigt",
        "q=eksport%00tyskland&theme=%00",
    ],
)
def test_it_shows_a_normal_page_for_any_query_string(client, query):
    make_offer(title="Eksport til Tyskland")

    body = page(client, f"/tilbud/?{query}")

    assert "<h1>Find tilbud til din virksomhed</h1>" in body


def test_it_says_which_filter_values_it_could_not_use(client):
    make_offer(themes=["export"])

    body = page(client, "/tilbud/?theme=export&theme=findes-ikke&level=ukendt")

    assert "Tema: findes-ikke findes ikke og er ikke brugt i søgningen." in body
    assert "Niveau: ukendt findes ikke og er ikke brugt i søgningen." in body


def test_it_shortens_an_over_long_text_and_says_so(client):
    body = page(client, "/tilbud/?q=" + "a" * 10_000)

    assert "Søgeteksten var for lang og er forkortet til 200 tegn." in body
    assert 'value="' + "a" * 200 + '"' in body


# Statements that steer transactions rather than read or write data: the test's own
# savepoints, and the page-view counter's BEGIN / SET LOCAL / COMMIT around its one upsert.
_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SET LOCAL", "SAVEPOINT", "RELEASE")


@contextmanager
def at_most_queries(limit: int) -> Iterator[None]:
    """Like django_assert_max_num_queries, counting queries only (see above)."""
    with CaptureQueriesContext(connection) as captured:
        yield
    queries = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].lstrip().upper().startswith(_TRANSACTION_CONTROL)
    ]
    assert len(queries) <= limit, f"{len(queries)} queries:\n" + "\n\n".join(queries)


def test_the_search_page_needs_at_most_four_queries(client, settings):
    # Page views are written a few seconds' worth at a time (tests/governance/test_usage.py).
    settings.PAGE_VIEW_FLUSH_SECONDS = 3600
    make_export_offers(30)

    # The version the answer is kept under (offers/public_cache.py), resolve names and words,
    # count facets with the page's ids, fetch the page.
    with at_most_queries(4):
        page(client, "/tilbud/?q=eksportrådgivnig&theme=export&operator=eksportraadet&region=1084")
    # Nothing found: no page to fetch; the zero-result search is counted with the page views.
    with at_most_queries(4):
        page(client, "/tilbud/?q=findesslet&municipality=101")


# --- /tilbud/<external_id>/ ---------------------------------------------------------------------


@pytest.fixture
def offer():
    offer = make_offer(
        external_id="digital-start",
        title="Digital start",
        summary="Sparring om jeres første digitale skridt.",
        description="To møder med en konsulent.",
        expected_result="En handlingsplan for digitalisering.",
        how_to_apply="Udfyld formularen på Væksthusets side.",
        delivery_time="4–6 uger",
        languages=["da", "en"],
        level="region",
        owner="region-midtjylland",
        operator="vaeksthus-midtjylland",
        themes=["digitalisation"],
        phases=["startup", "growth"],
        company_sizes=["micro", "small"],
        industries=["C", "J"],
        nationwide=False,
        regions=[1082],
        municipalities=[101, 751],
        price="subsidised",
        url="https://www.vaeksthus-midtjylland.dk/digital-start",
        contact_email="digital@vaeksthus-midtjylland.dk",
        contact_phone="+45 88 88 88 50",
        last_reviewed=dt.date(2026, 3, 2),
    )
    return offer


def test_it_shows_everything_a_company_needs_about_an_offer(client, offer):
    body = page(client, "/tilbud/digital-start/")

    assert "<title>Digital start – Erhvervsfremmeportalen</title>" in body
    assert '<h1 lang="da">Digital start</h1>' in body
    for text in [
        "To møder med en konsulent.",
        "En handlingsplan for digitalisering.",
        "Udfyld formularen på Væksthusets side.",
        "4–6 uger",
        "Region Midtjylland",
        "Væksthus Midtjylland",
        "Opstart, Vækst",
        "Under 10 ansatte, 10–49 ansatte",
        "Fremstillingsvirksomhed; Information og kommunikation",
        "Region Midtjylland; Aarhus Kommune, København Kommune",
        "Medfinansieret",
        "Dansk, Engelsk",
        "2. marts 2026",
        'href="mailto:digital@vaeksthus-midtjylland.dk"',
        'href="https://www.vaeksthus-midtjylland.dk/digital-start"',
        'href="/vejledning/?offer=digital-start"',
        "Løbende – ingen frist",
    ]:
        assert text in body, text
    assert 'aria-label="Brødkrumme"' in body


def test_it_links_offers_that_cannot_be_combined_and_related_open_offers(client, offer):
    rival = make_offer(external_id="rival", title="Anden digital pulje", themes=["digitalisation"])
    offer.cannot_combine_with.add(rival)
    for number in range(6):
        make_offer(title=f"Beslægtet {number}", themes=["digitalisation"])
    make_offer(
        title="Lukket beslægtet",
        themes=["digitalisation"],
        application_deadline=timezone.localdate() - dt.timedelta(days=1),
    )
    make_offer(title="Andet emne", themes=["export"])

    body = page(client, "/tilbud/digital-start/")

    exclusive = body.split("Kan ikke kombineres med", 1)[1].split("</section>", 1)[0]
    assert 'href="/tilbud/rival/" lang="da">Anden digital pulje</a>' in exclusive
    related = body.split("Lignende tilbud", 1)[1]
    assert related.count("<h3") == 5
    assert "Lukket beslægtet" not in related
    assert "Andet emne" not in related


def test_the_offer_page_needs_few_queries(client, offer, settings):
    settings.PAGE_VIEW_FLUSH_SECONDS = 3600  # page views are written in batches (test_usage.py)
    for number in range(6):
        make_offer(title=f"Beslægtet {number}", themes=["digitalisation"])

    # The version the answer is kept under (offers/public_cache.py), the offer with all its
    # names, the related offers, and the measured effect shown by the evaluation app's include.
    with at_most_queries(4):
        page(client, "/tilbud/digital-start/")


def test_a_draft_does_not_exist_for_the_public(client):
    make_offer(external_id="kladde", status="draft")

    assert client.get("/tilbud/kladde/").status_code == 404
    assert client.get("/tilbud/findes-ikke/").status_code == 404


def test_an_archived_offer_says_so_and_is_not_indexed(client, offer):
    Offer.objects.filter(pk=offer.pk).update(status="archived")

    body = page(client, "/tilbud/digital-start/")

    assert "Tilbuddet er arkiveret" in body
    assert '<meta name="robots" content="noindex, follow">' in body
