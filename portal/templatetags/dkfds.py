"""Template filters that give Django form widgets the classes Det Fælles Designsystem styles.

Used by ``templates/includes/field.html``; Django itself already adds ``aria-invalid`` and an
``aria-describedby`` naming ``<id>_helptext`` and ``<id>_error``, which the include matches.
"""

from __future__ import annotations

from django import forms, template
from django.forms.boundfield import BoundField, BoundWidget
from django.utils.safestring import SafeString

register = template.Library()


def _input_class(widget: forms.Widget) -> str:
    if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
        return "form-checkbox"
    if isinstance(widget, forms.RadioSelect):
        return "form-radio"
    if isinstance(widget, forms.Select):
        return "form-select"
    if isinstance(widget, forms.FileInput):
        # DKFDS styles file inputs by element, not by class.
        return ""
    return "form-input"


@register.filter
def dkfds_widget(field: BoundField) -> SafeString:
    """The field's widget with its DKFDS class added to any class the form already set."""
    css = _input_class(field.field.widget)
    existing = field.field.widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{css} {existing}".strip()})


@register.filter
def dkfds_options(field: BoundField) -> list[BoundWidget]:
    """The radio buttons or check boxes of a choice field, each with its DKFDS class."""
    css = _input_class(field.field.widget)
    options = list(field.subwidgets)
    for option in options:
        attrs = option.data["attrs"]
        attrs["class"] = f"{css} {attrs.get('class', '')}".strip()
    return options


@register.filter
def is_single_checkbox(field: BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)
