"""Prepared statements (settings: DB_SERVER_SIDE_BINDING, "public" by default): the variables
turn them on and tune them, a statement a connection sends again and again is then prepared in
PostgreSQL, only the public site's requests use them by default (``portal.db``), and the portal's
queries give the same answers with PostgreSQL binding the parameters as without."""

from __future__ import annotations

import copy
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.models import QuerySet, Value

from offers.models import Offer
from offers.search.query import _has_bits
from tests.offers.factories import make_offer

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "portal" / "settings.py"


@pytest.fixture
def server_binding() -> Iterator[Any]:
    """A second connection to the test database, as DB_SERVER_SIDE_BINDING=true makes it."""
    settings = copy.deepcopy(connection.settings_dict)
    settings["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
    other = type(connections["default"])(settings, alias="default")
    yield other
    other.close()


def _rows(wrapper: Any, queryset: QuerySet[Any]) -> list[tuple[Any, ...]]:
    sql, params = queryset.query.get_compiler(connection=wrapper).as_sql()
    with wrapper.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _probe(external_id: str) -> QuerySet[Any]:
    """An ORM statement no other test sends (the annotation's name is in its text)."""
    offers = Offer.objects.annotate(prepared_statement_probe=Value(1))
    return offers.filter(external_id=external_id).values_list("pk", "prepared_statement_probe")


def _probe_prepared(wrapper: Any) -> bool:
    with wrapper.cursor() as cursor:
        # The name is split so that this statement's own text does not contain it.
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements"
            " WHERE position('prepared_statement' || '_probe' IN statement) > 0"
        )
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db
def test_an_orm_statement_sent_more_than_five_times_is_prepared(server_binding: Any) -> None:
    for external_id in ["a", "b", "c", "d", "e"]:
        _rows(server_binding, _probe(external_id))
    assert not _probe_prepared(server_binding)  # five times: not yet

    _rows(server_binding, _probe("f"))

    assert _probe_prepared(server_binding)
    assert not _probe_prepared(connection)  # the portal's own connection binds client-side


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bit", [3, 31, 32, 40, 62])
def test_a_facet_mask_above_32_bits_finds_its_offers(server_binding: Any, bit: int) -> None:
    # A mask bound as a 4-byte integer overflowed for the higher bits once PostgreSQL bound the
    # parameters, and a search with a region found nothing, silently.
    make_offer(external_id="med-bit")
    make_offer(external_id="uden-bit")
    Offer.objects.filter(external_id="med-bit").update(facet_bits=1 << bit)
    Offer.objects.filter(external_id="uden-bit").update(facet_bits=1 << (bit - 1))
    found = Offer.objects.filter(_has_bits(1 << bit)).values_list("external_id")

    assert _rows(server_binding, found) == [("med-bit",)]
    assert list(found) == [("med-bit",)]


