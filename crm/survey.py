"""The survey's private link: signed, one click, no login, and only for a while.

The link carries the case's id signed with the site's secret (``django.core.signing``, salted for
this purpose only) and the time it was made, so nothing is stored to look it up and a link cannot
be guessed or altered into another case's. It is good for ``SURVEY_LINK_DAYS`` days after the
e-mail; the reminder carries a fresh one.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "crm.survey"


class SurveyLinkInvalid(Exception):
    """The link was altered, cut short or never made here."""


class SurveyLinkExpired(Exception):
    """The link is genuine but older than ``SURVEY_LINK_DAYS``."""


def survey_token(case_id: int) -> str:
    return signing.dumps(case_id, salt=_SALT, compress=False)


def survey_url(case_id: int) -> str:
    return settings.SITE_URL + reverse("crm:survey", kwargs={"token": survey_token(case_id)})


def survey_case_id(token: str) -> int:
    """The case id a link is for; raises ``SurveyLinkInvalid`` or ``SurveyLinkExpired``."""
    try:
        value = signing.loads(
            token[:200], salt=_SALT, max_age=dt.timedelta(days=settings.SURVEY_LINK_DAYS)
        )
    except signing.SignatureExpired:
        raise SurveyLinkExpired from None
    except signing.BadSignature:
        raise SurveyLinkInvalid from None
    if not isinstance(value, int) or isinstance(value, bool):
        raise SurveyLinkInvalid
    return value
