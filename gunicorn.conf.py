"""gunicorn's settings for the web process: read by ``gunicorn portal.wsgi`` from the working
directory (the Dockerfile, ``make run`` and ``benchmarks/load.py`` all start it there).

Worker model: sync, WEB_CONCURRENCY processes (default 4, two per core of the 2-core reference
machine; set it to about 2 x cores), one request at a time each. The kernel's accept queue hands
the next request to whichever process is free, so every request waits its turn once and no
request shares a GIL: under a spike a guidance request (about 20 ms of Python and 30 statements)
is answered as soon as a process is free, instead of waiting after every statement while the
other threads of its process answer searches (gthread), and a keep-alive connection does not tie
a client to one busy process. A kept read costs its process about 0.5 ms of processor time, so
two processes per core keep both cores busy while one process waits on PostgreSQL.

A sync process cannot serve a slow client and anything else at once: it needs the buffering,
TLS-terminating proxy in front that production has anyway (README, Production; nginx buffers
requests and answers by default). A request that runs longer than WEB_TIMEOUT (120 s) has its
process replaced. gthread (``WEB_WORKER_CLASS=gthread``, WEB_THREADS threads, default 3) remains
one variable away, for a second service that serves only the admin and the analysts' pages
(long exports) behind the same proxy (README, Beyond one machine).

Measured with ``benchmarks/load.py --mix-only --mix-duration 20 --mix-runs N`` (the 100-client
mix with the Celery worker running, as in production) on the 2-core machine, load 2-5 from the
benchmark itself, in one sitting, p95 of all requests and of the guidance requests per run:

    sync 4:         208, 204, 174 ms; guidance 253, 250, 209 ms (593-745 req/s)
    gthread 5 x 3:  323, 263, 166 ms; guidance 598, 656, 542 ms (1,294-2,171 req/s)
    sync 3:         356, 193 ms;      guidance 398, 223 ms
    sync 5:         200, 189 ms;      guidance 259, 256 ms
    sync 4:         180, 175 ms;      guidance 214, 217 ms (706-716 req/s)

and the whole ``load.py --worker-class sync --workers 4`` (its 30 s mix after the reads alone):
p95 225 ms, guidance 280 ms.

gthread answers more requests a second, nearly all of them kept reads, while the guidance
requests wait two to three times longer: a process holding several guidance clients answers its
searches late too. Sync 4 met the mix's p95 <= 250 ms in every run and the guidance requests'
in four of six. Earlier sittings on a slower, busier machine gave the same
order (sync's guidance p95 about half of gthread's); an async server would help only with the
waiting on PostgreSQL, which is not where the time goes, and Django's ORM is synchronous.
"""

from __future__ import annotations

import os
from typing import Any

worker_class = os.environ.get("WEB_WORKER_CLASS", "sync")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
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
