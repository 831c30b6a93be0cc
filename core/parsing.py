"""Reading numbers and text from query strings without surprises."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def parse_int(text: object, *, max_digits: int = 9) -> int | None:
    """A whole number written with ASCII digits only, else None.

    ``str.isdigit()`` alone is not enough: it accepts "²" and other Unicode digits that ``int()``
    rejects, which turned a hand-edited link into a server error.
    """
    if not isinstance(text, str) or not 0 < len(text) <= max_digits:
        return None
    if not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def without_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL characters; a parameter carrying one is read without."""
    return text.replace("\x00", "")


def blank_parameters(values_of: Callable[[str], list[str]], names: Iterable[str]) -> list[str]:
    """The parameters among ``names`` given with an empty value (``?size=``).

    ``values_of`` is a query dict's ``getlist``. For a parameter whose values come from a fixed
    list, an empty value is not one of them: the API refuses it rather than quietly ignoring it.
    """
    return [name for name in names if any(not value.strip() for value in values_of(name))]
