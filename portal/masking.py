"""Masking of e-mail addresses, phone numbers and a person's name in free text.

Pure: no ORM, no settings. Anonymous page feedback is masked before it is stored; when the CRM
anonymises a contact, the free text of their cases (needs, notes, outcomes) is masked with their
name too. Masking errs on the side of privacy: an eight-digit number that is not a phone number
(a CVR number, say) is masked too, and so is an ordinary word that is also part of the name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL_MASK = "[e-mail]"
PHONE_MASK = "[telefonnummer]"
NAME_MASK = "[navn]"
#: Parts of a name shorter than this are left alone ("Bo", "Li"): too many ordinary words match.
MIN_NAME_PART = 3

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)

# Danish numbers are eight digits, written 12345678, 12 34 56 78, 1234 5678 or 12-34-56-78, with or
# without +45 / 0045 / (+45) in front. Foreign numbers start with + and a country code.
_DANISH_PREFIX = r"(?:\(\+45\)|\+45|0045)[\s.-]?"
_DANISH_NUMBER = (
    r"(?:\d{8}"
    r"|\d{2}(?P<sep>[\s.-])\d{2}(?P=sep)\d{2}(?P=sep)\d{2}"
    r"|\d{4}[\s.-]\d{4})"
)
_PHONE = re.compile(
    rf"(?<![\w+])(?:(?:{_DANISH_PREFIX})?{_DANISH_NUMBER}"
    r"|\+\d{1,3}[\s.-]?(?:\(0\)\s?)?(?:\d[\s.-]?){6,12}\d)(?![\w])"
)


def mask_personal_data(text: str) -> str:
    """``text`` with every e-mail address and phone number replaced by a neutral marker."""
    masked = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE.sub(PHONE_MASK, masked)


def mask_person(text: str, *, names: Iterable[str] = ()) -> str:
    """``text`` masked as :func:`mask_personal_data` and with each of ``names`` (a whole name and
    each part of it of at least :data:`MIN_NAME_PART` letters) replaced, as whole words, in any
    case."""
    parts: set[str] = set()
    for name in names:
        name = " ".join(name.split())
        if not name:
            continue
        parts.add(name)
        parts.update(part for part in re.split(r"[\s-]+", name) if len(part) >= MIN_NAME_PART)
    masked = mask_personal_data(text)
    if not parts:
        return masked
    # Longest first, so "Ole Hansen" goes as one before "Ole" and "Hansen" are tried.
    alternatives = "|".join(re.escape(part) for part in sorted(parts, key=len, reverse=True))
    return re.sub(rf"(?<!\w)(?:{alternatives})(?!\w)", NAME_MASK, masked, flags=re.IGNORECASE)
