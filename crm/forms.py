"""The adviser's quick forms on the case page. They validate input; the services do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from crm.models import Case, Company, Referral, TimelineEntry, normalise_cvr, validate_cvr
from crm.services import ALLOWED_TRANSITIONS
from offers.models import Offer, Organisation


class DesignSystemForm(forms.Form):
    """Gives each widget the design system's class, so every quick form looks the same."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, AutocompleteSelect):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-input"
            widget.attrs.setdefault("class", css)


class OfferAutocomplete(AutocompleteSelect):
    """The admin's select2 autocomplete, fed by the case's own offer suggestions view."""

    def __init__(self, url: str) -> None:
        super().__init__(Referral._meta.get_field("offer"), admin.site)
        self.url = url

    def get_url(self) -> str:
        return self.url


class NoteForm(DesignSystemForm):
    kind = forms.ChoiceField(
        label=_("Type"),
        choices=[(kind.value, kind.label) for kind in TimelineEntry.ACTIVITY_KINDS],
        initial=TimelineEntry.Kind.NOTE,
    )
    text = forms.CharField(
        label=_("Hvad skete der?"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class TakeForm(DesignSystemForm):
    pass


class AdviserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.username)


class AssignForm(DesignSystemForm):
    adviser = AdviserChoiceField(label=_("Rådgiver"), queryset=User.objects.none())

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["adviser"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            User.objects.filter(
                organisation_id=case.hub_id, is_active=True, groups__name=User.Role.ADVISER
            )
            .exclude(pk=case.adviser_id or 0)
            .order_by("first_name", "last_name", "username")
        )


class TransitionForm(DesignSystemForm):
    status = forms.ChoiceField(label=_("Ny status"), choices=())

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Offer only the allowed moves, but accept any status when posted, so that a move that
        # is not allowed gets the service's clear message rather than "not a valid choice".
        allowed = ALLOWED_TRANSITIONS.get(case.status, set())
        field = self.fields["status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (value, label)
            for value, label in Case.Status.choices
            if self.is_bound or value in allowed
        ]


class TransferForm(DesignSystemForm):
    hub = forms.ModelChoiceField(label=_("Til Væksthus"), queryset=Organisation.objects.none())
    reason = forms.CharField(
        label=_("Begrundelse"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["hub"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Organisation.objects.hubs().exclude(pk=case.hub_id).order_by("name")


class ReferralForm(DesignSystemForm):
    offer = forms.ModelChoiceField(
        label=_("Tilbud"),
        queryset=Offer.objects.published(),
        required=False,
        help_text=_("Tilbud, der matcher sagens temaer og kommune, vises først."),
    )
    operator = forms.ModelChoiceField(
        label=_("Eller en operatør"),
        queryset=Organisation.objects.exclude(kind=Organisation.Kind.MUNICIPALITY).order_by("name"),
        required=False,
    )
    note = forms.CharField(
        label=_("Bemærkning"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )

    def __init__(self, *args: Any, autocomplete_url: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["offer"]
        assert isinstance(field, forms.ModelChoiceField)
        widget = OfferAutocomplete(autocomplete_url)
        widget.choices = field.choices
        field.widget = widget

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("offer") and not data.get("operator"):
            raise forms.ValidationError(_("Vælg et tilbud eller en operatør."))
        return data


class ReferralOutcomeForm(DesignSystemForm):
    outcome = forms.CharField(label=_("Udfald"), max_length=2000)


class CloseForm(DesignSystemForm):
    outcome = forms.ChoiceField(
        label=_("Udfald"), choices=[("", "---------"), *Case.Outcome.choices]
    )
    outcome_text = forms.CharField(
        label=_("Uddybning"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
    )


class CompanyAdminForm(forms.ModelForm):
    cvr = forms.CharField(
        label=_("CVR-nummer"),
        max_length=20,
        required=False,
        help_text=_("8 cifre. Tomt, hvis virksomheden endnu ikke er startet."),
    )

    class Meta:
        model = Company
        fields = [
            "cvr",
            "p_number",
            "name",
            "municipality",
            "industry",
            "industry_classification",
            "employees",
        ]

    def clean_cvr(self) -> str | None:
        value = (self.cleaned_data.get("cvr") or "").strip()
        if not value:
            return None
        value = normalise_cvr(value)
        validate_cvr(value)
        return value
