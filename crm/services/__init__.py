"""Every change to the CRM goes through one of these functions.

Each is keyword-only, runs in one transaction, writes the case's timeline entry in that same
transaction, and raises ``CrmError`` with a message that can be shown to the user as it is.
Notifications are written to the outbox (``crm.notifications``) in the same transaction and sent
after commit.

One module per idea: ``companies`` (companies and contacts), ``cases`` (a case's life, the cases
advisers open by hand, feedback), ``referrals``, ``deadlines`` (the response-time promise),
``followup`` (the reminder ladder and the survey), ``survey`` (the company's answer) and
``privacy`` (access, erasure, retention); ``common`` holds the error and the timeline entry. Other
code imports from ``crm.services`` itself.
"""

from crm.services.absences import (
    absence_advisers,
    absence_delete,
    absence_may_record,
    absence_of,
    absence_save,
    advisers_absent_on,
)
from crm.services.cases import (
    ALLOWED_TRANSITIONS,
    BY_HAND_OUTCOMES,
    CASE_SOURCES_BY_HAND,
    CaseOrigin,
    case_assign,
    case_close,
    case_create,
    case_note_add,
    case_register,
    case_reopen,
    case_transfer,
    case_transition,
    cases_hand_over,
    feedback_submit,
)
from crm.services.common import CrmError, integrity_error_scrubbed
from crm.services.companies import (
    company_find_or_create,
    company_find_or_register,
    contact_find_or_create,
    contact_submitted_details,
    contact_update,
)
from crm.services.deadlines import overdue_digests_queue
from crm.services.followup import (
    expected_response_by,
    followup_ladder_run,
    followup_run,
    referrals_follow_up,
    stale_cases_run,
    surveys_run,
)
from crm.services.merge import MergePlan, company_merge, company_merge_plan, may_merge
from crm.services.privacy import (
    ANONYMISED_COMPANY_NAME,
    ANONYMISED_NAME,
    NOT_PERSONAL,
    PERSONAL_DATA,
    Person,
    PersonalData,
    contact_cutoff,
    contacts_anonymise_expired,
    email_hash,
    person_erase,
    person_export,
    personal_data_register,
)
from crm.services.referrals import (
    referral_accept,
    referral_complete,
    referral_create,
    referral_decline,
)
from crm.services.repeats import (
    REOPEN_REASON,
    case_repeat_attach,
    case_repeat_find,
    cases_related_elsewhere,
    cases_related_flag,
    company_discard_unused,
)
from crm.services.state_aid import (
    current_participations,
    de_minimis_headroom,
    de_minimis_import,
)
from crm.services.survey import survey_answer_submit, survey_answer_summary

__all__ = [
    "ALLOWED_TRANSITIONS",
    "ANONYMISED_COMPANY_NAME",
    "ANONYMISED_NAME",
    "BY_HAND_OUTCOMES",
    "CASE_SOURCES_BY_HAND",
    "NOT_PERSONAL",
    "PERSONAL_DATA",
    "REOPEN_REASON",
    "CaseOrigin",
    "CrmError",
    "MergePlan",
    "Person",
    "PersonalData",
    "absence_advisers",
    "absence_delete",
    "absence_may_record",
    "absence_of",
    "absence_save",
    "advisers_absent_on",
    "case_assign",
    "case_close",
    "case_create",
    "case_note_add",
    "case_register",
    "case_reopen",
    "case_repeat_attach",
    "case_repeat_find",
    "case_transfer",
    "case_transition",
    "cases_hand_over",
    "cases_related_elsewhere",
    "cases_related_flag",
    "company_discard_unused",
    "company_find_or_create",
    "company_find_or_register",
    "company_merge",
    "company_merge_plan",
    "contact_cutoff",
    "contact_find_or_create",
    "contact_submitted_details",
    "contact_update",
    "contacts_anonymise_expired",
    "current_participations",
    "de_minimis_headroom",
    "de_minimis_import",
    "email_hash",
    "expected_response_by",
    "feedback_submit",
    "followup_ladder_run",
    "followup_run",
    "integrity_error_scrubbed",
    "may_merge",
    "overdue_digests_queue",
    "person_erase",
    "person_export",
    "personal_data_register",
    "referral_accept",
    "referral_complete",
    "referral_create",
    "referral_decline",
    "referrals_follow_up",
    "stale_cases_run",
    "survey_answer_submit",
    "survey_answer_summary",
    "surveys_run",
]
