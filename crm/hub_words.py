"""Texts of the adviser's workspace that name a hub in general, in the portal's own term.

``settings.HUB_TERM`` (``offers.hub_terms``) says what the portal calls a regional business hub;
a label, filter title, error message or e-mail of the CRM writes it through ``hub_words`` rather
than "Væksthus" literally, so that renaming the hubs is a change of setting here as on the public
pages. A message takes the forms as placeholders: ``%(hub)s`` ("Væksthus"), ``%(the_hub)s``
("Væksthuset"), ``%(hubs)s`` ("Væksthuse") and ``%(the_hubs)s`` ("Væksthusene"); in English the
definite forms are the bare name, and the English text supplies "the".
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import lazy

from offers.hub_terms import HUB_TERM


def hub_forms() -> dict[str, str]:
    """The four forms of the term in the active language, by placeholder name."""
    return {
        "hub": HUB_TERM.one,
        "the_hub": HUB_TERM.the,
        "hubs": HUB_TERM.many,
        "the_hubs": HUB_TERM.the_many,
    }


def hub_text(message: Any, **values: Any) -> str:
    """``message`` (translated) with the term's forms and ``values`` put in, now."""
    return str(message) % {**hub_forms(), **values}


#: ``hub_text`` at the time the text is shown: for class attributes (filter titles, labels) that
#: are read once at import but shown in the language and with the setting of each request.
hub_words = lazy(hub_text, str)


def _one() -> str:
    return HUB_TERM.one


#: The term alone ("Væksthus"), read when shown: a column or filter title.
hub_one = lazy(_one, str)
