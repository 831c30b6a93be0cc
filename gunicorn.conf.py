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

Sync workers (WEB_WORKER_CLASS=sync, one request at a time per process, no keep-alive) were
measured against this gthread setting because a guidance request (about 40 statements, 30-50 ms
of CPU) waits for the GIL after every statement while the other threads of its process answer
searches, and a keep-alive connection keeps a client on one process. With sync workers no request
shares a GIL and every request queues once, in the kernel's accept queue, which all processes
take from in turn. ``benchmarks/load.py --mix-only --mix-duration 20 --worker-class sync
--workers 9`` against main's 5 x 3 gthread (``--code``), alternated, the 100-client mix, load
average 15-19 from other work (the goals need a machine far less busy):

    main 5 x 3 gthread:  48 req/s, p95 5,174 ms, p99 7,071, guidance p95 8,504, 7.4 ms CPU/req
    sync 9:              51 req/s, p95 2,717 ms, p99 3,998, guidance p95 4,754, 8.4 ms CPU/req
    main 5 x 3 gthread:  88 req/s, p95 2,907 ms, p99 6,793, guidance p95 9,358 (1 error), 5.3 ms
    sync 9:              50 req/s, p95 2,962 ms, p99 3,626, guidance p95 4,148, 6.8 ms CPU/req

and later, at load 10-13 with the test suite running alongside (this branch's gthread 5 x 3
differs from main's only by four fewer statements per guidance request):

    main 5 x 3 gthread:   165 req/s, p95 2,143 ms, p99 3,660, guidance p95 4,600, 3.3 ms CPU/req
    branch 5 x 3 gthread: 169 req/s, p95 1,044 ms, p99 3,232, guidance p95 5,139, 3.7 ms CPU/req
    sync 9:                82 req/s, p95 2,011 ms, p99 2,457, guidance p95 2,624, 6.2 ms CPU/req
    main 5 x 3 gthread:   134 req/s, p95 2,766 ms, p99 5,763, guidance p95 4,400, 4.4 ms CPU/req

Sync lowered the guidance requests' p95 and cut the long tail in every pair, but costs 1.5-3 ms
more CPU per request (a connection per request, and the guidance requests, now served sooner,
are a larger share of the mix) and so served fewer requests; nine processes also took over
a minute to start at that load (each imports the portal itself). So gthread stays the default
until a quieter machine shows which one meets the goals; sync is one variable away. A sync
worker is killed after ``timeout`` seconds in one request (gthread's is not), so it gets 120 s
(WEB_TIMEOUT), and it needs the buffering proxy in front (README, Production) so that a slow
client does not hold a process.

On a quieter machine (load 3-8), the mix without guidance requests (``--shares
"search=78,guidance=0"``) met p95 <= 250 ms with few processes (2 x 2: 1,009 req/s, p95 149 ms;
sync 5: 713 req/s, p95 235 ms) and missed it with 5 x 3 (857 req/s, p95 265 ms). With the
guidance requests in it, no size met it (5 x 3, 2 x 4, 3 x 4, 2 x 8, 2 x 2, sync 5: p95 390-1,000
ms, up to 1,700 ms in noisier runs, the order changing from run to run): their 40-50 ms of
processor time each decides, not the worker model (README, Beyond one machine). 5 x 3 stays the
default.

On a quiet machine (load 0.5 before, 1-6 from the benchmark itself), the mix with the Celery
worker running as in production (``load.py`` starts one), two runs each, after the e-mail
changes of the same day (one task per request, the worker's connection kept), in one sitting:

    sync 4:          325 and 339 req/s, p95 410 and 375 ms, guidance p95 471 and 455 ms
    gthread 5 x 3:   568 and 568 req/s, p95 644 and 677 ms, guidance p95 1,193 and 1,444 ms
    sync 4 again:    271 and 284 req/s, p95 445 and 446 ms, guidance p95 550 and 546 ms

and before those changes, in another sitting:

    sync 4:          267 and 243 req/s, p95 469 and 506 ms, guidance p95 552 and 630 ms
    gthread 2 x 2:   344 and 317 req/s, p95 666 and 473 ms, guidance p95 796 and 616 ms
    gthread 5 x 3:   493 and 522 req/s, p95 388 and 598 ms, guidance p95 1,171 and 1,039 ms

Earlier that day, without the worker: sync 4 p95 305 and 353 ms (guidance 368 and 446),
sync 3 382-444 ms, sync 5 439-482 ms, gthread 2 x 2 305-514 ms (guidance 348-653), gthread 4 x 1
415-585 ms, gthread 5 x 3 397-568 ms (guidance 791-1,193), gthread 2 x 2 without keep-alive
514-517 ms. Sync workers with about two processes per core serve every request in turn: p95 is
about 1.3 x p50 for every kind of request, where gthread's keep-alive connections stay with the
process that accepted them and a process holding several guidance clients answers its searches
late too (p50 100-200 ms, p95 three to six times that). gthread serves more requests (the
guidance requests, answered later, are fewer of them) with the lower median. Neither meets
p95 <= 250 ms. For the public site alone behind a buffering proxy (the separate ``web`` service
of README, Beyond one machine) sync with 2 x cores processes is the better choice: the lowest
guidance p95 in every sitting, and a p95 (the median of two runs) at or below gthread's; this
one process group also serves the admin, whose long requests (exports, the analysts' pages)
a sync process answers one at a time under a 120 s limit, so gthread stays the default here.
"""

from __future__ import annotations

import os
from typing import Any

worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
workers = int(os.environ.get("WEB_CONCURRENCY", "5"))
# gunicorn runs a "sync" class with more than one thread as gthread: sync means one thread.
threads = int(os.environ.get("WEB_THREADS", "1" if worker_class == "sync" else "3"))
# A sync worker's request may take this long before the process is replaced; gthread's
# processes tell the master they live from their main loop, whatever a request takes.
timeout = int(os.environ.get("WEB_TIMEOUT", "120" if worker_class == "sync" else "30"))
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
