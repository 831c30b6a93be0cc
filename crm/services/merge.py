"""Merging duplicate companies: the same business registered twice (a CVR number written two
ways, or a founder without CVR who later registered one).

``company_merge_plan`` says what a merge would do, for the preview; ``company_merge`` does it, in
one transaction, with both companies locked:

- every case of the duplicate moves to the company kept, and with each case everything that hangs
  on it (timeline, matched offers, referrals, feedback, survey answer, follow-ups, e-mails, the
  guidance request and its status link);
- every contact moves too; a contact with the same e-mail as one of the kept company's (the one
  address a company has one contact for) is joined to that contact: its cases go to it, blank
  details are filled in from it, and what differed is kept in the merge's timeline entry;
- each fact of the company is the kept company's, or the duplicate's where the kept one has none
  (the CVR number too); two different CVR numbers are two companies and are never merged;
- participations and the register panel (``evaluation``) are keyed by CVR number: they follow the
  CVR the merged company keeps;
- each case of the merged company gets an internal timeline entry with both records as they were;
  the duplicate is deleted only once nothing refers to it.

Who may merge: a superuser, or an adviser of the hub that owns both, i.e. every case of both
companies is at the adviser's hub (and each has one there); nobody moves another hub's history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.hub_words import hub_text
from crm.models import (
    Case,
    Company,
    Contact,
    Feedback,
    Referral,
    SurveyAnswer,
    TimelineEntry,
)
from crm.permissions import adviser_hub_id, is_active_superuser
from crm.services.common import CrmError

if TYPE_CHECKING:
    from accounts.models import User

#: The company's facts a merge decides between, in the order the preview shows them.
FACTS = (
    "name",
    "cvr",
    "p_number",
    "municipality",
    "industry",
    "industry_classification",
    "size_class",
    "employees",
)


def may_merge(actor: User | Any, *companies: Company) -> bool:
    """A superuser, or an adviser whose hub holds every case of every one of ``companies``."""
    if is_active_superuser(actor):
        return True
    hub_id = adviser_hub_id(actor)
    if hub_id is None:
        return False
    ids = [company.pk for company in companies]
    hubs = Case.objects.filter(company_id__in=ids).values_list("company_id", "hub_id").distinct()
    owned = {company_id for company_id, hub in hubs if hub == hub_id}
    foreign = any(hub != hub_id for _, hub in hubs)
    return not foreign and owned == set(ids)


@dataclass
class Fact:
    name: str
    label: str
    kept: Any
    duplicate: Any
    result: Any
    source: str  # "kept", "duplicate" or "" when both are empty


@dataclass
class MergePlan:
    kept: Company
    duplicate: Company
    facts: list[Fact]
    counts: dict[str, dict[str, int]]
    # (duplicate's contact, kept company's contact with the same e-mail)
    joined_contacts: list[tuple[Contact, Contact]] = field(default_factory=list)
    error: str = ""


def _blank(value: Any) -> bool:
    return value in (None, "")


def _counts(company: Company) -> dict[str, int]:
    cases = Case.objects.filter(company=company)
    return {
        "contacts": Contact.objects.filter(company=company).count(),
        "cases": cases.count(),
        "timeline": TimelineEntry.objects.filter(case__in=cases).count(),
        "referrals": Referral.objects.filter(case__in=cases).count(),
        "survey_answers": SurveyAnswer.objects.filter(case__in=cases).count(),
        "feedback": Feedback.objects.filter(case__in=cases).count(),
    }


def _joined(kept: Company, duplicate: Company) -> list[tuple[Contact, Contact]]:
    by_email = {
        contact.email.lower(): contact
        for contact in Contact.objects.filter(company=kept).exclude(email="")
    }
    return [
        (contact, by_email[contact.email.lower()])
        for contact in Contact.objects.filter(company=duplicate).exclude(email="").order_by("pk")
        if contact.email.lower() in by_email
    ]


def company_merge_plan(*, kept: Company, duplicate: Company) -> MergePlan:
    """What merging ``duplicate`` into ``kept`` moves and keeps (the preview; nothing changes)."""
    facts = []
    for name in FACTS:
        mine, theirs = getattr(kept, name), getattr(duplicate, name)
        if not _blank(mine):
            result, source = mine, "kept"
        elif not _blank(theirs):
            result, source = theirs, "duplicate"
        else:
            result, source = mine, ""
        label = str(getattr(Company._meta.get_field(name), "verbose_name", name))
        facts.append(Fact(name, label, mine, theirs, result, source))
    error = ""
    if kept.pk == duplicate.pk:
        error = _("Vælg to forskellige virksomheder.")
    elif kept.cvr and duplicate.cvr and kept.cvr != duplicate.cvr:
        error = _(
            "De to virksomheder har hvert sit CVR-nummer og er to virksomheder. De kan ikke slås "
            "sammen."
        )
    return MergePlan(
        kept=kept,
        duplicate=duplicate,
        facts=facts,
        counts={"kept": _counts(kept), "duplicate": _counts(duplicate)},
        joined_contacts=_joined(kept, duplicate),
        error=error,
    )


def _snapshot(company: Company) -> dict[str, Any]:
    return {
        "id": company.pk,
        **{
            name: (
                getattr(company, f"{name}_id") if name == "municipality" else getattr(company, name)
            )
            for name in FACTS
        },
    }


@transaction.atomic
def company_merge(
    *, kept: Company, duplicate: Company, actor: User | Any, now: dt.datetime | None = None
) -> Company:
    """Merge ``duplicate`` into ``kept`` (see the module); the merged company."""
    now = now or timezone.now()
    locked = {
        company.pk: company
        for company in Company.objects.select_for_update()
        .filter(pk__in=[kept.pk, duplicate.pk])
        .order_by("pk")
    }
    if kept.pk not in locked or duplicate.pk not in locked:
        raise CrmError(_("Virksomheden findes ikke længere."))
    kept, duplicate = locked[kept.pk], locked[duplicate.pk]
    if not may_merge(actor, kept, duplicate):
        raise CrmError(
            hub_text(
                _("Du kan kun slå virksomheder sammen, når alle deres sager ligger i dit %(hub)s.")
            )
        )
    plan = company_merge_plan(kept=kept, duplicate=duplicate)
    if plan.error:
        raise CrmError(plan.error, field="cvr")
    before = {"kept": _snapshot(kept), "duplicate": _snapshot(duplicate)}
    counts = plan.counts["duplicate"]

    # Contacts: the same address joins the kept company's contact; the rest move as they are.
    joined = []
    for theirs, ours in plan.joined_contacts:
        # Every row pointing at the person (cases; upper apps' rows such as routing's repeat
        # requests, which record who sent them) follows to the contact kept.
        for relation in Contact._meta.related_objects:
            relation.related_model._default_manager.filter(**{relation.field.name: theirs}).update(
                **{relation.field.name: ours}
            )
        filled = [
            name
            for name in ("phone", "role", "consent_at", "consent_version")
            if _blank(getattr(ours, name)) and not _blank(getattr(theirs, name))
        ]
        for name in filled:
            setattr(ours, name, getattr(theirs, name))
        if filled:
            ours.save(update_fields=filled)
        joined.append(
            {
                "into": ours.pk,
                "from": theirs.pk,
                "name": theirs.name,
                "phone": theirs.phone,
                "role": theirs.role,
                "filled": filled,
            }
        )
        theirs.delete()
    Contact.objects.filter(company=duplicate).update(company=kept)
    moved_cases = list(Case.objects.filter(company=duplicate).values_list("pk", flat=True))
    Case.objects.filter(pk__in=moved_cases).update(company=kept)

    # Facts: the kept company's, else the duplicate's; a CVR moves only once the duplicate
    # has let go of it (the CVR is unique).
    changed = [fact.name for fact in plan.facts if fact.source == "duplicate"]
    if "cvr" in changed:
        Company.objects.filter(pk=duplicate.pk).update(cvr=None)
    for fact in plan.facts:
        if fact.source == "duplicate":
            setattr(kept, fact.name, fact.result)
    if changed:
        kept.save(update_fields=[*changed, "updated_at"])
    remaining = Contact.objects.filter(company=duplicate).exists() or (
        Case.objects.filter(company=duplicate).exists()
    )
    if remaining:  # pragma: no cover - every relation is moved above
        raise CrmError(_("Virksomheden har stadig data og kan ikke slås sammen."))
    duplicate.delete()

    text = _("%(duplicate)s er slået sammen med %(kept)s (dublet).") % {
        "duplicate": before["duplicate"]["name"],
        "kept": kept.name,
    }
    payload = {
        "kept": {k: _plain(v) for k, v in before["kept"].items()},
        "duplicate": {k: _plain(v) for k, v in before["duplicate"].items()},
        "taken_from_duplicate": changed,
        "moved": {**counts, "case_ids": moved_cases},
        "joined_contacts": joined,
    }
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(
                case_id=case_id,
                kind=TimelineEntry.Kind.NOTE,
                action="crm.company.merged",
                actor=actor if getattr(actor, "pk", None) else None,
                at=now,
                text=text,
                payload=payload,
                is_public=False,
            )
            for case_id in Case.objects.filter(company=kept).values_list("pk", flat=True)
        ],
        batch_size=1000,
    )
    return kept


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
