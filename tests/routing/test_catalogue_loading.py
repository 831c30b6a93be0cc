"""Reading a new catalogue copy once per process: the other threads wait for that copy."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from routing import catalogue as catalogue_module
from routing.catalogue import catalogue_at


class _Copy:
    def __init__(self, version: str | None) -> None:
        self.version = version


@pytest.fixture
def slow_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str | None]]:
    """Replace the database read by a slow one that records what it was asked for."""
    reads: list[str | None] = []
    lock = threading.Lock()

    def read(version: str | None) -> Any:
        with lock:
            reads.append(version)
        time.sleep(0.05)
        return _Copy(version)

    catalogue_module.forget()
    monkeypatch.setattr(catalogue_module, "load_catalogue", read)
    yield reads
    catalogue_module.forget()


def _at_once(count: int, version: str | None) -> list[Any]:
    results: list[Any] = [None] * count
    start = threading.Barrier(count)

    def ask(index: int) -> None:
        start.wait()
        results[index] = catalogue_at(version)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_threads_asking_for_a_new_version_at_once_read_it_once(slow_reads: list[str]) -> None:
    copies = _at_once(6, "7:100")

    assert slow_reads == ["7:100"]
    assert all(copy is copies[0] for copy in copies)
    assert copies[0].version == "7:100"


def test_a_newer_version_is_read_again(slow_reads: list[str]) -> None:
    first = catalogue_at("7:100")
    assert catalogue_at("7:100") is first

    newer = catalogue_at("8:101")

    assert slow_reads == ["7:100", "8:101"]
    assert newer.version == "8:101"
    assert catalogue_at("8:101") is newer


def test_a_transaction_that_changed_the_catalogue_reads_its_own_copy_each_time(
    slow_reads: list[str | None],
) -> None:
    catalogue_at("7:100")

    copies = _at_once(3, None)

    # Nothing kept is used and nothing read is kept: each sees its own uncommitted changes.
    assert slow_reads == ["7:100", None, None, None]
    assert catalogue_at("7:100").version == "7:100"
    assert len({id(copy) for copy in copies}) == 3
