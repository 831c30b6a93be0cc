"""gunicorn's settings for the web process: read by ``gunicorn portal.wsgi`` from the working
directory (the Dockerfile, ``make run`` and ``benchmarks/load.py`` all start it there).

Worker model: gthread, WEB_CONCURRENCY processes (default 3) of WEB_THREADS threads (default 4).
Measured with ``benchmarks/load.py`` on 2 cores (README, "Beyond one machine"): most public reads
are answered from the process's kept answers (``offers.public_cache``) in about a millisecond of
Python, while a guidance request or an uncached search waits on PostgreSQL for tens of
milliseconds. Processes give the Python work both cores despite the GIL; threads keep a process
busy while one of its requests waits on the database. An async server would help only with the
waiting, which threads already cover, and Django's ORM is synchronous.
"""

from __future__ import annotations

import os
from typing import Any

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("WEB_THREADS", "4"))
# Connections from a proxy or a browser are reused between requests.
keepalive = 5


def post_worker_init(worker: Any) -> None:
    """Register the Celery tasks before the threads start: the first guidance requests of a new
    process would otherwise look up the e-mail task while another thread is still registering
    the tasks, and fail with NotRegistered."""
    from portal.celery import app

    app.loader.import_default_modules()
    app.finalize(auto=True)


def worker_exit(server: Any, worker: Any) -> None:
    """Write the page views still added up in the process before it ends (governance.services)."""
    from governance.services import COUNTS

    COUNTS.flush()
