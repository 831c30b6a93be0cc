"""Form fields for the catalogue's reference data, shared by the guidance form and the CRM."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from offers.models import Industry

#: More employees than this is a typing error, not a Danish company.
EMPLOYEES_MAX = 1_000_000

# The three letters after z (and after "zz…"): the characters that follow "z" in Unicode.
_DANISH_LETTERS = str.maketrans({"æ": "{", "ø": "|", "å": "}"})


def danish_sort_key(name: str) -> str:
    """Alphabetical order as in Danish: Æ, Ø and Å after Z, whatever the database collation."""
    return name.lower().translate(_DANISH_LETTERS)


class _DanishOrderIterator(forms.models.ModelChoiceIterator):
    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in sorted(self.queryset, key=lambda obj: danish_sort_key(obj.name)):
            yield self.choice(obj)


class MunicipalityChoiceField(forms.ModelChoiceField):
    """The 98 municipalities by name, in Danish alphabetical order; submitted as their code."""

    iterator = _DanishOrderIterator

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class ThemeChoiceField(forms.ModelMultipleChoiceField):
    """Themes by their label in the active language."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.label)


class EmployeesField(forms.IntegerField):
    """A head count: a whole number from 0, optional, with Danish messages."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Antal ansatte"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.NumberInput(attrs={"inputmode": "numeric"}))
        kwargs.setdefault(
            "error_messages",
            {
                "invalid": _("Skriv antallet af ansatte som et helt tal."),
                "min_value": _("Antallet af ansatte kan ikke være negativt."),
                "max_value": _("Antallet af ansatte er for stort."),
            },
        )
        super().__init__(min_value=0, max_value=EMPLOYEES_MAX, **kwargs)


class IndustryField(forms.ChoiceField):
    """A DB07 main section ("C – Fremstillingsvirksomhed"), optional; ``empty_label`` names the
    choice of none."""

    def __init__(self, *, empty_label: Any, **kwargs: Any) -> None:
        def choices() -> list[tuple[str, str]]:
            sections = ((c.value, f"{c.value} – {c.label}") for c in Industry)
            return [("", str(empty_label)), *sections]

        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "error_messages", {"invalid_choice": _("Vælg en af brancherne på listen.")}
        )
        super().__init__(choices=choices, **kwargs)
