"""The public site under load: gunicorn as in production, wrk as the load generator.

Builds (once) ``benchmarks/search.py``'s catalogue of 10,000 published and 5,000 archived offers
plus ``seed_demo`` in a scratch database, starts the production server on it (gunicorn with the
repository's ``gunicorn.conf.py``, DEBUG off, rate limits off) and one Celery worker as
``docker-compose.yml`` runs it (its e-mails go to Django's in-memory backend; ``--no-worker``
leaves them in the broker), and measures with Debian's ``wrk``:

1. each public read alone at 8 connections (``wrk -t1 -c8``): ``/healthz`` (the reference), the
   home page, a broad one-word search through the page and the API, a search with facets and a
   municipality (page and API), and an offer page; printed with req/s, p50, p95, p99 and each
   read's rate as a share of ``/healthz``'s in the same run (goal: >= 50 %), then guidance
   requests alone at 4 connections;
2. the mix of 100 concurrent clients (70 % varied searches, 20 % offer pages, 8 % guidance
   requests, 2 % health), one ``wrk`` per kind of request with its share of the connections, all
   at once; printed per kind and merged (goal: p95 <= 250 ms, 0 errors). The searches are
   search.py's 240, each through the page and the API, the offer pages 500 chosen at random, the
   guidance requests POST /api/guidance-requests/ from 500 companies (fixed CVRs): in a
   database that has seen them, nearly all are repeat requests, attached to the company's
   open case (``routing.repeats``). Before it, each of those searches and pages is
   asked once and 24 guidance requests are sent (a spike repeats its searches; a running server
   has its catalogue copies), and how long that took is printed.

Every figure is printed with the machine's load average: on a shared machine a figure means little
without it. Next to the latencies stands the processor time the server spent per request (its
gunicorn processes, the worker's, and their PostgreSQL backends, from /proc; for the mix, all
kinds together), and after the mix the whole machine's per request (/proc/stat: every process,
wrk and Redis included, and a PostgreSQL backend that lived between two readings, which the
per-process figure misses; on a machine that runs nothing else, the truer one). Latency grows
with whatever else the machine runs, CPU per request hardly does, and with the mix's 100 clients
asking again as soon as they are answered, it is what sets the throughput and so the latency
once the machine is free.

Usage (the database name must contain "bench"; it is created when missing, filled once and reused;
the Redis database is a scratch one too, not database 0: the worker's queues in it are purged
before each run):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_loadbench \\
    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python benchmarks/load.py [--duration 15] [--quick]

``--workers N --threads M --worker-class sync|gthread --keepalive S`` set WEB_CONCURRENCY,
WEB_THREADS, WEB_WORKER_CLASS and WEB_KEEPALIVE for ``gunicorn.conf.py``; ``--mix-only`` skips
the reads alone; ``--mix-runs N`` runs the mix N times on the same server and prints each run's
p95s and in how many runs they met the goal (one run on a shared machine says little).

``--code DIR`` runs the server from another checkout of the portal (e.g. ``git archive main``
unpacked into a folder) against the same database, to compare before and after on the same data.
A checkout without ``gunicorn.conf.py`` runs with the Dockerfile's former
``--workers 3 --threads 4``; one with its own ``gunicorn.conf.py`` runs with that file's defaults
(gthread 5 x 3 before sync 4 became the default), so pass ``--worker-class`` and ``--workers`` to
compare the code alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks import search as catalogue  # noqa: E402 - after the path is set
from benchmarks.common import scratch_database  # noqa: E402

WRK = shutil.which("wrk") or "/usr/bin/wrk"
# The Dockerfile's server before gunicorn.conf.py existed (for --code runs of older checkouts).
FALLBACK_SERVER_ARGS = ["--workers", "3", "--threads", "4"]
CONNECTIONS = 8
STARTUP_SECONDS = 180
# The mix's guidance requests come from 8 of its 100 clients; alone, half of that.
GUIDANCE_ALONE = 4
MIX_CLIENTS = 100
MIX_SHARES = {"search": 70, "offer page": 20, "guidance": 8, "health": 2}
OFFER_PAGE = f"/tilbud/{catalogue.PREFIX}00042/"

# Each read alone: (label, path). The first is the reference the others are compared with.
READS = [
    ("/healthz", "/healthz"),
    ("home page /", "/"),
    ("search page, one word", "/tilbud/?q=eksport"),
    ("search API, one word", "/api/offers/?q=eksport"),
    (
        "search page, facets + municipality",
        "/tilbud/?q=eksport&theme=export&phase=growth&municipality=751",
    ),
    (
        "search API, facets + municipality",
        "/api/offers/?theme=export&phase=growth&municipality=751",
    ),
    ("offer page", OFFER_PAGE),
]

# wrk's Lua: a random path (or JSON body) from a file per request; at the end the counts and the
# latency histogram (microseconds, value and count) as one JSON line, merged in Python.
LUA = r"""
local paths = {}
local bodies = {}
local method = "GET"

