"""A real task through a real Celery worker and a real Redis broker (no eager mode)."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from portal.celery import app
from portal.models import Heartbeat
from portal.tasks import heartbeat


def _wait_for(names: set[str], timeout: float = 30) -> set[str]:
    deadline = time.monotonic() + timeout
    seen: set[str] = set()
    while time.monotonic() < deadline:
        seen = set(Heartbeat.objects.filter(name__in=names).values_list("name", flat=True))
        if seen == names:
            break
        time.sleep(0.2)
    return seen


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_runs_a_task_through_a_real_worker_and_broker():
    assert app.conf.task_always_eager is False
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["default"]):
        with transaction.atomic():
            # Enqueued only once the transaction commits, as every task in the portal is.
            heartbeat.delay_on_commit("worker-test")
            time.sleep(0.5)
            assert not Heartbeat.objects.filter(name="worker-test").exists()
        assert _wait_for({"worker-test"}) == {"worker-test"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_in_a_rolled_back_transaction_never_runs():
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["default"]):
        with pytest.raises(RuntimeError), transaction.atomic():
            heartbeat.delay_on_commit("rolled-back")
            raise RuntimeError("roll back")
        heartbeat.delay("after")
        assert _wait_for({"after"}) == {"after"}
    assert not Heartbeat.objects.filter(name="rolled-back").exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_database_connection_between_tasks_and_checks_it_first():
    # What a worker process does around each task: Celery's Django fixup before and after it,
    # and portal.celery's check before it. Connecting anew for every task cost about as much as
    # sending a guidance request's mails.
    from celery.fixups.django import DjangoWorkerFixup
    from django.db import connection

    from portal.celery import connections_checked

    task = heartbeat
    fixup = DjangoWorkerFixup(app)
    task.push_request(is_eager=False)
    try:
        connection.ensure_connection()
        kept = connection.connection
        for _ in range(5):
            fixup.on_task_prerun(sender=task)
            connections_checked(task=task)
            connection.ensure_connection()  # the task's queries
            fixup.on_task_postrun(sender=task)
        assert connection.connection is kept

        # Older than CONN_MAX_AGE: the next task starts on a new connection, as a request would.
        connection.close_at = time.monotonic() - 1
        connections_checked(task=task)
        assert connection.connection is None
    finally:
        task.pop_request()


@pytest.mark.django_db
def test_a_task_run_eagerly_leaves_its_callers_connection_alone():
    from django.db import connection

    from portal.celery import connections_checked

    task = heartbeat
    task.push_request(is_eager=True)
    try:
        kept = connection.connection
        connection.close_at = time.monotonic() - 1  # would be closed, were it a worker's
        connections_checked(task=task)
        assert connection.connection is kept is not None
    finally:
        connection.close_at = None
        task.pop_request()
