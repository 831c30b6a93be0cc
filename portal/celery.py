"""The Celery application. Configuration comes from Django settings (``CELERY_*``).

Database connections in the worker are kept between tasks as a web process keeps them between
requests: before and after each task (as Django does at the start and the end of a request)
``close_old_connections`` closes a connection that is older than ``CONN_MAX_AGE``, broken or
left in a failed transaction, and makes the next first query check it (``CONN_HEALTH_CHECKS``).
Celery's own Django fixup would otherwise close every connection before and after every task,
and each task would connect to PostgreSQL anew: more than half of the machine's processor time
for a task that sends one e-mail (about 21 ms against 9 ms; README, Beyond one machine).
``CELERY_DB_REUSE_MAX`` makes the fixup do that only every so many tasks. A worker (and each of
its processes) closes its connections when it stops.
"""

import os
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun, worker_process_shutdown, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def connections_checked(task: Task | None = None, **_kwargs: Any) -> None:
    """Around a task in a worker, what Django does around a request (module docstring). Not for
    a task run eagerly inside the caller: its connection and transaction are the caller's."""
    if task is None or task.request.is_eager:
        return
    from django.db import close_old_connections

    close_old_connections()


@worker_shutdown.connect
@worker_process_shutdown.connect
def connections_closed(**_kwargs: Any) -> None:
    """A stopping worker closes the connections it kept, rather than leaving them to be dropped."""
    from django.db import connections

    connections.close_all()
