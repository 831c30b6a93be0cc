"""What each role may do in the CRM (see accounts/roles.py).

Advisers work cases and open them for companies that phone, write or are referred by their
municipality; analysts read cases and companies for statistics but never contacts (the
admin also hides contact fields and internal texts from them); editors have no access to the CRM;
operators see and answer the referrals to their own organisation only.
"""

PERMISSIONS = {
    "Rådgiver": [
        "crm.view_company",
        "crm.change_company",
        "crm.view_contact",
        "crm.change_contact",
        "crm.view_case",
        "crm.add_case",
        "crm.change_case",
        "crm.view_referral",
        "crm.change_referral",
        "crm.view_timelineentry",
        "crm.add_timelineentry",
    ],
    "Analytiker": [
        "crm.view_company",
        "crm.view_case",
    ],
    # Staff of an operator: the referrals to their organisation, nothing else (crm.admin.operators).
    "Operatør": [
        "crm.view_operatorreferral",
        "crm.change_operatorreferral",
    ],
}