function init(args)
  for line in io.lines(args[1]) do table.insert(paths, line) end
  if args[2] then
    method = "POST"
    for line in io.lines(args[2]) do table.insert(bodies, line) end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local path = paths[math.random(#paths)]
  if method == "POST" then
    return wrk.format("POST", path, {["Content-Type"] = "application/json"},
                      bodies[math.random(#bodies)])
  end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
  io.flush()
  local parts = {}
  for i = 1, #latency do
    local value, count = latency(i)
    parts[#parts + 1] = string.format("[%d,%d]", value, count)
  end
  io.write("\nHISTOGRAM [" .. table.concat(parts, ",") .. "]\n")
  io.flush()
end
"""


@dataclass
class Figures:
    label: str
    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    histogram: dict[int, int] = field(default_factory=dict)
    # wrk's own percentiles (ms), used when its histogram did not arrive.
    reported: dict[float, float] = field(default_factory=dict)
    # Processor time the server spent per request (gunicorn's processes and their PostgreSQL
    # backends), in ms; unlike latency, hardly moved by other work on a shared machine.
    cpu_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def add(self, other: Figures) -> None:
        if not other.histogram:
            self.reported = {0.5: float("nan"), 0.95: float("nan"), 0.99: float("nan")}
        self.requests += other.requests
        self.seconds = max(self.seconds, other.seconds)
        self.errors += other.errors
        for value, count in other.histogram.items():
            self.histogram[value] = self.histogram.get(value, 0) + count

    def percentile(self, share: float) -> float:
        """Milliseconds below which ``share`` of the requests finished."""
        total = sum(self.histogram.values())
        if not total:
            return self.reported.get(share, float("nan"))
        wanted = share * total
        seen = 0
        for value in sorted(self.histogram):
            seen += self.histogram[value]
            if seen >= wanted:
                return value / 1000
        return max(self.histogram) / 1000


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def machine_busy_seconds() -> float:
    """Processor time the whole machine has spent busy since it started (/proc/stat, all CPUs):
    it also counts what the per-process figures cannot, such as a PostgreSQL backend that a
    process connected, used and closed between two readings."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user, nice, system, irq, softirq: not idle, iowait, or steal (another VM's time).
    return (sum(fields[0:3]) + sum(fields[5:7])) / _TICKS


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system time of a process (Linux /proc), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def server_processes(server: subprocess.Popen[bytes]) -> list[int]:
    """gunicorn's processes and the PostgreSQL backends connected to the benchmark database."""
    from django.db import connection

    pids = [server.pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == server.pid:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        pids += [int(pid) for (pid,) in cursor.fetchall()]
    return pids


def measured(
    server: subprocess.Popen[bytes], run: Any, worker: subprocess.Popen[bytes] | None = None
) -> Figures:
    """``run()``'s figures with the processor time per request of the server (and the worker)."""

    def processes() -> set[int]:
        return {
            pid for each in (server, worker) if each is not None for pid in server_processes(each)
        }

    before = {pid: _cpu_seconds(pid) for pid in processes()}
    figures: Figures = run()
    after = {pid: _cpu_seconds(pid) for pid in processes()}
    spent = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
    figures.cpu_ms = 1000 * spent / max(figures.requests, 1)
    return figures


# --- The data and the server ----------------------------------------------------------------------


def prepare_database() -> None:
    """The benchmark catalogue (search.py's builder) plus seed_demo, built once per database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(60))
    catalogue.setup_django()
    from django.core.management import call_command

    from offers.models import Offer

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    wanted = catalogue.PUBLISHED + catalogue.ARCHIVED
    built = Offer.objects.filter(external_id__startswith=catalogue.PREFIX).count()
    if built != wanted:
        catalogue.build(rebuild=False)
        call_command("seed_demo", allow_production=True, verbosity=0)
        print("Loaded seed_demo.")
    else:
        print(f"Reusing {built:,} benchmark offers and the demo data.")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(sizes: dict[str, str] | None = None) -> dict[str, str]:
    """The production settings the server and the Celery worker run with."""
    return {
        **os.environ,
        "DEBUG": "false",
        "PORTAL_DEV": "false",
        "RATELIMIT_ENABLE": "false",
        "AXES_ENABLED": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "COOKIE_SECURE": "false",
        "EMAIL_BACKEND": "locmem",
        "LOG_LEVEL": "WARNING",
        # The benchmark's Redis database, shared kept answers included (docker-compose.yml
        # gives them a database of their own).
        "PUBLIC_CACHE_REDIS_URL": os.environ["REDIS_URL"],
        **(sizes or {}),
    }


def start_server(
    code: Path, port: int, log: Path, sizes: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = server_environment(sizes)
    # DEBUG off serves static files from the manifest, as the Dockerfile's image does.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=code,
        env=env,
        check=True,
    )
    server_args = [] if (code / "gunicorn.conf.py").exists() else FALLBACK_SERVER_ARGS
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "portal.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        *server_args,
    ]
    names = (
        "WEB_WORKER_CLASS",
        "WEB_CONCURRENCY",
        "WEB_THREADS",
        "WEB_KEEPALIVE",
        "DB_SERVER_SIDE_BINDING",
    )
    given = "/".join(env.get(n, "default") for n in names)
    print(f"server: {' '.join(command[1:])} (in {code}; {'/'.join(names)} {given})")

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/ready", timeout=2):
                return True
        except OSError:
            return False

    # Each process imports the portal by itself (no preload): on a busy shared machine nine
    # processes took more than a minute before the first answered.
    return started("gunicorn", command, code, env, log, answers)


def started(
    name: str,
    command: list[str],
    code: Path,
    env: dict[str, str],
    log: Path,
    ready: Any,
) -> subprocess.Popen[bytes]:
    """``command`` started in a session of its own, once ``ready()`` says so (or exit)."""
    handle = log.open("wb")
    process = subprocess.Popen(
        command, cwd=code, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                sys.exit(f"{name} exited; see {log}")
            if ready():
                return process
            time.sleep(0.5)
        sys.exit(f"{name} was not ready within {STARTUP_SECONDS} s; see {log}")
    except BaseException:
        # Not ready, or stopped while starting (SIGTERM, Ctrl-C): nothing is left running.
        stop_server(process)
        raise


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def start_worker(code: Path, log: Path) -> subprocess.Popen[bytes]:
    """One Celery worker as docker-compose.yml runs it (all three queues, two processes): the
    guidance requests' e-mails are sent during the mix, as in production, and its processor time
    is counted with the server's. The benchmark's Redis database is a scratch one: the tasks
    earlier runs left there are purged first, so the worker works on this run's only."""
    env = server_environment()
    celery = [sys.executable, "-m", "celery", "-A", "portal"]
    subprocess.run(
        [*celery, "purge", "-f", "-Q", "default,notifications,effects"],
        cwd=code,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    command = [
        *celery,
        "worker",
        "-Q",
        "default,notifications,effects",
        "--concurrency",
        "2",
        "-l",
        "INFO",
    ]
    process = started(
        "the Celery worker",
        command,
        code,
        env,
        log,
        lambda: " ready." in log.read_text(errors="replace"),
    )
    print("worker: celery worker -Q default,notifications,effects --concurrency 2")
    return process


# --- wrk ------------------------------------------------------------------------------------------


def start_wrk(
    base: str,
    folder: Path,
    label: str,
    paths: list[str],
    *,
    connections: int,
    seconds: int,
    bodies: list[str] | None = None,
) -> subprocess.Popen[str]:
    name = "".join(c if c.isalnum() else "-" for c in label)
    # One script per run of wrk: wrk reads it as it starts, while the next one is being written.
    script = folder / f"{name}.lua"
    script.write_text(LUA, encoding="utf-8")
    path_file = folder / f"{name}.paths"
    path_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
    arguments = [str(path_file)]
    if bodies is not None:
        body_file = folder / f"{name}.bodies"
        body_file.write_text("\n".join(bodies) + "\n", encoding="utf-8")
        arguments.append(str(body_file))
    command = [
        WRK,
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base,
        "--",
        *arguments,
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def finish_wrk(label: str, process: subprocess.Popen[str]) -> Figures:
    output, _ = process.communicate()
    lines = output.splitlines()
    line = next((x for x in lines if x.startswith("RESULT ")), None)
    if line is None:
        sys.exit(f"wrk gave no result for {label} (exit {process.returncode}):\n{output}")
    data = json.loads(line.removeprefix("RESULT "))
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    histogram = next((x for x in lines if x.startswith("HISTOGRAM ")), None)
    if histogram is None:
        print(f"  (wrk gave no histogram for {label}: its own percentiles only)")
    return Figures(
        label,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        histogram={v: c for v, c in json.loads(histogram.removeprefix("HISTOGRAM "))}
        if histogram
        else {},
        reported={0.5: data["p50"] / 1000, 0.95: data["p95"] / 1000, 0.99: data["p99"] / 1000},
    )


def run_wrk(base: str, folder: Path, label: str, paths: list[str], **kwargs: Any) -> Figures:
    return finish_wrk(label, start_wrk(base, folder, label, paths, **kwargs))


# --- What the mix asks ----------------------------------------------------------------------------


def mix_searches() -> list[str]:
    """search.py's 240 varied searches, each through the API and the page."""
    urls = [url for _kind, url in [*catalogue.searches(), *catalogue.municipality_searches()]]
    pages = [url.replace("/api/offers/", "/tilbud/", 1) for url in urls]
    return urls + pages


def mix_offer_pages(count: int = 500) -> list[str]:
    rng = random.Random(catalogue.SEED + 3)
    total = catalogue.PUBLISHED + catalogue.ARCHIVED
    return [f"/tilbud/{catalogue.PREFIX}{rng.randrange(total):05d}/" for _ in range(count)]


def guidance_bodies(count: int = 500) -> list[str]:
    from core.cvr import valid_cvrs

    rng = random.Random(catalogue.SEED + 4)
    cvrs = valid_cvrs(4_200_000)
    themes = [["export"], ["digitalisation"], ["capital", "growth"], ["research"]]
    bodies = []
    for number in range(count):
        bodies.append(
            json.dumps(
                {
                    "cvr": next(cvrs),
                    "company_name": f"Belastning {number} ApS",
                    "municipality": int(rng.choice(catalogue.MUNICIPALITY_CODES)),
                    "needs": "Vi vil gerne eksportere vores produkter til Tyskland og Sverige.",
                    "themes": rng.choice(themes),
                    "phase": "growth",
                    "employees": rng.randint(1, 200),
                    "contact_name": "Test Testesen",
                    "contact_email": f"belastning-{number}@load.example.dk",
                    "consent": True,
                },
                ensure_ascii=False,
            )
        )
    return bodies


# --- Printing -------------------------------------------------------------------------------------


def print_table(rows: list[Figures], reference: Figures | None) -> None:
    cpu = any(row.cpu_ms is not None for row in rows)
    header = f"{'':38}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
    header += f"{'CPU ms/req':>12}" if cpu else ""
    print(header + ("  of /healthz" if reference else ""))
    for row in rows:
        line = (
            f"{row.label:38}{row.rate:9.1f}{row.percentile(0.5):9.1f}"
            f"{row.percentile(0.95):9.1f}{row.percentile(0.99):9.1f}{row.errors:8d}"
        )
        if cpu:
            line += f"{row.cpu_ms:12.2f}" if row.cpu_ms is not None else f"{'':12}"
        if reference is not None and row is not reference and reference.rate:
            line += f"  {row.rate / reference.rate:6.0%}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per measurement")
    parser.add_argument("--mix-duration", type=int, default=30, help="seconds of the mix")
    parser.add_argument("--code", type=Path, default=BASE_DIR, help="the checkout to serve")
    parser.add_argument("--quick", action="store_true", help="5 s per read, 10 s of mix")
    parser.add_argument("--skip-mix", action="store_true")
    parser.add_argument("--mix-only", action="store_true", help="only the mix")
    parser.add_argument(
        "--mix-runs",
        type=int,
        default=1,
        help="run the mix this many times on the same server and print how often its goals held",
    )
    parser.add_argument("--workers", help="WEB_CONCURRENCY for gunicorn.conf.py")
    parser.add_argument("--threads", help="WEB_THREADS for gunicorn.conf.py")
    parser.add_argument(
        "--worker-class", help="WEB_WORKER_CLASS for gunicorn.conf.py (sync, gthread)"
    )
    parser.add_argument("--keepalive", help="WEB_KEEPALIVE for gunicorn.conf.py (seconds, 0: off)")
    parser.add_argument(
        "--guidance-pool",
        metavar="NxM",
        help="send the mix's guidance requests to a second server of N processes of M threads, "
        "as a proxy routing them to web processes of their own would (the server's CPU is both's)",
    )
    parser.add_argument(
        "--shares",
        help="the mix's connections per kind instead of the issue's, e.g. "
        "'search=78,offer page=20,guidance=0,health=2' (a kind at 0 is left out)",
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="run no Celery worker (the e-mails wait in the broker; their sending is not counted)",
    )
    arguments = parser.parse_args()
    # Stopped with SIGTERM, the servers and the worker it started are stopped too (finally).
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    if "bench" not in os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1]:
        sys.exit("DATABASE_URL must name a scratch database whose name contains 'bench'.")
    scratch_database(os.environ["DATABASE_URL"])
    redis_database = urllib.parse.urlsplit(os.environ["REDIS_URL"]).path.strip("/")
    if not arguments.no_worker and redis_database in ("", "0"):
        # Database 0 is where a developer's or a server's own queues live.
        sys.exit(
            "REDIS_URL must name a scratch Redis database other than 0 (the worker's task queues "
            "in it are purged); or run with --no-worker."
        )
    if not Path(WRK).exists():
        sys.exit("wrk is missing: apt-get install wrk")
    duration = 5 if arguments.quick else arguments.duration
    mix_duration = 10 if arguments.quick else arguments.mix_duration

    for name, value in (
        ("WEB_CONCURRENCY", arguments.workers),
        ("WEB_THREADS", arguments.threads),
        ("WEB_WORKER_CLASS", arguments.worker_class),
        ("WEB_KEEPALIVE", arguments.keepalive),
    ):
        if value:
            os.environ[name] = value
    if arguments.shares:
        for part in arguments.shares.split(","):
            kind, _, share = part.partition("=")
            if kind.strip() not in MIX_SHARES:
                sys.exit(f"--shares: unknown kind {kind!r} (one of {', '.join(MIX_SHARES)})")
            MIX_SHARES[kind.strip()] = int(share)
    prepare_database()
    bodies = guidance_bodies()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="portal-load-") as scratch:
        folder = Path(scratch)
        server = start_server(arguments.code.resolve(), port, folder / "gunicorn.log")
        guidance_server = None
        worker = None
        try:
            if not arguments.no_worker:
                worker = start_worker(arguments.code.resolve(), folder / "celery.log")
            if arguments.guidance_pool:
                processes, _, threads = arguments.guidance_pool.partition("x")
                guidance_port = free_port()
                guidance_server = (
                    f"http://127.0.0.1:{guidance_port}",
                    start_server(
                        arguments.code.resolve(),
                        guidance_port,
                        folder / "gunicorn-guidance.log",
                        {"WEB_CONCURRENCY": processes, "WEB_THREADS": threads or "1"},
                    ),
                )
            print(f"machine: {os.cpu_count()} CPUs, load average {load_average()} before")

            def mixes() -> None:
                run_mixes(
                    arguments.mix_runs,
                    base,
                    folder,
                    bodies,
                    mix_duration,
                    server,
                    guidance_server,
                    worker,
                )

            if arguments.mix_only:
                mixes()
                return
            for _label, path in READS:  # warm-up: imports, plans, per-process copies
                run_wrk(base, folder, "warm-up", [path], connections=CONNECTIONS, seconds=2)
            rows = []
            for label, path in READS:
                rows.append(
                    measured(
                        server,
                        lambda label=label, path=path: run_wrk(
                            base, folder, label, [path], connections=CONNECTIONS, seconds=duration
                        ),
                        worker,
                    )
                )
            print(
                f"\nEach read alone, wrk -t1 -c{CONNECTIONS} -d{duration}s "
                f"(load average {load_average()} after):"
            )
            print_table(rows, rows[0])
            below = [r.label for r in rows[1:] if r.rate < 0.5 * rows[0].rate]
            print("goal >= 50 % of /healthz: " + ("met" if not below else f"MISSED by {below}"))
            guidance = measured(
                server,
                lambda: run_wrk(
                    base,
                    folder,
                    "guidance requests alone",
                    ["/api/guidance-requests/"],
                    bodies=bodies,
                    connections=GUIDANCE_ALONE,
                    seconds=duration,
                ),
                worker,
            )
            print(
                f"\nGuidance requests alone, wrk -t1 -c{GUIDANCE_ALONE} -d{duration}s "
                f"(load average {load_average()} after):"
            )
            print_table([guidance], None)

            if not arguments.skip_mix:
                mixes()
        finally:
            stop_server(server)
            if worker is not None:
                stop_server(worker)
            if guidance_server is not None:
                stop_server(guidance_server[1])
            log = (folder / "gunicorn.log").read_text(errors="replace")
            if "Traceback" in log:
                print("\nThe server logged errors:\n" + log[-3000:])


def ask_each_once(
    base: str, paths: Sequence[str], bodies: Sequence[str] = (), post_base: str | None = None
) -> tuple[float, int]:
    """Every path once (a POST with each of ``bodies``), 8 at a time; seconds taken, failures."""
    from concurrent.futures import ThreadPoolExecutor

    def fetch(request: urllib.request.Request | str) -> int:
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
        except OSError:  # an HTTP error status, a timeout: counted
            return 1
        return 0

    posts = [
        urllib.request.Request(
            (post_base or base) + "/api/guidance-requests/",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        for body in bodies
    ]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        failed = sum(pool.map(fetch, posts)) + sum(pool.map(fetch, [base + p for p in paths]))
    return time.monotonic() - started, failed


def run_mixes(
    runs: int,
    base: str,
    folder: Path,
    bodies: list[str],
    seconds: int,
    server: subprocess.Popen[bytes] | None = None,
    guidance_server: tuple[str, subprocess.Popen[bytes]] | None = None,
    worker: subprocess.Popen[bytes] | None = None,
) -> None:
    """The mix ``runs`` times on the same server; after more than one, each run's p95s and how
    many runs met the goals (on a shared machine one run says little about a p95 that holds)."""
    results = [
        run_mix(base, folder, bodies, seconds, server, guidance_server, worker, warm_up=run == 0)
        for run in range(runs)
    ]
    if runs < 2:
        return
    print(f"\nThe mix {runs} times:")
    for name in results[0]:
        values = [result[name] for result in results]
        held = sum(value <= 250 for value in values)
        listed = ", ".join(f"{value:.0f}" for value in values)
        print(
            f"  {name}: {listed} ms; median {statistics.median(values):.0f} ms; "
            f"<= 250 ms in {held} of {runs}"
        )


def run_mix(
    base: str,
    folder: Path,
    bodies: list[str],
    seconds: int,
    server: subprocess.Popen[bytes] | None = None,
    guidance_server: tuple[str, subprocess.Popen[bytes]] | None = None,
    worker: subprocess.Popen[bytes] | None = None,
    *,
    warm_up: bool = True,
) -> dict[str, float]:
    """The mix; with ``guidance_server`` (its base URL and process) the guidance requests go to
    that second server, as a proxy routing them to processes of their own would send them.
    Returns the p95 of all requests and of the guidance requests (ms)."""
    plans: dict[str, tuple[list[str], list[str] | None]] = {
        "search": (mix_searches(), None),
        "offer page": (mix_offer_pages(), None),
        "guidance": (["/api/guidance-requests/"], bodies),
        "health": (["/healthz"], None),
    }
    # A spike repeats its searches: the mix is measured once each of its searches and offer
    # pages has been asked (by anyone) since the catalogue last changed, and once some guidance
    # requests have given every process its copy of the catalogue (routing/catalogue.py), as
    # on a server that has been running.
    distinct = sorted({*plans["search"][0], *plans["offer page"][0]})
    guidance_base = guidance_server[0] if guidance_server else base
    if warm_up:
        took, failed = ask_each_once(base, distinct, bodies[-24:], post_base=guidance_base)
        print(
            f"\nAsked each of the mix's {len(distinct)} searches and offer pages once, after 24 "
            f"guidance requests: {took:.0f} s, {failed} failed"
        )
    print(f"\nMix of {MIX_CLIENTS} clients for {seconds} s ({load_average()} before):")
    servers = [server] if server else []
    servers += [guidance_server[1]] if guidance_server else []
    servers += [worker] if worker else []

    def processes() -> set[int]:
        return {pid for each in servers for pid in server_processes(each)}

    before = {pid: _cpu_seconds(pid) for pid in processes()}
    busy_before = machine_busy_seconds()
    plans = {label: plan for label, plan in plans.items() if MIX_SHARES[label] > 0}
    running = {
        label: start_wrk(
            guidance_base if label == "guidance" else base,
            folder,
            f"mix {label}",
            paths,
            bodies=body_list,
            connections=MIX_CLIENTS * MIX_SHARES[label] // 100,
            seconds=seconds,
        )
        for label, (paths, body_list) in plans.items()
    }
    rows = [finish_wrk(label, process) for label, process in running.items()]
    merged = Figures("all")
    for row in rows:
        merged.add(row)
    if servers:
        after = {pid: _cpu_seconds(pid) for pid in processes()}
        spent = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
        merged.cpu_ms = 1000 * spent / max(merged.requests, 1)
    shares = ", ".join(f"{row.label} {row.requests / max(merged.requests, 1):.0%}" for row in rows)
    print(f"  connections: {MIX_SHARES}; share of requests: {shares}")
    print_table([*rows, merged], None)
    busy = machine_busy_seconds() - busy_before
    print(
        f"machine: {1000 * busy / max(merged.requests, 1):.2f} ms of processor time per request "
        "(every process, wrk and Redis included; /proc/stat)"
    )
    print(f"load average {load_average()} after")
    goals = [
        ("p95 <= 250 ms", merged.percentile(0.95) <= 250),
        *[
            ("guidance p95 <= 250 ms", row.percentile(0.95) <= 250)
            for row in rows
            if row.label == "guidance"
        ],
        ("0 errors", merged.errors == 0),
    ]
    print("goals: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in goals))
    p95s = {"p95": merged.percentile(0.95)}
    for row in rows:
        if row.label == "guidance":
            p95s["guidance p95"] = row.percentile(0.95)
    return p95s


if __name__ == "__main__":
    main()
