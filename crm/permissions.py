"""Who sees and changes which case, company and contact in the CRM.

- A superuser sees and changes everything.
- An adviser (group "Rådgiver") at a Væksthus changes only the cases of their own hub, and sees,
  read-only, the other hubs' cases of the same companies (the shared history), without the
  contact details and the free text of those cases (``sees_texts_of``).
- An analyst sees every case and company for statistics, never a contact nor a free text.
- Anyone else, editors included, sees nothing in the CRM.

The rules about a user are here; ``crm.querysets`` turns them into the scoped reads
(``Case.objects.visible_to(user)``, ``editable_by(user)``), and the admin asks them per page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from accounts.models import User
    from crm.models import Case


def adviser_hub_id(user: User | Any) -> int | None:
    """The hub an adviser works for, or None when the user is not a Væksthus adviser."""
    if not user.is_authenticated or not user.is_active or user.organisation_id is None:
        return None
    if not user.is_adviser:
        return None
    organisation = user.organisation
    if organisation is None or organisation.kind != "business_hub":
        return None
    return int(user.organisation_id)


def is_active_superuser(user: User | Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def sees_all_cases(user: User | Any) -> bool:
    """Superusers and analysts read every case and company."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.is_analyst))


def works_cases(user: User | Any) -> bool:
    """A superuser or a hub's adviser: opens cases, reads contacts and the internal texts."""
    return bool(user.is_superuser or adviser_hub_id(user) is not None)


def sees_contact_of(user: User | Any, case: Case) -> bool:
    """Contact details only for the case's own hub (and superusers)."""
    if user.is_superuser:
        return True
    return adviser_hub_id(user) == case.hub_id


def sees_texts_of(user: User | Any, case: Case) -> bool:
    """The free text of a case (needs, notes, outcome, referral notes and outcomes) only for the
    case's own hub (and superusers): it often names people and their phone numbers. Other hubs
    and analysts see dates, statuses, offers and outcome categories."""
    if is_active_superuser(user):
        return True
    hub_id = adviser_hub_id(user)
    return hub_id is not None and hub_id == case.hub_id


def may_take(user: User | Any, case: Case) -> bool:
    """An adviser of the case's hub may take a case that is not already theirs."""
    return bool(case.adviser_id != user.pk and adviser_hub_id(user) == case.hub_id)


def cases_found_by_contact(user: User | Any, cases: QuerySet[Case]) -> QuerySet[Case] | None:
    """Of ``cases`` found by their contact's name, those the user may find that way.

    A superuser all of them, an adviser their own hub's: other hubs' contacts are private, so
    anyone else (analysts included) cannot search by contact at all (None).
    """
    if user.is_superuser:
        return cases
    hub_id = adviser_hub_id(user)
    return None if hub_id is None else cases.filter(hub_id=hub_id)


def operator_organisation_id(user: User | Any) -> int | None:
    """The organisation an operator's staff member answers referrals for (role "Operatør"), or
    None. Such a user sees the referrals to that organisation and nothing else of the CRM: not the
    case, its timeline, other referrals, the company's other cases, nor any other contact than the
    one the adviser chose to share (``Referral.share_contact``)."""
    if not user.is_authenticated or not user.is_active or user.organisation_id is None:
        return None
    if not user.is_operator:
        return None
    return int(user.organisation_id)


def answers_referral(user: User | Any, referral: Any) -> bool:
    """The operator the referral goes to: its own operator, or its offer's."""
    organisation_id = operator_organisation_id(user)
    if organisation_id is None:
        return False
    offer_operator_id = referral.offer.operator_id if referral.offer_id else None
    return organisation_id in (referral.operator_id, offer_operator_id)
