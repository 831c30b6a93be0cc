"""Run the whole portal on one machine: ``python -m portal.dev run|test|stop``.

``run`` starts what is missing (embedded PostgreSQL/Redis when ``DATABASE_URL``/``REDIS_URL`` are
unset), migrates, loads the demo data and runs web (gunicorn), a Celery worker and Celery beat in
the foreground. Ctrl-C stops every process it started, embedded servers included; their data stays
in ``var/``.

``test`` runs the test suite against ``DATABASE_URL``/``REDIS_URL`` when set and the embedded
servers otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def say(message: str) -> None:
    print(f"[portal] {message}", flush=True)


@contextmanager
def services() -> Iterator[dict[str, str]]:
    """Point DATABASE_URL and REDIS_URL at running servers, embedded ones if unset.

    Everything started from here runs in development mode (``PORTAL_DEV=true``): DEBUG on unless
    set otherwise, embedded services allowed, demo logins with the documented password.
    """
    from portal import embedded

    started: list[str] = []
    env = dict(os.environ)
    env.setdefault("PORTAL_DEV", "true")
    if not env.get("DATABASE_URL"):
        say(f"DATABASE_URL is unset: starting the embedded PostgreSQL in {embedded.PG_DIR}")
        env["DATABASE_URL"] = embedded.postgres_url()
        started.append("postgres")
    if not env.get("REDIS_URL"):
        say(f"REDIS_URL is unset: starting the embedded Redis in {embedded.REDIS_DIR}")
        env["REDIS_URL"] = embedded.redis_url()
        started.append("redis")
    try:
        yield env
    finally:
        if "redis" in started:
            embedded.redis_stop()
        if "postgres" in started:
            embedded.postgres_stop()
        if started:
            say("stopped the embedded " + " and ".join(started))


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, str(BASE_DIR / "manage.py"), *args], env=env, check=True)  # noqa: S603


def _terminate(processes: Sequence[subprocess.Popen[bytes]], timeout: float = 15) -> None:
    for process in processes:
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            process.wait(remaining)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for_page(url: str, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server.
                return bool(response.status == 200)
        except OSError:
            time.sleep(0.3)
    return False


def run() -> int:
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    with services() as env:
        env.setdefault("SITE_URL", f"http://{host}:{port}")
        # Browsers talk to gunicorn directly here, with no buffering proxy in front: a sync
        # process would be held by each idle connection a browser opens ahead (gunicorn.conf.py).
        env.setdefault("WEB_WORKER_CLASS", "gthread")
        say("migrating the database")
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "createcachetable")
        say("loading demo data (only what is missing)")
        manage(env, "seed_demo")
        commands = {
            "web": [
                str(BIN / "gunicorn"),
                "portal.wsgi",
                "--bind",
                f"{host}:{port}",
                # The threads come from gunicorn.conf.py (gthread, WEB_THREADS; set above).
                "--workers",
                os.environ.get("WEB_CONCURRENCY", "2"),
                "--access-logfile",
                "-",
                "--access-logformat",
                # No query strings or paths with tokens in the log: method, status, time only.
                '%(t)s "%(m)s" %(s)s %(b)s %(M)sms',
            ],
            "worker": [
                str(BIN / "celery"),
                "-A",
                "portal",
                "worker",
                "-Q",
                "default,notifications,effects",
                "--concurrency",
                os.environ.get("CELERY_CONCURRENCY", "2"),
                "-l",
                "INFO",
            ],
            "beat": [
                str(BIN / "celery"),
                "-A",
                "portal",
                "beat",
                "-l",
                "INFO",
                "-s",
                str(BASE_DIR / "var" / "celerybeat-schedule"),
            ],
        }
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name, command in commands.items():
                # A session of its own: Ctrl-C reaches only this supervisor, which then stops
                # each process in order instead of all of them racing.
                processes[name] = subprocess.Popen(  # noqa: S603
                    command, env=env, cwd=BASE_DIR, start_new_session=True
                )
            url = f"http://{host}:{port}"
            if _wait_for_page(url + "/healthz/ready") or _wait_for_page(url + "/"):
                say("")
                say(f"Erhvervsfremmeportalen is running at {url}/")
                say(f"  catalogue      {url}/tilbud/")
                say(f"  guidance       {url}/vejledning/")
                say(f"  effects        {url}/effekter/")
                say(f"  admin          {url}/admin/")
                say(f"  API docs       {url}/api/docs/")
                say(f"  health         {url}/healthz/ready (liveness: /healthz/live)")
                say("Demo logins (password: demo-portal-2026):")
                for username, role in DEMO_LOGINS:
                    say(f"  {username:<28} {role}")
                say("Press Ctrl-C to stop everything.")
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        say(
                            f"{name} stopped with exit code {process.returncode}; stopping the rest"
                        )
                        stopping = True
                time.sleep(0.5)
        finally:
            say("stopping web, worker and beat")
            _terminate(list(processes.values()))
    return 0


DEMO_LOGINS = [
    ("admin", "superuser"),
    ("raadgiver-nordjylland", "Rådgiver, Væksthus Nordjylland"),
    ("raadgiver-midtjylland", "Rådgiver, Væksthus Midtjylland"),
    ("raadgiver-syddanmark", "Rådgiver, Væksthus Syddanmark"),
    ("raadgiver-hovedstaden", "Rådgiver, Væksthus Hovedstaden"),
    ("raadgiver-sjaelland", "Rådgiver, Væksthus Sjælland"),
    ("redaktoer-region", "Redaktør, Region Midtjylland"),
    ("redaktoer-kommune", "Redaktør, Vejle Kommune"),
    ("redaktoer-stat", "Redaktør, Eksportrådet"),
    ("analytiker", "Analytiker, Erhvervsstyrelsen"),
    ("leder-midtjylland", "Leder, Væksthus Midtjylland"),
    ("operatoer-eksportraadet", "Operatør, Eksportrådet"),
]


def test(args: Sequence[str]) -> int:
    with services() as env:
        env.setdefault("DEBUG", "true")
        result = subprocess.run([PYTHON, "-m", "pytest", *args], env=env, cwd=BASE_DIR)  # noqa: S603
    return result.returncode


def manage_command(args: Sequence[str]) -> int:
    with services() as env:
        result = subprocess.run(  # noqa: S603
            [PYTHON, str(BASE_DIR / "manage.py"), *args], env=env, cwd=BASE_DIR
        )
    return result.returncode


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "manage", "stop"}:
        print(
            "usage: python -m portal.dev run | test [pytest args] | manage ARGS | stop",
            file=sys.stderr,
        )
        return 2
    if argv[0] == "run":
        return run()
    if argv[0] == "test":
        return test(argv[1:])
    if argv[0] == "manage":
        return manage_command(argv[1:])
    from portal import embedded

    embedded.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
