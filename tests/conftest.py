from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connections, transaction
from django.test import TransactionTestCase
from django.utils import translation

from accounts.models import User
from accounts.roles import sync_roles
from governance import services as governance_services
from offers import public_cache
from offers.models import Organisation


@pytest.fixture(autouse=True)
def _settings_for_tests(settings, tmp_path, monkeypatch):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.RATELIMIT_ENABLE = False
    settings.AXES_ENABLED = False
    # A test's users need no protection against a stolen hash: the production hasher (PBKDF2,
    # over a million rounds) takes half a second per password set or checked, on every user a
    # test makes and every login it does. portal.settings keeps the strong one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A maintenance flag file left in var/ must not close the portal under the tests.
    settings.MAINTENANCE_MODE = False
    settings.MAINTENANCE_FILE = str(tmp_path / "maintenance")
    # Each test counts page views into its own buffer, written at once (tests/governance/
    # test_usage.py covers the buffering), and starts without answers kept by an earlier test.
    settings.PAGE_VIEW_FLUSH_SECONDS = 0
    monkeypatch.setattr(governance_services, "COUNTS", governance_services.CountBuffer())
    public_cache.STORE.clear()
    # A test that reads right after its own commit would race the notification of that commit
    # (it arrives within milliseconds, not before the next line): the version is asked for on
    # every request, as with PUBLIC_VERSION_LISTEN=false. tests/offers/test_version_listener.py
    # turns the listener on and waits for what it is told.
    settings.PUBLIC_VERSION_LISTEN = False
    public_cache.LISTENER.forget()


@pytest.fixture(autouse=True)
def _language_reset():
    """Each test starts in Danish: a request in English leaves English active in the thread
    (LocaleMiddleware activates, nothing deactivates), and code rendered without a request
    would then speak English in whichever test came next."""
    translation.activate("da")
    yield
    translation.activate("da")


def load_reference_data() -> None:
    """Load what the data migration loads (idempotent)."""
    import_module("offers.migrations.0002_reference_data").load(apps, None)
    sync_roles()


# --- The database a transactional test leaves behind ------------------------------------------
# A test that commits (a live server, a real worker, transaction=True) cannot be rolled back:
# Django's TransactionTestCase empties every table after it with TRUNCATE and builds the content
# types and permissions again (about 0.4 s), and the reference data then had to be loaded again
# (about 0.9 s): over a second for each of some 250 such tests. Instead, the state every test
# starts from (migrated, reference data loaded) is copied once per run into a schema of its own,
# and after a transactional test the tables are emptied with DELETE (on tables of a few rows
# many times faster than TRUNCATE, which makes new files) and filled from the copy, in one
# transaction: the next test sees exactly what a test that rolls back sees. The catalogue's
# triggers fire on the DELETE as they did on the TRUNCATE, so the catalogue version moves on.

SNAPSHOT_SCHEMA = "test_start_state"


def _flushed_tables(connection) -> list[str]:
    """The tables Django's flush empties (its models' tables; not django_migrations, not the
    cache table, not offers_catalogue_version)."""
    return sorted(
        connection.introspection.django_table_names(only_existing=True, include_views=False)
    )


def start_state_take(connection) -> list[tuple[str, str]]:
    """Copy the tables that hold rows into SNAPSHOT_SCHEMA; (table, its columns) of each copy."""
    copied = []
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SNAPSHOT_SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}")
        for table in _flushed_tables(connection):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quoted})")  # noqa: S608 - introspected
            if not cursor.fetchone()[0]:
                continue
            # Generated columns are computed again on insert; they cannot be written.
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = %s AND is_generated = 'NEVER' "
                "ORDER BY ordinal_position",
                [table],
            )
            columns = ", ".join(connection.ops.quote_name(row[0]) for row in cursor.fetchall())
            cursor.execute(
                f"CREATE TABLE {SNAPSHOT_SCHEMA}.{quoted} AS SELECT {columns} FROM {quoted}"  # noqa: S608 - introspected
            )
            copied.append((table, columns))
    return copied


def start_state_restore(connection, copied: list[tuple[str, str]]) -> None:
    """Empty every flushed table and fill those that had rows from the copy."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # Django's foreign keys are deferrable: checked at commit, when all is back.
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in _flushed_tables(connection):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected
        for table, columns in copied:
            quoted = connection.ops.quote_name(table)
            cursor.execute(
                f"INSERT INTO {quoted} ({columns}) SELECT {columns} FROM {SNAPSHOT_SCHEMA}.{quoted}"  # noqa: S608 - introspected
            )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # With --reuse-db the database may come from a run that was killed in a test that commits:
    # emptied first (Django's flush, as before a fresh database), so no leftover becomes part of
    # the start state.
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        load_reference_data()
        copied = start_state_take(connections["default"])

    def fixture_teardown(test_case: Any) -> None:
        for name in test_case._databases_names(include_mirrors=False):
            start_state_restore(connections[name], copied)

    # TransactionTestCase's flush, replaced for this run (django-stubs do not list it).
    original = TransactionTestCase._fixture_teardown  # type: ignore[attr-defined]
    TransactionTestCase._fixture_teardown = fixture_teardown  # type: ignore[attr-defined]
    try:
        yield
    finally:
        TransactionTestCase._fixture_teardown = original  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _transactional_db_where_tests_commit(request):
    """A test with a live server commits; it gets the transactional database (and the start
    state put back after it). The database it starts from is the start state already."""
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")


@pytest.fixture
def roles(db):
    sync_roles()
    return {group.name: group for group in Group.objects.all()}


@pytest.fixture
def make_user(db, roles):
    def make(
        username: str, *, organisation: str | None = None, role: str | None = None, **extra
    ) -> User:
        user = User.objects.create_user(
            username=username,
            password="a-long-test-password",
            organisation=Organisation.objects.get(slug=organisation) if organisation else None,
            is_staff=True,
            **extra,
        )
        if role:
            user.groups.add(roles[role])
        return user

    return make


@pytest.fixture
def editor(make_user):
    return make_user("redaktoer-midt", organisation="region-midtjylland", role="Redaktør")


@pytest.fixture
def analyst(make_user):
    return make_user("analytiker", organisation="erhvervsstyrelsen", role="Analytiker")


@pytest.fixture
def superuser(make_user):
    return make_user("admin", organisation="erhvervsstyrelsen", is_superuser=True)


@pytest.fixture
def eager_tasks():
    """Celery tasks run in the calling thread and raise their errors there."""
    from portal.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture(autouse=True, scope="session")
def in_thread_workers_close_their_connections():
    """The tests' workers (``celery.contrib.testing.worker.start_worker``) run tasks in a thread
    that ends with the ``with`` block, and send no ``worker_shutdown``: the connection a task
    opened there would be dropped unclosed with the thread. A real worker keeps it between
    tasks (``portal.celery``); these close it after each task, as Celery's fixup did."""
    from celery.signals import task_postrun
    from django.db import connections

    def close(task=None, **_kwargs):
        if task is not None and not task.request.is_eager:
            connections.close_all()

    task_postrun.connect(close, weak=False)
    yield
    task_postrun.disconnect(close)
