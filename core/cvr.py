"""CVR numbers for demo, test and benchmark data that pass the modulus-11 check. Pure, no ORM."""

from __future__ import annotations

from collections.abc import Iterator

WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def check_digit(first_seven: str) -> int | None:
    """The eighth digit that makes the weighted sum divisible by 11, or None when none does."""
    total = sum(int(digit) * weight for digit, weight in zip(first_seven, WEIGHTS, strict=False))
    digit = -total % 11
    return None if digit == 10 else digit


def valid_cvrs(start: int = 1_000_000) -> Iterator[str]:
    """Distinct valid CVR numbers in increasing order, from the 7-digit prefix ``start`` on.

    One prefix in eleven has no valid check digit and is skipped.
    """
    for prefix in range(start, 10_000_000):
        digit = check_digit(str(prefix))
        if digit is not None:
            yield f"{prefix}{digit}"
