"""gunicorn's settings for the web process: read by ``gunicorn portal.wsgi`` from the working
directory (the Dockerfile, ``make run`` and ``benchmarks/load.py`` all start it there).

Worker model: gthread, WEB_CONCURRENCY processes (default 5) of WEB_THREADS threads (default 3).
Most public reads are answered from the kept answers (``offers.public_cache``) in about 1.5 ms of
Python, while a guidance request or a search nothing kept answers waits on PostgreSQL for tens of
milliseconds. Processes give the Python work every core despite the GIL; threads keep a process
busy while one of its requests waits on the database. An async server would help only with the
waiting, which threads already cover, and Django's ORM is synchronous.

Measured with ``benchmarks/load.py --mix-only --mix-duration 20 --workers W --threads T`` on the
2-core machine (load average 8-10 from other work), the 100-client mix: 3 x 4 (the former
setting) 464 req/s, p95 817 ms; 2 x 8 620 req/s, p95 637 ms; 5 x 3 873 req/s, p95 703 ms, the
best throughput. About 2 x cores + 1 processes; set WEB_CONCURRENCY for a larger machine.
"""

from __future__ import annotations

import os
from typing import Any

worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
workers = int(os.environ.get("WEB_CONCURRENCY", "5"))
threads = int(os.environ.get("WEB_THREADS", "3"))
# Connections from a proxy or a browser are reused between requests (0: closed after each).
keepalive = int(os.environ.get("WEB_KEEPALIVE", "5"))


def post_worker_init(worker: Any) -> None:
    """Register the Celery tasks before the threads start: the first guidance requests of a new
    process would otherwise look up the e-mail task while another thread is still registering
    the tasks, and fail with NotRegistered."""
    from portal.celery import app

    app.loader.import_default_modules()
    app.finalize(auto=True)
    # The catalogue copy, vocabulary, templates, translations and broker connection, built
    # before the first request instead of while it waits (portal/warmup.py).
    from portal.warmup import warm_up

    warm_up()


def worker_exit(server: Any, worker: Any) -> None:
    """Write the page views still added up in the process before it ends (governance.services)."""
    from governance.services import COUNTS

    COUNTS.flush()
