"""The CVR modulus-11 check for millions of numbers at once.

``stdnum.dk.cvr`` checks one string at a time, which is right for a form but takes seconds for a
register of three million company-years. This is the same rule on a numpy array: eight digits,
no leading zero, and the digits weighted 2, 7, 6, 5, 4, 3, 2, 1 sum to a multiple of 11.
``tests/evaluation/test_cvr.py`` proves the two agree.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

WEIGHTS: Final = np.array([2, 7, 6, 5, 4, 3, 2, 1], dtype=np.int64)
_POWERS: Final = 10 ** np.arange(7, -1, -1, dtype=np.int64)


def valid_cvr_numbers(numbers: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether each integer is a valid CVR number (8 digits, first not 0, modulus 11)."""
    values = np.asarray(numbers, dtype=np.int64)
    in_range = (values >= 10_000_000) & (values <= 99_999_999)
    digits = (values[:, None] // _POWERS) % 10
    checksum = (digits * WEIGHTS).sum(axis=1) % 11
    result: npt.NDArray[np.bool_] = in_range & (checksum == 0)
    return result


def check_digit(first_seven: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The eighth digit that makes seven leading digits a valid CVR number, or -1 if none does.

    For the synthetic registers of the demo and the benchmark.
    """
    values = np.asarray(first_seven, dtype=np.int64)
    digits = (values[:, None] // _POWERS[1:]) % 10
    partial = (digits * WEIGHTS[:7]).sum(axis=1) % 11
    # The last weight is 1, so the check digit is whatever brings the sum to 0 mod 11.
    needed = (11 - partial) % 11
    result: npt.NDArray[np.int64] = np.where(needed <= 9, needed, -1)
    return result


def make_cvr_numbers(first_seven: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Valid CVR numbers from distinct seven-digit prefixes (1,000,000-9,999,999).

    Prefixes for which no check digit exists are dropped.
    """
    values = np.asarray(first_seven, dtype=np.int64)
    digit = check_digit(values)
    keep = digit >= 0
    result: npt.NDArray[np.int64] = values[keep] * 10 + digit[keep]
    return result
