"""gunicorn.conf.py: the worker model follows the environment, and a sync worker is really one."""

from __future__ import annotations

import os
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


def test_the_default_is_a_sync_process_per_core_with_time_for_a_long_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5})
    no_quota(monkeypatch)
    # gunicorn would run "sync" with more than one thread as gthread.
    conf = settings(monkeypatch)
    assert (conf["worker_class"], conf["workers"], conf["threads"]) == ("sync", 6, 1)
    assert conf["timeout"] == 120


def no_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine without a cgroup v2 CPU quota file (whatever this one has)."""
    read_text = Path.read_text

    def without_cpu_max(path: Path, *args: Any, **kwargs: Any) -> str:
        if path.name == "cpu.max":
            raise FileNotFoundError(path)
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", without_cpu_max)


def test_one_core_still_gets_two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    no_quota(monkeypatch)
    assert settings(monkeypatch)["workers"] == 2


def test_a_cgroup_cpu_quota_bounds_the_cores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)))
    cores = settings(monkeypatch)["cores"]
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("250000 100000\n")  # docker run --cpus 2.5
    assert cores(cpu_max) == 3
    cpu_max.write_text("max 100000\n")
    assert cores(cpu_max) == 16
    assert cores(tmp_path / "missing") == 16


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
