"""De minimis: the register extract import, a company's headroom, and its current participations.

The rule and the arithmetic are in ``crm/state_aid.py`` (pure); this module loads the aid.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import IO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from stdnum.dk import cvr as cvr_number
from stdnum.exceptions import ValidationError as StdnumValidationError

from core.time import COPENHAGEN
from crm import state_aid
from crm.models import Company, DeMinimisAid, Referral
from crm.services.common import CrmError
from offers.models import Offer

#: The columns of the register extract, in this order (docs/interfaces.md).
DE_MINIMIS_COLUMNS = ("cvr", "granted_on", "amount_dkk", "grantor")
#: At most this many bad lines are named in one rejection.
MAX_ERRORS = 20


def de_minimis_import(*, source: IO[bytes], now: dt.datetime | None = None) -> int:
    """Replace the register extract with the CSV ``source``; all or nothing.

    Returns the number of lines read. Any bad line rejects the whole file with a ``CrmError``
    that names each bad line and field (at most :data:`MAX_ERRORS`).
    """
    now = now or timezone.now()
    try:
        text = source.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CrmError(_("Filen skal være UTF-8."), field="file") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != list(DE_MINIMIS_COLUMNS):
        raise CrmError(
            _("Linje 1: kolonnerne skal være %(columns)s.")
            % {"columns": ",".join(DE_MINIMIS_COLUMNS)},
            field="file",
        )
    rows: list[DeMinimisAid] = []
    errors: list[str] = []
    for number, line in enumerate(reader, start=2):
        if not any(cell.strip() for cell in line):
            continue
        aid, problem = _aid_of(line, now)
        if problem:
            errors.append(_("linje %(line)d, %(problem)s") % {"line": number, "problem": problem})
        elif aid is not None:
            rows.append(aid)
    if errors:
        shown = "; ".join(errors[:MAX_ERRORS])
        more = len(errors) - MAX_ERRORS
        if more > 0:
            shown += " " + _("(og %(count)d linjer mere)") % {"count": more}
        raise CrmError(_("Intet er indlæst. %(errors)s") % {"errors": shown}, field="file")
    if not rows:
        raise CrmError(_("Filen har ingen rækker; intet er indlæst."), field="file")
    with transaction.atomic():
        DeMinimisAid.objects.all().delete()
        DeMinimisAid.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def _aid_of(line: list[str], now: dt.datetime) -> tuple[DeMinimisAid | None, str]:
    if len(line) != len(DE_MINIMIS_COLUMNS):
        return None, _("forventede %(expected)d felter, fandt %(found)d") % {
            "expected": len(DE_MINIMIS_COLUMNS),
            "found": len(line),
        }
    cvr, granted, amount, grantor = (cell.strip() for cell in line)
    try:
        cvr = cvr_number.validate(cvr)
    except StdnumValidationError:
        return None, _("felt cvr: ugyldigt CVR-nummer")
    try:
        granted_on = dt.date.fromisoformat(granted)
    except ValueError:
        return None, _("felt granted_on: datoen skal skrives ÅÅÅÅ-MM-DD")
    if granted_on > timezone.localtime(now, COPENHAGEN).date():
        return None, _("felt granted_on: datoen ligger i fremtiden")
    if not amount.isdigit():
        return None, _("felt amount_dkk: skal være et helt antal kroner")
    if len(grantor) > 200:
        return None, _("felt grantor: højst 200 tegn")
    return (
        DeMinimisAid(
            cvr=cvr, granted_on=granted_on, amount_dkk=int(amount), grantor=grantor, imported_at=now
        ),
        "",
    )


def de_minimis_aids(cvr: str | None) -> list[state_aid.Aid]:
    """Every de minimis grant known for the company: its completed CRM participations in de
    minimis offers (the offer's aid value, on the day the referral was completed) and the lines
    of the register extract."""
    if not cvr:
        return []
    completed = Referral.objects.filter(
        case__company__cvr=cvr,
        status=Referral.Status.COMPLETED,
        offer__state_aid_basis="de_minimis",
        offer__aid_value_dkk__isnull=False,
    ).values_list("completed_at", "offer__aid_value_dkk")
    aids = [
        state_aid.Aid(granted_on=timezone.localtime(at, COPENHAGEN).date(), amount_dkk=amount)
        for at, amount in completed
        if at is not None and amount is not None
    ]
    aids += [
        state_aid.Aid(granted_on=granted_on, amount_dkk=amount)
        for granted_on, amount in DeMinimisAid.objects.filter(cvr=cvr).values_list(
            "granted_on", "amount_dkk"
        )
    ]
    return aids


def de_minimis_headroom(*, cvr: str | None, day: dt.date) -> state_aid.Headroom:
    """The company's de minimis headroom on ``day`` under the settings' ceiling and rate."""
    return state_aid.headroom(
        de_minimis_aids(cvr),
        day=day,
        ceiling_eur=settings.DE_MINIMIS_CEILING_EUR,
        dkk_per_eur=settings.DE_MINIMIS_DKK_PER_EUR,
    )


def current_participations(cvr: str | None) -> dict[str, str]:
    """The offers the company takes part in now (accepted referrals): external id -> title."""
    if not cvr:
        return {}
    return dict(
        Referral.objects.filter(
            case__company__cvr=cvr, status=Referral.Status.ACCEPTED, offer__isnull=False
        ).values_list("offer__external_id", "offer__title")
    )


def state_aid_notes(company: Company, offers: Sequence[Offer]) -> dict[int, str]:
    """For the adviser's offer picker (``crm.offer_notes``): offers the company's de minimis
    headroom does not cover, and offers that cannot be combined with a current participation."""
    if not company.cvr or not offers:
        return {}
    position = de_minimis_headroom(cvr=company.cvr, day=timezone.localdate())
    current = current_participations(company.cvr)
    clashing: dict[int, list[str]] = {}
    if current:
        through = Offer.cannot_combine_with.through.objects.filter(
            from_offer_id__in=[o.pk for o in offers], to_offer__external_id__in=list(current)
        )
        for offer_id, title in through.values_list("from_offer_id", "to_offer__title"):
            clashing.setdefault(offer_id, []).append(title)
    notes: dict[int, str] = {}
    for offer in offers:
        parts = []
        if offer.pk in clashing:
            parts.append(
                _("Kan ikke kombineres med %(offers)s, som virksomheden deltager i nu")
                % {"offers": ", ".join(sorted(clashing[offer.pk]))}
            )
        if (
            offer.state_aid_basis == "de_minimis"
            and offer.aid_value_dkk is not None
            and not position.allows(offer.aid_value_dkk)
        ):
            parts.append(
                _(
                    "De minimis-støtte på %(aid)s kr. overstiger virksomhedens rådighedsbeløb "
                    "på %(headroom)s kr."
                )
                % {
                    "aid": number_format(offer.aid_value_dkk, force_grouping=True),
                    "headroom": number_format(position.remaining_dkk, force_grouping=True),
                }
            )
        if parts:
            notes[offer.pk] = "; ".join(parts)
    return notes
