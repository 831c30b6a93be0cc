"""What each role may do with governance data in the admin (see accounts/roles.py).

A region's editors and analysts keep that region's growth strategy, agreements and initiatives;
the admin scopes the rows (governance.admin). Feedback, usage, service standards and the trend
have their own pages under /analyse/, which check the role themselves.
"""

_AGREEMENTS = [
    "governance.view_growthstrategy",
    "governance.add_growthstrategy",
    "governance.change_growthstrategy",
    "governance.view_growthagreement",
    "governance.add_growthagreement",
    "governance.change_growthagreement",
    "governance.view_commitment",
    "governance.add_commitment",
    "governance.change_commitment",
    "governance.delete_commitment",
]

# Quarterly reports: every role may download its own organisation's (governance.admin scopes).
_REPORTS = ["governance.view_quarterlyreport"]

PERMISSIONS = {
    "Rådgiver": list(_REPORTS),
    "Redaktør": [*_AGREEMENTS, *_REPORTS],
    "Analytiker": [*_AGREEMENTS, *_REPORTS],
}
