"""gunicorn's settings for the web process: read by ``gunicorn portal.wsgi`` from the working
directory (the Dockerfile, ``make run`` and ``benchmarks/load.py`` all start it there).

Worker model: sync, one process per core (WEB_CONCURRENCY; by default the cores this process may
run on, bounded by a cgroup v2 CPU quota, and at least two), one request at a time each. The
kernel's accept queue hands the next request to whichever process is free, so every request
waits its turn once, no request shares a GIL, and a request in service has a core to itself: a
guidance request (about 20 ms of Python and 25 statements) is answered in about that time
instead of being sliced with the requests of other processes or threads on the same core.

A sync process cannot serve a slow client and anything else at once: it needs the buffering,
TLS-terminating proxy in front that production has anyway (README, Production; nginx buffers
requests and answers by default). A request that runs longer than WEB_TIMEOUT (120 s) has its
process replaced. gthread (``WEB_WORKER_CLASS=gthread``, WEB_THREADS threads, default 3) remains
one variable away, for a second service that serves only the admin and the analysts' pages
(long exports) behind the same proxy, and for ``make run`` (browsers, no proxy).

Measured with ``benchmarks/load.py --mix-only --mix-duration 20 --mix-runs 3 --workers N`` (the
100-client mix with the Celery worker running, as in production) on the 2-core machine, load 2-5
from the benchmark itself, p95 of all requests and of the guidance requests per run. One
sitting, alternated:

    sync 2:   193, 194, 190 ms; guidance 209, 210, 203 ms (582-614 req/s)
    sync 4:   206, 210, 205 ms; guidance 253, 261, 255 ms (582-616 req/s)
    sync 2:   216, 194, 198 ms; guidance 234, 211, 213 ms (545-595 req/s)

then the whole ``load.py --mix-runs 3`` with these defaults (2 processes; each mix 30 s, after the
reads alone): p95 195, 214, 196 ms, guidance 211, 229, 214 ms, 0 errors. Before that, in one
sitting each: sync 2 213, 217, 212 ms (guidance 225, 236, 225); sync 3
226, 230, 217 (guidance 262, 264, 247); sync 6 219, 214, 238 (guidance 307, 325, 335); sync 4
208, 204, 174, 180, 175 (guidance 253, 250, 209, 214, 217); gthread 5 x 3, the former default,
323, 263, 166 (guidance 598, 656, 542, at 1,294-2,171 req/s, nearly all of them kept reads: a
process holding several guidance clients answers its searches late too); sync 5 200, 189
(guidance 259, 256). The throughput is about the same from 2 to 6 sync processes: the cores are
full either way. More processes than cores only slice each request's time with the others', which
the guidance requests, ten times the work of a read, feel most. An async server would help only
with the waiting on PostgreSQL, which is not where the time goes, and Django's ORM is
synchronous.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any


def cores(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The cores this process may run on (its CPU affinity: a container's cpuset), bounded by a
    cgroup v2 CPU quota (a container's ``--cpus``), which the affinity does not show."""
    count = len(os.sched_getaffinity(0))
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            count = min(count, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(count, 1)


worker_class = os.environ.get("WEB_WORKER_CLASS", "sync")
# One process per core, and two at least: one long request must not stop the site.
workers = int(os.environ.get("WEB_CONCURRENCY", str(max(cores(), 2))))
threads = int(os.environ.get("WEB_THREADS", "1" if worker_class == "sync" else "3"))
if worker_class == "sync" and threads > 1:
    # gunicorn runs a "sync" class with more than one thread as gthread (an .env of the former
    # default, WEB_THREADS=3, say): say so, and give it gthread's timeout below.
    worker_class = "gthread"
# A sync worker's request may take this long before the process is replaced; gthread's
# processes tell the master they live from their main loop, whatever a request takes.
timeout = int(os.environ.get("WEB_TIMEOUT", "120" if worker_class == "sync" else "30"))
# gthread: connections from a proxy or a browser are reused between requests (0: closed after
# each). A sync process closes every connection after its answer, whatever this says.
keepalive = int(os.environ.get("WEB_KEEPALIVE", "5"))


def post_worker_init(worker: Any) -> None:
    """Register the Celery tasks before the first request: with gthread, the first guidance
    requests of a new process would otherwise look up the e-mail task while another thread is
    still registering the tasks, and fail with NotRegistered."""
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
