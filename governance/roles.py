"""What each role may do with governance data (see accounts/roles.py).

The analyst pages under /analyse/ check the role itself; these permissions are for the admin.
A region's editors and analysts keep that region's growth agreements; the admin scopes the rows.
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

PERMISSIONS = {
    "Redaktør": [*_AGREEMENTS],
    "Analytiker": [
        *_AGREEMENTS,
        "governance.view_pagefeedback",
        "governance.view_pageview",
        "governance.view_zeroresultsearch",
        "governance.view_cataloguesnapshot",
    ],
}
