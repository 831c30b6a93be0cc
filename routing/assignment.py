"""Choose the Væksthus that handles a guidance request: routing rules over a regional default.

Pure logic on plain data, with no ORM, so it is tested without a database. The caller loads the
rules (:class:`RuleCandidate`, see ``RoutingRule.objects.candidates()``) and passes them here.

The rule, as the admin explains it to the people who maintain routing rules:

- By default a request goes to the Væksthus of the region its municipality lies in.
- A rule overrides the default when it is active, valid on the day (``valid_from`` and
  ``valid_to`` both inclusive, either may be open) and its scope matches the request:
  a municipality rule matches that municipality, a business-region rule matches any of its member
  municipalities, and a theme rule matches when the company chose that theme.
- Of several matching rules the highest ``priority`` wins; equal priorities go to the oldest rule
  (lowest id), so the choice never depends on the order the rules were loaded in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    MUNICIPALITY = "municipality"
    BUSINESS_REGION = "business_region"
    THEME = "theme"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleCandidate:
    """A routing rule as plain data.

    ``municipality_codes`` is the one municipality of a municipality rule, or the member
    municipalities of a business-region rule; empty for a theme rule.
    """

    id: int
    scope: Scope
    hub_slug: str
    priority: int
    reason: str
    active: bool = True
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    municipality_codes: frozenset[int] = frozenset()
    theme_slug: str | None = None

    @staticmethod
    def codes_for(
        scope: str, municipality_code: int | None, member_codes: Iterable[int]
    ) -> frozenset[int]:
        """``municipality_codes`` of a rule: its municipality, else its business region's."""
        if scope == Scope.MUNICIPALITY and municipality_code is not None:
            return frozenset({int(municipality_code)})
        return frozenset(member_codes)

    def is_valid_on(self, day: dt.date) -> bool:
        if not self.active:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to

    def matches(self, *, municipality_code: int, themes: Iterable[str]) -> bool:
        if self.scope is Scope.THEME:
            return self.theme_slug is not None and self.theme_slug in set(themes)
        return municipality_code in self.municipality_codes


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    """Which hub gets the request, and why (``rule_id`` is None for the regional default)."""

    hub_slug: str
    rule_id: int | None
    reason: str


#: The reason recorded on the case when no rule applies. Danish: advisers and analysts read it.
DEFAULT_REASON = "Væksthuset i virksomhedens region ({region})"


def default_hub_slug(region_slug: str) -> str:
    """The Væksthus of a region: ``vaeksthus-<region slug>`` (a stable reference-data slug)."""
    return f"vaeksthus-{region_slug}"


def select_rule(
    rules: Iterable[RuleCandidate],
    *,
    municipality_code: int,
    themes: Iterable[str],
    day: dt.date,
) -> RuleCandidate | None:
    """The rule that decides the hub, or None when the regional default applies."""
    chosen_themes = tuple(themes)
    applicable = [
        rule
        for rule in rules
        if rule.is_valid_on(day)
        and rule.matches(municipality_code=municipality_code, themes=chosen_themes)
    ]
    return min(applicable, key=lambda rule: (-rule.priority, rule.id), default=None)


def choose_hub(
    rules: Iterable[RuleCandidate],
    *,
    municipality_code: int,
    region_slug: str,
    region_name: str,
    themes: Iterable[str],
    day: dt.date,
) -> Assignment:
    """The hub for a request from ``municipality_code`` in the region ``region_slug``."""
    rule = select_rule(rules, municipality_code=municipality_code, themes=themes, day=day)
    if rule is None:
        return Assignment(
            hub_slug=default_hub_slug(region_slug),
            rule_id=None,
            reason=DEFAULT_REASON.format(region=region_name),
        )
    return Assignment(hub_slug=rule.hub_slug, rule_id=rule.id, reason=rule.reason)
