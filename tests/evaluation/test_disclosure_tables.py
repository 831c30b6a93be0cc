"""Suppression of a table of counts: no published count, and no difference of published counts,
is a group of 1 to k-1 (pure, no database)."""

from itertools import combinations

import pytest

from evaluation.disclosure import shown_small_count, suppress_breakdown


def test_small_cells_are_withheld_and_zero_is_shown():
    cells, total = suppress_breakdown({"a": 10, "b": 7, "c": 0}, total=17, min_count=5)

    assert (cells, total) == ({"a": 10, "b": 7, "c": 0}, 17)


def test_one_small_cell_takes_the_next_smallest_with_it():
    cells, total = suppress_breakdown({"web": 4, "phone": 3, "email": 1}, total=8, min_count=3)

    # email alone could be worked out as 8 - 4 - 3; with phone withheld too, only "4" is known.
    assert cells == {"web": 4, "phone": None, "email": None}
    assert total == 8


def test_a_total_below_the_threshold_is_withheld_with_its_cells():
    assert suppress_breakdown({"a": 2, "b": 0}, total=2, min_count=3) == (
        {"a": None, "b": None},
        None,
    )


def test_a_hidden_cell_protects_its_complement():
    cells, total = suppress_breakdown(
        {"responded": 23, "not_yet": 2}, total=25, min_count=5, hidden=("not_yet",)
    )

    assert cells == {"responded": None, "not_yet": None}
    assert total == 25


def test_cells_that_do_not_add_up_are_a_programming_error():
    with pytest.raises(ValueError):
        suppress_breakdown({"a": 1}, total=2, min_count=3)


@pytest.mark.parametrize(
    "cells",
    [
        {"a": 1, "b": 1, "c": 1, "d": 9},
        {"a": 4, "b": 4, "c": 1},
        {"a": 6, "b": 2, "c": 0, "d": 30},
        {"a": 5, "b": 5, "c": 5},
        {"a": 1, "b": 100},
    ],
)
def test_no_published_sum_or_difference_reveals_a_small_group(cells):
    k = 5
    total = sum(cells.values())
    shown, shown_total = suppress_breakdown(cells, total=total, min_count=k)

    published = {key: value for key, value in shown.items() if value is not None}
    assert all(v == 0 or v >= k for v in published.values())
    if shown_total is not None:
        # The total minus any set of published cells is a group that can be worked out.
        for size in range(len(published) + 1):
            for subset in combinations(published.values(), size):
                rest = shown_total - sum(subset)
                assert rest == 0 or rest >= k


def test_a_lone_count_is_shown_only_from_the_threshold():
    assert [shown_small_count(n, min_count=5) for n in (0, 1, 4, 5, 9)] == [0, None, None, 5, 9]
