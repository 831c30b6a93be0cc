"""Texts of the adviser's workspace that name a hub in general, in the portal's own term.

``settings.HUB_TERM`` (``offers.hub_terms``) says what the portal calls a regional business hub;
a label, filter title, error message or e-mail of the CRM writes it through ``hub_words`` rather
than "Væksthus" literally, so that renaming the hubs is a change of setting here as on the public
pages. A message takes the forms as placeholders: ``%(hub)s`` ("Væksthus"), ``%(the_hub)s``
("Væksthuset"), ``%(hubs)s`` ("Væksthuse") and ``%(the_hubs)s`` ("Væksthusene"); in English the
definite forms are the bare name, and the English text supplies "the".
"""

from __future__ import annotations

# The helpers live with the term itself (offers.hub_terms), so that the offers app's own labels
# can use them too; the CRM imports them from here.
from offers.hub_terms import hub_forms, hub_one, hub_text, hub_words

__all__ = ["hub_forms", "hub_one", "hub_text", "hub_words"]
