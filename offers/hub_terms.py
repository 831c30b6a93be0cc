"""What the portal calls a regional business hub, as data: one setting, used everywhere.

Each hub is an ``Organisation`` (kind ``business_hub``) whose ``name`` is its public name
("Væksthus Midtjylland"); where the text means a hub in general ("the hub in your region"), it
uses the generic term from ``settings.HUB_TERM``: the Danish noun in its four forms (singular,
definite, plural, definite plural), e.g. ``Erhvervshus,Erhvervshuset,Erhvervshuse,Erhvervshusene``.
Renaming the hubs is then a change of setting and of the five organisations' names, never of
templates or translations.

In English the term is kept as a name: ``the`` and ``the_many`` are the bare singular and plural
there, and the English text supplies "the".
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.functional import lazy


class HubTerm:
    """The generic term in the active language; read at use, so it follows ``override()``."""

    @staticmethod
    def _forms() -> tuple[str, str, str, str]:
        one, the, many, the_many = settings.HUB_TERM
        return one, the, many, the_many

    @staticmethod
    def _danish() -> bool:
        return (translation.get_language() or "da").startswith("da")

    @property
    def one(self) -> str:
        """Singular, indefinite: "Væksthus"."""
        return self._forms()[0]

    @property
    def the(self) -> str:
        """Singular, definite: "Væksthuset" (English: "Væksthus", after "the")."""
        return self._forms()[1] if self._danish() else self._forms()[0]

    @property
    def many(self) -> str:
        """Plural, indefinite: "Væksthuse"."""
        return self._forms()[2]

    @property
    def the_many(self) -> str:
        """Plural, definite: "Væksthusene" (English: "Væksthuse", after "the")."""
        return self._forms()[3] if self._danish() else self._forms()[2]

    def __str__(self) -> str:
        return self.one


HUB_TERM = HubTerm()


def context(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: ``{{ hub_term.the }}`` and the other forms on every page."""
    return {"hub_term": HUB_TERM}


def hub_forms() -> dict[str, str]:
    """The four forms of the term in the active language, by placeholder name."""
    return {
        "hub": HUB_TERM.one,
        "the_hub": HUB_TERM.the,
        "hubs": HUB_TERM.many,
        "the_hubs": HUB_TERM.the_many,
    }


def hub_text(message: Any, **values: Any) -> str:
    """``message`` (translated) with the term's forms and ``values`` put in, now. A message takes
    the forms as placeholders: ``%(hub)s`` ("Væksthus"), ``%(the_hub)s`` ("Væksthuset"),
    ``%(hubs)s`` ("Væksthuse") and ``%(the_hubs)s`` ("Væksthusene")."""
    return str(message) % {**hub_forms(), **values}


#: ``hub_text`` at the time the text is shown: for class attributes (model and filter labels,
#: choices) that are read once at import but shown in the language and with the setting of each
#: request. A model label written this way reads as the default term when migrations are made,
#: so the migrations do not depend on the setting.
hub_words = lazy(hub_text, str)


def _one() -> str:
    return HUB_TERM.one


#: The term alone ("Væksthus"), read when shown: a column, field or filter title.
hub_one = lazy(_one, str)
