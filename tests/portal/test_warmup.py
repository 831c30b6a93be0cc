"""A new web process prepares the catalogue copy and the rest before its first request."""

from __future__ import annotations

import logging

import pytest

from offers.catalogue_version import catalogue_version
from portal import warmup
from routing import catalogue as catalogue_module
from tests.routing.factories import OfferFactory, index_offers

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_leaves_the_catalogue_copy_of_the_current_version_in_the_process() -> None:
    OfferFactory(external_id="eksport", title="Eksport", themes=["export"])
    index_offers()
    catalogue_module.forget()

    took = warmup.warm_up()

    assert set(took) >= {"translations", "urls and templates", "working days", "matching"}
    kept = catalogue_module._Kept.catalogue
    assert kept is not None
    assert kept.version == catalogue_version()
    assert "eksport" in kept.external_ids
    # The next request reuses it instead of reading the catalogue again.
    assert catalogue_module.catalogue_at(catalogue_version()) is kept


def test_a_step_that_fails_is_logged_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unreachable() -> None:
        raise ConnectionRefusedError("postgres is not up yet")

    steps = dict(warmup.STEPS)
    steps["matching"] = unreachable
    monkeypatch.setattr(warmup, "STEPS", tuple(steps.items()))

    with caplog.at_level(logging.WARNING, logger="portal.warmup"):
        took = warmup.warm_up()

    assert "matching" not in took
    assert "working days" in took
    assert "warm-up step matching skipped: ConnectionRefusedError" in caplog.text
    # Only the error's class: a message could hold anything.
    assert "postgres is not up yet" not in caplog.text
