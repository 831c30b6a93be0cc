import datetime as dt
import logging

import pytest
from django.db import connection
from django.utils import timezone

from governance.models import PageView, ZeroResultSearch
from governance.services import normalise_search_query, search_record

TEST_URLS = "tests.governance.urls_for_tests"


def _views() -> dict[str, int]:
    return dict(PageView.objects.filter(day=timezone.localdate()).values_list("path", "views"))


def test_it_counts_views_of_a_public_page_per_day(client, db):
    for _ in range(3):
        client.get("/om/")
    client.get("/om/?utm_source=nyhedsbrev")

    assert _views() == {"/om/": 4}


def test_it_counts_nothing_but_successful_html_pages(client, db, make_user):
    client.get("/findes-ikke/")  # 404
    client.post("/feedback/", {"path": "/om/", "answer": "yes"})  # POST
    client.get("/healthz")  # JSON and excluded
    client.get("/api/schema/")
    client.get("/admin/login/")
    client.get("/analyse/brug/")  # a redirect to the login
    client.get("/om/", headers={"Sec-Purpose": "prefetch"})

    assert _views() == {}


def test_it_does_not_count_the_page_shown_again_after_feedback(client, db):
    client.get("/om/")
    client.get("/om/?tilbagemelding=tak")
    assert _views() == {"/om/": 1}


def test_it_counts_offer_pages_per_offer_but_never_stores_private_tokens(client, db, settings):
    settings.ROOT_URLCONF = TEST_URLS
    client.get("/tilbud/groen-omstilling/")
    client.get("/tilbud/groen-omstilling/")
    client.get("/tilbud/eksportvejen/")
    client.get("/vejledning/s3cr3t-token-1/")
    client.get("/vejledning/s3cr3t-token-2/")
    client.get("/data/")

    assert _views() == {
        "/tilbud/groen-omstilling/": 2,
        "/tilbud/eksportvejen/": 1,
        "/vejledning/<token>/": 2,
    }
    assert not PageView.objects.filter(path__contains="s3cr3t").exists()


def test_it_sets_no_cookie_when_counting(client, db, settings):
    settings.ROOT_URLCONF = TEST_URLS
    response = client.get("/om/")
    assert not response.cookies
    assert _views() == {"/om/": 1}


def test_it_still_shows_the_page_when_counting_fails_and_logs_no_path(client, db, caplog):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE governance_pageview RENAME TO governance_pageview_away")
    try:
        with caplog.at_level(logging.WARNING, logger="governance.services"):
            response = client.get("/om/?navn=hemmelig")
        assert response.status_code == 200
        assert "Fandt du det, du ledte efter?" in response.content.decode()
        assert caplog.records, "the failure is logged"
        assert all("/om/" not in record.getMessage() for record in caplog.records)
        assert all("hemmelig" not in record.getMessage() for record in caplog.records)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE governance_pageview_away RENAME TO governance_pageview")


def test_it_normalises_the_text_of_a_search():
    assert normalise_search_query("  Eksport\tSTØTTE  i  Aarhus ") == "eksport støtte i aarhus"
    assert normalise_search_query("ring 12345678") == "ring [telefonnummer]"


def test_it_counts_searches_without_results_per_text_and_day(db):
    day = dt.date(2026, 3, 2)
    search_record("Robot  tilskud", 0, day=day)
    search_record("robot tilskud", 0, day=day)
    search_record("robot tilskud", 0, day=day + dt.timedelta(days=1))
    search_record("eksport", 12, day=day)
    search_record("   ", 0, day=day)

    rows = set(ZeroResultSearch.objects.values_list("query", "day", "searches"))
    assert rows == {
        ("robot tilskud", day, 2),
        ("robot tilskud", day + dt.timedelta(days=1), 1),
    }


def test_it_counts_a_search_the_search_view_reports_as_empty(client, db, settings):
    settings.ROOT_URLCONF = TEST_URLS
    client.get("/tilbud/", {"q": "intet"})
    client.get("/tilbud/", {"q": "eksport"})

    assert list(ZeroResultSearch.objects.values_list("query", "searches")) == [("intet", 1)]


@pytest.fixture
def usage_rows(db):
    march = dt.date(2026, 3, 1)
    PageView.objects.create(path="/tilbud/", day=march, views=40)
    PageView.objects.create(path="/tilbud/", day=march + dt.timedelta(days=1), views=2)
    PageView.objects.create(path="/om/", day=march, views=5)
    PageView.objects.create(path="/om/", day=dt.date(2026, 1, 1), views=999)
    ZeroResultSearch.objects.create(query="droner", day=march, searches=3)
    ZeroResultSearch.objects.create(query="droner", day=march + dt.timedelta(days=5), searches=4)
    ZeroResultSearch.objects.create(query="hamp", day=march, searches=1)
    return march


