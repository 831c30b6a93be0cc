"""The analysis pages' figures by code (``governance.figures``): their names and definitions.

``{% figure_name "cases_received" %}`` prints a figure's name (a column heading);
``{% figure_definitions "cases_received" "rating" %}`` lists the named figures with their
definitions, each name a ``<dfn>``, for the text under a page's or a table's heading.
"""

from __future__ import annotations

from typing import Any

from django import template

from governance.figures import figure

register = template.Library()


@register.simple_tag
def figure_name(code: str) -> str:
    return str(figure(code).name)


@register.inclusion_tag("governance/includes/figure_definitions.html")
def figure_definitions(*codes: str) -> dict[str, Any]:
    return {
        "figures": [
            {"code": code, "name": str(figure(code).name), "definition": figure(code).definition}
            for code in codes
        ]
    }
