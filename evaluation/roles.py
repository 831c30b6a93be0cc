"""What each role may do with effect measurement (see accounts/roles.py).

Analysts read runs, diagnostics and participations (admin and /analyse/effekter/). Nobody edits
them by hand: data comes through the import commands and results from compute_effects.
"""

PERMISSIONS = {
    "Analytiker": [
        "evaluation.view_participation",
        "evaluation.view_effectrun",
        "evaluation.view_effectrunoffer",
        "evaluation.view_effectestimate",
        "evaluation.view_effectrollup",
    ],
}
