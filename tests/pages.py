"""Checks on rendered pages shared by the tests of several apps."""

from __future__ import annotations


def assert_contains(body: str, *texts: str) -> None:
    """Every text is on the page; the failure names each one that is missing."""
    missing = [text for text in texts if text not in body]
    assert not missing, f"missing from the page: {missing}"
