"""Signed links in the saved-search e-mails: confirm (expires) and unsubscribe (never expires).

The links carry only the saved search's id, signed with the project's secret and a purpose of
its own, so a confirmation link cannot be turned into an unsubscribe link or the reverse.
"""

from __future__ import annotations

import datetime as dt

from django.core import signing

CONFIRMATION_MAX_AGE = dt.timedelta(days=3)

_CONFIRM_SALT = "governance.saved-search.confirm"
_UNSUBSCRIBE_SALT = "governance.saved-search.unsubscribe"


class ExpiredLink(Exception):
    pass


class BadLink(Exception):
    pass


def confirmation_token(saved_search_id: int) -> str:
    return signing.TimestampSigner(salt=_CONFIRM_SALT).sign(str(saved_search_id))


def confirmation_id(token: str) -> int:
    try:
        value = signing.TimestampSigner(salt=_CONFIRM_SALT).unsign(
            token, max_age=CONFIRMATION_MAX_AGE
        )
    except signing.SignatureExpired:
        raise ExpiredLink from None
    except signing.BadSignature:
        raise BadLink from None
    return int(value)


def unsubscribe_token(saved_search_id: int) -> str:
    return signing.Signer(salt=_UNSUBSCRIBE_SALT).sign(str(saved_search_id))


def unsubscribe_id(token: str) -> int:
    try:
        return int(signing.Signer(salt=_UNSUBSCRIBE_SALT).unsign(token))
    except signing.BadSignature:
        raise BadLink from None
