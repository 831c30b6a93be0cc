"""Masking of e-mail addresses, phone numbers and a person's name in free text.

Pure: no ORM, no settings. Anonymous page feedback is masked before it is stored; when the CRM
anonymises a contact, the free text of their cases (needs, notes, outcomes) is masked with their
name too. Masking errs on the side of privacy: an eight-digit number that is not a phone number
(a CVR number, say) is masked too, and so is a capitalised word that is also part of the name.
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


# "2024-2025": a span of years, not a phone number written 1234-5678.
_YEARS = re.compile(r"(?P<first>(?:19|20)\d\d)[-–](?P<last>(?:19|20)\d\d)")
_YEAR_SPAN = 30


def _phone_or_years(match: re.Match[str]) -> str:
    years = _YEARS.fullmatch(match.group(0))
    if years and 0 <= int(years["last"]) - int(years["first"]) <= _YEAR_SPAN:
        return match.group(0)
    return PHONE_MASK


def mask_personal_data(text: str) -> str:
    """``text`` with every e-mail address and phone number replaced by a neutral marker."""
    masked = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE.sub(_phone_or_years, masked)


def mask_person(text: str, *, names: Iterable[str] = ()) -> str:
    """``text`` masked as :func:`mask_personal_data` and with each of ``names`` replaced.

    A whole name goes in any case ("ole hansen"); each part of it of at least
    :data:`MIN_NAME_PART` letters goes only where it is written with a capital or in capitals,
    as names are ("Ole vil eksportere" loses "Ole", "hans firma" keeps "hans" for the name
    Hans). Punctuation in the stored name does not count ("Hansen, Ole", "(Søren)").
    """
    wholes: set[str] = set()
    parts: set[str] = set()
    for name in names:
        words = re.findall(r"\w+", name)
        if not words:
            continue
        wholes.add(" ".join(words))
        for word in words:
            if len(word) >= MIN_NAME_PART:
                parts.update({word[0].upper() + word[1:], word.upper()})
    masked = mask_personal_data(text)
    if wholes:
        # Longest first; words of the whole name may be apart by any spaces or punctuation.
        whole = "|".join(
            r"\W+".join(re.escape(word) for word in phrase.split())
            for phrase in sorted(wholes, key=len, reverse=True)
        )
        masked = re.sub(rf"(?<!\w)(?:{whole})(?!\w)", NAME_MASK, masked, flags=re.IGNORECASE)
    if parts:
        single = "|".join(re.escape(part) for part in sorted(parts, key=len, reverse=True))
        masked = re.sub(rf"(?<!\w)(?:{single})(?!\w)", NAME_MASK, masked)
    return masked
