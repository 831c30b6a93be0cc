"""Masking of e-mail addresses and phone numbers in free text typed by anonymous visitors.

Pure: no ORM, no settings. Feedback is anonymous, so whatever a visitor types that could identify
a person is replaced before the text is stored. Masking errs on the side of privacy: an eight-digit
number that is not a phone number (a CVR number, say) is masked too.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[e-mail]"
PHONE_MASK = "[telefonnummer]"

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
