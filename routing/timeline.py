"""The company's timeline on its status page, worded in the page's language.

The CRM stores each public timeline entry with a Danish text (for the adviser's case page and the
record) and with its action code and payload. The status page words each entry again from the
code and the payload through translatable strings, so an English page reads English. An entry
with a code this module does not know keeps its stored text, marked ``lang="da"``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from crm.models import Case, TimelineEntry
from offers.hub_terms import HUB_TERM
from offers.models import Offer, Organisation
from routing.presentation import long_date


@dataclass(frozen=True, slots=True)
class PublicEntry:
    at: dt.datetime
    text: str
    #: ``"da"`` when ``text`` is the stored Danish text (an unknown code), else ``None``.
    lang: str | None = None
    #: A referral's target: its name (Danish, as the offer or operator writes it) and address.
    target: str = ""
    target_url: str = ""


def _choice(choices: Any, value: Any) -> str:
    return str(dict(choices).get(value, value)) if value else ""


def _targets(entries: list[TimelineEntry]) -> tuple[dict[str, Offer], dict[str, Organisation]]:
    """The referred offers and operators of the entries, in two queries."""
    offer_ids = {
        entry.payload.get("offer")
        for entry in entries
        if entry.action == "crm.referral.created" and entry.payload.get("offer")
    }
    operator_slugs = {
        entry.payload.get("operator")
        for entry in entries
        if entry.action == "crm.referral.created" and entry.payload.get("operator")
    }
    offers = (
        {offer.external_id: offer for offer in Offer.objects.filter(external_id__in=offer_ids)}
        if offer_ids
        else {}
    )
    operators = (
        {org.slug: org for org in Organisation.objects.filter(slug__in=operator_slugs)}
        if operator_slugs
        else {}
    )
    return offers, operators


def _created_hub(case: Case, entries: list[TimelineEntry]) -> str:
    """The hub that received the request: the first transfer's source, else the case's hub."""
    transfer = (
        case.timeline.filter(action="crm.case.transferred").order_by("at", "id").first()
        if case.hub_id
        else None
    )
    if transfer is not None and transfer.payload.get("from_hub"):
        hub = Organisation.objects.filter(slug=transfer.payload["from_hub"]).first()
        if hub is not None:
            return hub.name
    return case.hub.name


def public_timeline(case: Case, entries: Iterable[TimelineEntry]) -> list[PublicEntry]:
    """``entries`` (the case's public timeline, oldest first) worded in the active language."""
    entries = list(entries)
    offers, operators = _targets(entries)
    worded: list[PublicEntry] = []
    for entry in entries:
        payload = entry.payload if isinstance(entry.payload, dict) else {}
        action = entry.action
        text: str | None = None
        target = target_url = ""
        if action == "crm.case.created":
            text = _("Henvendelsen er modtaget af %(hub)s.") % {"hub": _created_hub(case, entries)}
        elif action == "crm.case.assigned":
            text = _("En rådgiver har taget din sag.")
        elif action == "crm.case.handed_over":
            text = _("Din sag er overdraget til en anden rådgiver.")
        elif action == "crm.case.status_changed" and payload.get("to"):
            text = _("Sagens status er nu: %(status)s.") % {
                "status": _choice(Case.Status.choices, payload["to"])
            }
        elif action == "crm.case.closed" and payload.get("by") == "followup":
            text = _("Sagen er lukket, fordi %(hub)s ikke nåede at svare. Vi beklager.") % {
                "hub": HUB_TERM.the
            }
        elif action == "crm.case.closed" and payload.get("outcome"):
            text = _("Sagen er lukket: %(outcome)s.") % {
                "outcome": _choice(Case.Outcome.choices, payload["outcome"])
            }
        elif action == "crm.followup.company_update" and payload.get("expected_by"):
            try:
                expected = dt.date.fromisoformat(payload["expected_by"])
            except (TypeError, ValueError):
                expected = None
            if expected is not None:
                text = _(
                    "Vi beklager, at du endnu ikke har hørt fra os. Vi har ikke glemt din "
                    "henvendelse, og du kan forvente svar senest %(date)s."
                ) % {"date": long_date(expected)}
        elif action == "crm.case.reopened":
            text = _("Sagen er genåbnet: ny henvendelse.")
        elif action == "crm.case.repeat_request_received":
            text = _("Vi har modtaget din nye henvendelse og lagt den på denne sag.")
        elif action == "crm.referral.created":
            offer = offers.get(payload.get("offer") or "")
            operator = operators.get(payload.get("operator") or "")
            if offer is not None:
                target, target_url = offer.title, offer.get_absolute_url()
            elif operator is not None:
                target, target_url = operator.name, operator.website
            if target:
                text = _("Du er henvist til:")
        if text is None and entry.text:
            worded.append(PublicEntry(at=entry.at, text=entry.text, lang="da"))
        elif text is None:
            worded.append(PublicEntry(at=entry.at, text=str(entry.get_kind_display())))
        else:
            worded.append(PublicEntry(at=entry.at, text=text, target=target, target_url=target_url))
    return worded
