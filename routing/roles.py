"""What each role may do with routing (see accounts/roles.py).

Routing rules are service agreements between hubs, municipalities and business regions; they are
maintained centrally by superusers. Editors extend the needs vocabulary. Advisers see the rules
and their own hub's requests; analysts read every request for the statistics.
"""

PERMISSIONS = {
    "Rådgiver": [
        "routing.view_routingrule",
        "routing.view_guidancerequest",
    ],
    "Analytiker": [
        "routing.view_routingrule",
        "routing.view_guidancerequest",
    ],
    # Editors keep the needs vocabulary, as they keep the catalogue it is matched against.
    "Redaktør": [
        "routing.view_vocabularyword",
        "routing.add_vocabularyword",
        "routing.change_vocabularyword",
        "routing.delete_vocabularyword",
    ],
}
