"""What each role may do in the catalogue (see accounts/roles.py)."""

PERMISSIONS = {
    "Redaktør": [
        "offers.view_offer",
        "offers.add_offer",
        "offers.change_offer",
        "offers.view_organisation",
        "offers.view_theme",
        "offers.view_region",
        "offers.view_municipality",
        "offers.view_strengthposition",
    ],
    "Rådgiver": [
        "offers.view_offer",
        "offers.view_organisation",
        "offers.view_theme",
    ],
    "Analytiker": [
        "offers.view_offer",
        "offers.view_organisation",
        "offers.view_theme",
        "offers.view_region",
        "offers.view_municipality",
        "offers.view_strengthposition",
    ],
}
