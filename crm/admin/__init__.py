"""The adviser's workspace: the case queue, the case page with its quick forms, the company page.

Every change made here goes through one service in ``crm.services`` and is written to the admin's
audit log (``LogEntry``), which superusers read under "Revisionslog". Importing the package
registers every CRM admin:

- ``cases``: the queue and the case page (``case_page``, ``case_actions``) and "Opret sag"
  (``case_add``), with the list's ``filters``, ``search``, ``pagination`` and ``display``;
- ``companies``: companies with their shared history, and contacts;
- ``operators``: for an operator's staff, the referrals to their organisation and their answers;
- ``absences``: advisers' absences, and ``handover`` of all of an adviser's open cases;
- ``followup``: for superusers, who leads each hub (alerted by the reminder ladder);
- ``audit``: for superusers, the audit log, the e-mail outbox (``outbox``, with "Send igen")
  and the erasure records.

Who may see what is decided in ``crm.permissions``.
"""

from crm.admin.absences import AbsenceAdmin
from crm.admin.audit import ErasureRecordAdmin, LogEntryAdmin
from crm.admin.cases import CaseAdmin
from crm.admin.companies import CompanyAdmin, ContactAdmin
from crm.admin.followup import HubLeadAdmin
from crm.admin.operators import OperatorReferralAdmin
from crm.admin.outbox import OutboxAdmin
from crm.admin.pagination import LIST_COUNT_CAP, CappedPaginator

__all__ = [
    "LIST_COUNT_CAP",
    "AbsenceAdmin",
    "CappedPaginator",
    "CaseAdmin",
    "CompanyAdmin",
    "ContactAdmin",
    "ErasureRecordAdmin",
    "HubLeadAdmin",
    "LogEntryAdmin",
    "OperatorReferralAdmin",
    "OutboxAdmin",
]