def _settings(monkeypatch: pytest.MonkeyPatch, **variables: str) -> dict[str, Any]:
    monkeypatch.setenv("DATABASE_URL", "postgresql://portal@db/portal")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    for name in ("DB_SERVER_SIDE_BINDING", "DB_PREPARE_THRESHOLD", "DB_PLAN_CACHE_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def _database_options(monkeypatch: pytest.MonkeyPatch, **variables: str) -> dict[str, object]:
    settings = _settings(monkeypatch, **variables)
    assert settings["DATABASES"]["default"]["ENGINE"] == "portal.db"
    return dict(settings["DATABASES"]["default"]["OPTIONS"])


def _setting(monkeypatch: pytest.MonkeyPatch, name: str, **variables: str) -> Any:
    return _settings(monkeypatch, **variables)[name]


def test_it_is_public_by_default_and_the_variables_turn_it_on_off_and_tune_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    public = _database_options(monkeypatch)
    # The connection binds client-side; portal.db gives public requests a server-binding cursor.
    assert "server_side_binding" not in public
    assert public["prepare_threshold"] == 5
    assert public["options"] == "-c plan_cache_mode=auto"
    assert _setting(monkeypatch, "DB_PUBLIC_SERVER_SIDE_BINDING") is True

    off = _database_options(monkeypatch, DB_SERVER_SIDE_BINDING="false")
    assert "server_side_binding" not in off
    assert "prepare_threshold" not in off
    assert _setting(monkeypatch, "DB_PUBLIC_SERVER_SIDE_BINDING", DB_SERVER_SIDE_BINDING="off") is (
        False
    )

    on = _database_options(monkeypatch, DB_SERVER_SIDE_BINDING="true")
    assert on["server_side_binding"] is True
    assert on["prepare_threshold"] == 5
    assert on["options"] == "-c plan_cache_mode=auto"

    tuned = _database_options(
        monkeypatch,
        DB_SERVER_SIDE_BINDING="true",
        DB_PREPARE_THRESHOLD="2",
        DB_PLAN_CACHE_MODE="force_custom_plan",
    )
    assert tuned["prepare_threshold"] == 2
    assert tuned["options"] == "-c plan_cache_mode=force_custom_plan"

    assert _setting(monkeypatch, "DB_PUBLIC_SERVER_SIDE_BINDING", DB_SERVER_SIDE_BINDING="1") is (
        False
    )

    with pytest.raises(ImproperlyConfigured, match="DB_PLAN_CACHE_MODE"):
        _database_options(monkeypatch, DB_SERVER_SIDE_BINDING="true", DB_PLAN_CACHE_MODE="fast")
    with pytest.raises(ImproperlyConfigured, match="DB_SERVER_SIDE_BINDING"):
        _database_options(monkeypatch, DB_SERVER_SIDE_BINDING="admin")


# --- DB_SERVER_SIDE_BINDING=public: the public site's requests only -------------------------------


def _cursor_classes(client: Any, path: str) -> set[str]:
    """The psycopg cursor classes the statements of one request went through (but the page-view
    count's, written after the response has gone, ``governance.middleware``)."""
    seen: set[str] = set()

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "governance_pageview" not in sql and "SAVEPOINT" not in sql:
            seen.add(type(context["cursor"].cursor).__name__)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(path)
    assert response.status_code == 200, path
    return seen


@pytest.mark.django_db
def test_public_requests_bind_server_side_and_the_admin_client_side(
    client: Any, admin_client: Any, settings: Any
) -> None:
    settings.DB_PUBLIC_SERVER_SIDE_BINDING = True
    make_offer(external_id="bundet")

    assert _cursor_classes(client, "/api/offers/?q=eksport&municipality=751") == {
        "ServerBindingCursor"
    }
    assert _cursor_classes(client, "/tilbud/bundet/") == {"ServerBindingCursor"}
    assert _cursor_classes(admin_client, "/admin/offers/offer/") == {"Cursor"}

    settings.DB_PUBLIC_SERVER_SIDE_BINDING = False
    assert _cursor_classes(client, "/api/offers/?q=eksport&theme=export") == {"Cursor"}


@pytest.mark.django_db
def test_a_public_requests_statement_is_prepared_and_the_same_outside_one_is_not(
    settings: Any,
) -> None:
    from portal.db import public_request

    settings.DB_PUBLIC_SERVER_SIDE_BINDING = True
    for external_id in ["a", "b", "c", "d", "e", "f"]:  # outside a request: client-side
        list(_probe(external_id))
    assert not _probe_prepared(connection)

    token = public_request.set(True)
    try:
        for external_id in ["a", "b", "c", "d", "e", "f"]:
            list(_probe(external_id))
    finally:
        public_request.reset(token)

    assert _probe_prepared(connection)


@pytest.mark.parametrize(
    ("script_name", "path", "public"),
    [
        ("", "/tilbud/?q=eksport", True),
        ("", "/api/guidance-requests/", True),
        ("", "/admin/crm/case/", False),
        ("", "/analyse/vejledning/", False),
        # Served under a sub-path: the prefix is not part of path_info.
        ("/portal", "/admin/crm/case/", False),
        ("/portal", "/tilbud/", True),
    ],
)
def test_the_admin_and_the_analysts_pages_are_not_public(
    rf: Any, script_name: str, path: str, public: bool
) -> None:
    from django.http import HttpResponse

    from portal.db import public_request
    from portal.middleware import PublicBindingMiddleware

    seen: list[bool] = []

    def view(request: Any) -> HttpResponse:
        seen.append(public_request.get())
        return HttpResponse()

    request = rf.get(path, SCRIPT_NAME=script_name)
    PublicBindingMiddleware(view)(request)

    assert seen == [public]
    assert public_request.get() is False  # reset once the response is back