@pytest.mark.parametrize("role", ["Analytiker", "Redaktør"])
def test_it_shows_editors_and_analysts_what_companies_did_not_find(
    client, make_user, usage_rows, role
):
    client.force_login(make_user("u", organisation="region-midtjylland", role=role))

    response = client.get("/analyse/brug/", {"fra": "2026-03-01", "til": "2026-03-31"})

    assert response.status_code == 200
    assert response.context["searches"] == [
        {"query": "droner", "total": 7, "days": 2},
        {"query": "hamp", "total": 1, "days": 1},
    ]
    assert response.context["pages"] == [
        {"path": "/tilbud/", "total": 42},
        {"path": "/om/", "total": 5},
    ]
    assert response.context["totals"] == {"views": 47, "zero_result_searches": 8}
    assert "søgninger uden resultater" in response.content.decode().lower()


def test_it_refuses_the_usage_page_to_advisers(client, make_user, usage_rows):
    client.force_login(make_user("r", organisation="vaeksthus-midtjylland", role="Rådgiver"))
    assert client.get("/analyse/brug/").status_code == 403


def test_it_locks_the_query_count_of_the_usage_page(
    client, make_user, usage_rows, django_assert_max_num_queries
):
    for index in range(40):
        PageView.objects.create(path=f"/tilbud/t-{index}/", day=usage_rows, views=index + 1)
        ZeroResultSearch.objects.create(query=f"ord {index}", day=usage_rows, searches=1)
    client.force_login(make_user("a", organisation="erhvervsstyrelsen", role="Analytiker"))
    with django_assert_max_num_queries(8):
        response = client.get("/analyse/brug/", {"fra": "2026-03-01", "til": "2026-03-31"})
    assert len(response.context["pages"]) == 42
    assert len(response.context["searches"]) == 42


def test_it_counts_a_search_on_the_real_search_page_that_found_nothing(client, db):
    from tests.offers.factories import make_offer

    make_offer(title="Eksportrådgivning", themes=["export"])

    client.get("/tilbud/", {"q": "Hampedyrkning"})
    client.get("/tilbud/", {"q": "hampedyrkning "})
    client.get("/tilbud/", {"q": "eksport"})

    assert list(ZeroResultSearch.objects.values_list("query", "searches")) == [("hampedyrkning", 2)]
    assert _views() == {"/tilbud/": 3}


# --- Buffered counting (governance.services.CountBuffer) ----------------------------------------


def test_views_are_added_up_in_the_process_and_written_together(client, db, settings):
    from governance import services

    settings.PAGE_VIEW_FLUSH_SECONDS = 3600
    services.COUNTS.flush()  # starts the interval now
    for _ in range(5):
        client.get("/om/")
    client.get("/tilbud/?q=findesikkeord")

    assert _views() == {}
    assert services.COUNTS.pending() == 7  # 6 views and 1 search without results

    services.COUNTS.flush()
    assert _views() == {"/om/": 5, "/tilbud/": 1}
    assert dict(ZeroResultSearch.objects.values_list("query", "searches")) == {"findesikkeord": 1}
    assert services.COUNTS.pending() == 0


def test_counts_the_database_refused_are_written_the_next_time(db, settings, monkeypatch):
    from governance import services

    settings.PAGE_VIEW_FLUSH_SECONDS = 0
    real = services._upsert_counts
    monkeypatch.setattr(services, "_upsert_counts", lambda counter, counts: False)
    assert services.page_view_record(path="/om/") is False
    assert services.page_view_record(path="/om/") is False
    assert services.COUNTS.pending() == 2

    monkeypatch.setattr(services, "_upsert_counts", real)
    assert services.page_view_record(path="/om/") is True
    assert _views() == {"/om/": 3}


@pytest.mark.django_db(transaction=True)
def test_concurrent_views_lose_no_count(settings):
    import threading

    from django.db import connections

    from governance import services

    settings.PAGE_VIEW_FLUSH_SECONDS = 0

    def view_many() -> None:
        for _ in range(50):
            services.page_view_record(path="/tilbud/")
        connections.close_all()

    threads = [threading.Thread(target=view_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    services.COUNTS.flush()

    assert _views() == {"/tilbud/": 200}
