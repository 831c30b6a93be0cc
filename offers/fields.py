"""Form fields for the catalogue's reference data, shared by the guidance form and the CRM."""

from __future__ import annotations

from typing import Any

from django import forms

_DANISH_LETTERS = str.maketrans({"æ": "z\x01", "ø": "z\x02", "å": "z\x03"})


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
