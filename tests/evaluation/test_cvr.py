"""The vectorised CVR check is the same rule as python-stdnum's."""

import numpy as np
from stdnum.dk import cvr

from evaluation.cvr import check_digit, make_cvr_numbers, valid_cvr_numbers


def test_it_agrees_with_stdnum_on_a_large_random_sample():
    rng = np.random.default_rng(11)
    # Mostly eight digits, plus seven- and nine-digit numbers and numbers around the edges.
    numbers = np.concatenate(
        [
            rng.integers(10_000_000, 100_000_000, 50_000),
            rng.integers(1_000_000, 10_000_000, 2_000),
            rng.integers(100_000_000, 1_000_000_000, 2_000),
            np.array([0, 9_999_999, 10_000_000, 99_999_999, 100_000_000, 13_585_628]),
        ]
    )
    # Enough valid numbers in the sample that agreement on "valid" means something.
    numbers = np.concatenate(
        [numbers, make_cvr_numbers(rng.integers(1_000_000, 10_000_000, 5_000))]
    )

    ours = valid_cvr_numbers(numbers)
    theirs = np.array([cvr.is_valid(f"{n:08d}") for n in numbers.tolist()])

    assert ours.sum() > 5_000
    np.testing.assert_array_equal(ours, theirs)


def test_it_rejects_a_number_with_a_leading_zero_like_stdnum():
    # 04385608 passes modulus 11, but a CVR number never starts with 0.
    assert (
        sum(w * int(d) for w, d in zip((2, 7, 6, 5, 4, 3, 2, 1), "04385608", strict=True)) % 11 == 0
    )
    assert not cvr.is_valid("04385608")
    assert not valid_cvr_numbers([4_385_608]).any()


def test_check_digits_make_valid_numbers_and_skip_prefixes_without_one():
    prefixes = np.arange(1_358_560, 1_358_600)
    made = make_cvr_numbers(prefixes)

    assert all(cvr.is_valid(str(n)) for n in made.tolist())
    assert len(made) == int((check_digit(prefixes) >= 0).sum()) < len(prefixes)
