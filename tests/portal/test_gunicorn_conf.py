"""gunicorn.conf.py: the worker model follows the environment, and a sync worker is really one."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in (
        "WEB_WORKER_CLASS",
        "WEB_CONCURRENCY",
        "WEB_THREADS",
        "WEB_KEEPALIVE",
        "WEB_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_the_default_is_four_sync_processes_of_one_thread_with_time_for_a_long_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # gunicorn would run "sync" with more than one thread as gthread.
    conf = settings(monkeypatch)
    assert (conf["worker_class"], conf["workers"], conf["threads"]) == ("sync", 4, 1)
    assert conf["timeout"] == 120


def test_the_process_count_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = settings(monkeypatch, WEB_CONCURRENCY="9")
    assert (conf["worker_class"], conf["workers"], conf["threads"]) == ("sync", 9, 1)


def test_gthread_gets_three_threads_and_the_heartbeat_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conf = settings(monkeypatch, WEB_WORKER_CLASS="gthread", WEB_CONCURRENCY="2")
    assert (conf["worker_class"], conf["workers"], conf["threads"]) == ("gthread", 2, 3)
    assert (conf["keepalive"], conf["timeout"]) == (5, 30)


def test_keep_alive_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings(monkeypatch, WEB_KEEPALIVE="0")["keepalive"] == 0


def test_threads_with_the_sync_default_are_run_and_timed_as_gthread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An .env written for the former default (5 processes of 3 threads) still says WEB_THREADS.
    conf = settings(monkeypatch, WEB_CONCURRENCY="5", WEB_THREADS="3")
    assert (conf["worker_class"], conf["workers"], conf["threads"]) == ("gthread", 5, 3)
    assert conf["timeout"] == 30
