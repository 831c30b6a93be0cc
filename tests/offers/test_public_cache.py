"""Kept public answers (offers/public_cache.py) equal uncached ones, across catalogue changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from evaluation.models import EffectRun
from offers.models import Offer
from offers.public_cache import SHARED, STORE, public_version
from tests.offers.factories import make_offer

# Committed offers (not a test transaction's), so the catalogue's version moves as in production.
pytestmark = pytest.mark.django_db(transaction=True)

SEARCH_URLS = [
    "/api/offers/?q=eksport",
    "/api/offers/?theme=export&municipality=751",
    "/tilbud/?q=eksport",
    "/tilbud/?q=eksport&theme=export&municipality=751&sort=newest",
    "/",
]


def uncached(url: str, settings: Any, **headers: str) -> bytes:
    settings.PUBLIC_CACHE_ENABLED = False
    try:
        return Client().get(url, headers=headers).content
    finally:
        settings.PUBLIC_CACHE_ENABLED = True


def count_of(client: Client, url: str = "/api/offers/?q=eksport") -> int:
    return int(client.get(url).json()["count"])


@pytest.fixture
def committed_catalogue() -> list[Offer]:
    STORE.clear()
    return [
        make_offer(external_id=f"eksport-{n}", title=f"Eksport {n}", themes=["export"])
        for n in range(3)
    ]


def test_kept_answers_are_the_uncached_answers(committed_catalogue, settings, client) -> None:
    for url in SEARCH_URLS:
        first = client.get(url)
        again = client.get(url)

        assert first.status_code == again.status_code == 200
        assert again.content == first.content == uncached(url, settings)
        assert again["ETag"] == first["ETag"]
        assert "public" in again["Cache-Control"]
        assert {"Accept-Language", "Cookie"} <= {v.strip() for v in again["Vary"].split(",")}


def test_a_kept_answer_costs_one_query_for_the_version(
    committed_catalogue, client, django_assert_max_num_queries
) -> None:
    client.get("/api/offers/?q=eksport")
    with django_assert_max_num_queries(1):
        assert client.get("/api/offers/?q=eksport").json()["count"] == 3


def test_a_withdrawn_offer_is_gone_from_the_next_answer(
    committed_catalogue, settings, client
) -> None:
    assert count_of(client) == 3
    page = client.get("/tilbud/?q=eksport").content.decode()
    assert "eksport-0" in page

    withdrawn = committed_catalogue[0]
    withdrawn.status = Offer.Status.ARCHIVED
    withdrawn.save(update_fields=["status"])

    assert count_of(client) == 2
    page = client.get("/tilbud/?q=eksport").content.decode()
    assert "/tilbud/eksport-0/" not in page
    assert client.get("/tilbud/?q=eksport").content == uncached("/tilbud/?q=eksport", settings)


def test_a_published_offer_is_in_the_next_answer(committed_catalogue, settings, client) -> None:
    before = client.get("/api/offers/?q=eksport").content

    make_offer(external_id="eksport-ny", title="Eksport ny", themes=["export"])

    after = client.get("/api/offers/?q=eksport")
    assert after.content != before
    assert after.json()["count"] == 4
    assert "eksport-ny" in {r["external_id"] for r in after.json()["results"]}
    assert after.content == uncached("/api/offers/?q=eksport", settings)


def test_an_offer_page_follows_its_offer(committed_catalogue, client) -> None:
    offer = committed_catalogue[1]
    assert "Eksport 1" in client.get("/tilbud/eksport-1/").content.decode()

    offer.title = "Eksport til Tyskland"
    offer.save(update_fields=["title"])

    assert "Eksport til Tyskland" in client.get("/tilbud/eksport-1/").content.decode()


def test_an_unchanged_answer_is_a_304_until_the_catalogue_changes(
    committed_catalogue, client
) -> None:
    etag = client.get("/tilbud/?q=eksport")["ETag"]

    not_modified = client.get("/tilbud/?q=eksport", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified["ETag"] == etag
    assert not not_modified.content

    make_offer(external_id="eksport-ny", title="Eksport ny", themes=["export"])
    changed = client.get("/tilbud/?q=eksport", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_each_language_has_its_own_answer(committed_catalogue, settings) -> None:
    english = Client().get("/", headers={"Accept-Language": "en"})
    danish = Client().get("/", headers={"Accept-Language": "da"})

    assert '<html lang="en">' in english.content.decode()
    assert '<html lang="da">' in danish.content.decode()
    assert english["ETag"] != danish["ETag"]
    assert english.content == uncached("/", settings, **{"Accept-Language": "en"})


def test_a_logged_in_editor_is_never_served_a_kept_answer(
    committed_catalogue, client, make_user
) -> None:
    draft = make_offer(external_id="eksport-kladde", title="Eksport kladde", status="draft")
    anonymous = client.get("/api/offers/eksport-kladde/")
    assert anonymous.status_code == 404

    editor = make_user("redaktoer", role="Redaktør", organisation=draft.owner.slug)
    client.force_login(editor)
    seen = client.get("/api/offers/eksport-kladde/")

    assert seen.status_code == 200
    assert "private" in seen["Cache-Control"]
    assert "ETag" not in seen


def test_public_pages_set_no_cookie(committed_catalogue, client) -> None:
    for url in [*SEARCH_URLS, "/tilbud/eksport-0/", "/om/"]:
        response = client.get(url)
        assert not response.cookies, url
        assert "csrfmiddlewaretoken" not in response.content.decode(), url


def test_no_kept_answer_inside_a_transaction_that_changed_the_catalogue(
    committed_catalogue,
) -> None:
    assert public_version() is not None
    with transaction.atomic():
        make_offer(external_id="eksport-uncommitted", title="Eksport", themes=["export"])
        assert public_version() is None


def test_a_completed_effect_run_moves_the_version(committed_catalogue) -> None:
    before = public_version()
    run = EffectRun.objects.create(status=EffectRun.Status.RUNNING)
    assert public_version() == before  # a running run's results are not shown

    run.status = EffectRun.Status.COMPLETED
    run.save(update_fields=["status"])
    assert public_version() != before


def test_processes_share_kept_answers_through_redis(
    committed_catalogue, settings, client, django_assert_max_num_queries
) -> None:
    settings.PUBLIC_CACHE_REDIS_URL = settings.REDIS_URL
    url = "/api/offers/?q=eksport&theme=export"
    first = client.get(url)

    STORE.clear()  # another process: nothing kept in it
    with django_assert_max_num_queries(1):  # the version
        again = client.get(url)
    assert again.content == first.content == uncached(url, settings)

    withdrawn = committed_catalogue[2]
    withdrawn.status = Offer.Status.ARCHIVED
    withdrawn.save(update_fields=["status"])
    STORE.clear()

    after = client.get(url)
    assert after.json()["count"] == 2
    assert after.content == uncached(url, settings)


def test_without_redis_the_portal_answers_by_itself(committed_catalogue, settings, client) -> None:
    settings.PUBLIC_CACHE_REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    SHARED._resting_until = 0.0

    response = client.get("/api/offers/?q=eksport")

    assert response.status_code == 200
    assert response.json()["count"] == 3
    SHARED._resting_until = 0.0


def test_a_missing_offer_is_never_not_modified(committed_catalogue, client) -> None:
    response = client.get("/tilbud/findes-ikke/", headers={"If-None-Match": "*"})

    assert response.status_code == 404
    assert "public" not in response.get("Cache-Control", "")


def test_renaming_an_organisation_moves_the_version(committed_catalogue) -> None:
    before = public_version()
    owner = committed_catalogue[0].owner
    owner.name = "Erhvervsstyrelsen (nyt navn)"
    owner.save(update_fields=["name"])

    assert public_version() != before


def _new_request() -> None:
    """What Django does when a request starts (``close_old_connections``), which the test client
    leaves out: a kept connection is to be checked again before its first statement."""
    from django.db import connection

    wrapper: Any = connection  # the health-check attributes are not in django-stubs
    wrapper.close_if_unusable_or_obsolete()
    assert wrapper.connection is not None  # kept for the next request (CONN_MAX_AGE)
    assert not wrapper.health_check_done


def test_the_version_query_is_the_kept_answers_health_check(
    committed_catalogue, client, monkeypatch
) -> None:
    from django.db import connection

    url = "/api/offers/?q=eksport"
    client.get(url)
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    checks: list[bool] = []
    real_is_usable = connection.is_usable

    def is_usable() -> bool:
        checks.append(True)
        return real_is_usable()

    monkeypatch.setattr(connection, "is_usable", is_usable)

    _new_request()
    assert client.get(url).json()["count"] == 3
    assert checks == []  # no SELECT 1 before the version
    # A request that is not served from the kept answers still has Django's check.
    _new_request()
    client.get("/tilbud/eksport-0/", headers={"Cookie": "sessionid=x"})
    assert checks == [True]


def test_a_connection_the_server_dropped_is_replaced_for_a_kept_answer(
    committed_catalogue, client, settings
) -> None:
    import psycopg
    from django.db import connection

    url = "/tilbud/?q=eksport"
    first = client.get(url)
    backend = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend])

    _new_request()
    again = client.get(url)

    assert again.status_code == 200
    assert again.content == first.content == uncached(url, settings)
    assert connection.connection.info.backend_pid != backend
