from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
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
    # A maintenance flag file left in var/ must not close the portal under the tests.
    settings.MAINTENANCE_MODE = False
    settings.MAINTENANCE_FILE = str(tmp_path / "maintenance")
    # Each test counts page views into its own buffer, written at once (tests/governance/
    # test_usage.py covers the buffering), and starts without answers kept by an earlier test.
    settings.PAGE_VIEW_FLUSH_SECONDS = 0
    monkeypatch.setattr(governance_services, "COUNTS", governance_services.CountBuffer())
    public_cache.STORE.clear()


@pytest.fixture(autouse=True)
def _language_reset():
    """Each test starts in Danish: a request in English leaves English active in the thread
    (LocaleMiddleware activates, nothing deactivates), and code rendered without a request
    would then speak English in whichever test came next."""
    translation.activate("da")
    yield
    translation.activate("da")


def load_reference_data() -> None:
    """Put back what the data migration loads (a transactional test's flush removes it)."""
    import_module("offers.migrations.0002_reference_data").load(apps, None)
    sync_roles()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # With --reuse-db the database may come from a run whose last test flushed it.
    with django_db_blocker.unblock():
        load_reference_data()


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        load_reference_data()


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
