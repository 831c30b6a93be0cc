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
