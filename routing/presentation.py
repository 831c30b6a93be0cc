"""What a company reads about its request: status labels, dates, the hub's contact details.

Shared by the pages and the API so both say the same thing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from crm.models import Case
from offers.models import Organisation

#: The case status in the company's words (the CRM's labels are written for advisers).
PUBLIC_STATUS: dict[str, StrOrPromise] = {
    Case.Status.NEW: _("Modtaget – venter på en rådgiver"),
    Case.Status.ASSIGNED: _("En rådgiver har taget din sag"),
    Case.Status.IN_PROGRESS: _("Rådgiveren arbejder på din sag"),
    Case.Status.REFERRED: _("Du er henvist til et tilbud"),
    Case.Status.CLOSED: _("Sagen er lukket"),
}


def public_status(status: str) -> StrOrPromise:
    return PUBLIC_STATUS.get(status, status)


def long_date(day: dt.date) -> str:
    """A date the way Danes write it in a letter: "tirsdag den 1. december 2026"."""
    # Translators: a PHP-style date format; in English e.g. "l j F Y".
    return date_format(day, str(_("l \\d\\e\\n j. F Y")))


def hub_contact(hub: Organisation) -> dict[str, Any]:
    """The hub's public contact details, as the confirmation and the API give them."""
    return {
        "slug": hub.slug,
        "name": hub.name,
        "email": hub.contact_email,
        "phone": hub.contact_phone,
        "address": hub.address,
        "website": hub.website,
    }
