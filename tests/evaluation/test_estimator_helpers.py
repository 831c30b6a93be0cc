"""The estimator's linear-time helpers give exactly what the numpy functions they replace give."""

import numpy as np
import pytest

from evaluation.estimators import _common_values, _rank_codes, _stable_order

rng = np.random.default_rng(5)


@pytest.mark.parametrize("sort_large", [True, False])
def test_common_values_equal_intersect1d(sort_large):
    large = rng.choice(np.arange(10_000_000, 99_999_999), size=50_000, replace=False)
    if sort_large:
        large = np.sort(large)
    small = np.concatenate([large[rng.integers(0, len(large), 30)], [10_000_001, 99_999_998]])
    small = np.concatenate([small, small[:5]])  # repeated values come back once

    np.testing.assert_array_equal(_common_values(small, large), np.intersect1d(small, large))
    assert len(_common_values(small[:0], large)) == 0


@pytest.mark.parametrize(
    "values",
    [
        rng.integers(0, 22, 10_000),
        rng.integers(32, 54, 10_000),
        rng.integers(-5, 5, 1_000),
        rng.integers(0, 10**12, 1_000),  # too wide for a table: numpy's own path
        rng.choice(np.array(list("CFGJM")), 1_000),
    ],
)
def test_rank_codes_equal_unique_inverse(values):
    _, expected = np.unique(values, return_inverse=True)

    np.testing.assert_array_equal(_rank_codes(values), expected.reshape(-1))


@pytest.mark.parametrize(
    "cells", [rng.integers(0, 90, 20_000), rng.integers(0, 40_000, 20_000), np.zeros(0, np.int64)]
)
def test_stable_order_equals_a_stable_argsort(cells):
    np.testing.assert_array_equal(_stable_order(cells), np.argsort(cells, kind="stable"))
