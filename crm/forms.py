"""The adviser's forms in the admin (the quick forms on the case page and "Opret sag"), and the
company's survey.

They validate input; the services do the work.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.once import FORM_NONCE_PATTERN, form_nonce
from crm.hub_words import hub_one, hub_words
from crm.models import (
    Case,
    Company,
    Referral,
    SurveyAnswer,
    TimelineEntry,
    normalise_cvr,
    validate_cvr,
)
from crm.services import ALLOWED_TRANSITIONS, BY_HAND_OUTCOMES, CASE_SOURCES_BY_HAND
from offers.fields import (
    EmployeesField,
    IndustryField,
    MunicipalityChoiceField,
    ThemeChoiceField,
)
from offers.models import Municipality, Offer, Organisation, Theme


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
    hub = forms.ModelChoiceField(
        label=hub_words(_("Til %(hub)s")), queryset=Organisation.objects.none()
    )
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
    share_contact = forms.BooleanField(
        label=_("Del kontaktpersonens navn, e-mail og telefon med operatøren"),
        help_text=_(
            "Operatøren ser virksomheden og dens behov. Kontaktpersonen kun, hvis du krydser af."
        ),
        required=False,
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
        label=_("Udfald"),
        choices=[
            ("", "---------"),
            *[(value, label) for value, label in Case.Outcome.choices if value in BY_HAND_OUTCOMES],
        ],
    )
    outcome_text = forms.CharField(
        label=_("Uddybning"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
    )

    def __init__(self, *args: Any, case: Case | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if case is not None and not self.is_bound:
            # A case the adviser referred ends, most often, as "referred": preset, still open to
            # change (a declined referral does not count).
            referred = case.referrals.exclude(status=Referral.Status.DECLINED).exists()
            if referred:
                self.fields["outcome"].initial = Case.Outcome.REFERRED


class ReopenForm(DesignSystemForm):
    reason = forms.CharField(
        label=_("Hvorfor genåbnes sagen?"),
        help_text=_("Fx at virksomheden har vendt tilbage med et nyt spørgsmål."),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": _("Skriv, hvorfor sagen genåbnes.")},
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


# --- "Opret sag": a case an adviser opens by hand ---------------------------------------------

_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,28}$")


class CaseCreateForm(DesignSystemForm):
    """A company that phoned, wrote or was referred by its municipality, as the adviser heard it.

    Advisers open the case for their own hub, so the form has a hub field only for superusers.
    ``crm.services.case_register`` opens the case.
    """

    source = forms.ChoiceField(
        label=_("Hvordan henvendte virksomheden sig?"),
        choices=[(source.value, source.label) for source in CASE_SOURCES_BY_HAND],
        initial=Case.Source.PHONE,
        error_messages={
            "required": _("Vælg, hvordan virksomheden henvendte sig."),
            "invalid_choice": _("Vælg telefon, e-mail eller henvist fra kommune."),
        },
    )
    hub = forms.ModelChoiceField(
        label=hub_one(),
        queryset=Organisation.objects.hubs().order_by("name"),
        to_field_name="slug",
        empty_label=hub_words(_("Vælg %(hub)s")),
        error_messages={
            "required": hub_words(_("Vælg det %(hub)s, der skal have sagen.")),
            "invalid_choice": hub_words(_("Vælg et af %(the_hubs)s på listen.")),
        },
    )
    cvr = forms.CharField(
        label=_("CVR-nummer"),
        max_length=20,
        required=False,
        help_text=_("8 cifre. Lad feltet stå tomt, hvis virksomheden endnu ikke er startet."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    company_name = forms.CharField(
        label=_("Virksomhedens navn"),
        max_length=200,
        required=False,
        help_text=_(
            "Eller navnet på idéen, hvis virksomheden ikke er startet. Kan udelades, når "
            "CVR-nummeret allerede findes i CRM."
        ),
    )
    municipality = MunicipalityChoiceField(
        label=_("Kommune"),
        queryset=Municipality.objects.all(),
        to_field_name="code",
        empty_label=_("Vælg kommune"),
        help_text=_("Den kommune, virksomheden ligger i – eller hvor den skal startes."),
        error_messages={
            "required": _("Vælg den kommune, virksomheden ligger i."),
            "invalid_choice": _("Vælg en af de 98 kommuner på listen."),
        },
    )
    industry = IndustryField(label=_("Branche (DB07-hovedafsnit)"), empty_label=_("Ikke oplyst"))
    employees = EmployeesField()
    contact_name = forms.CharField(
        label=_("Kontaktpersonens navn"),
        max_length=200,
        error_messages={"required": _("Skriv kontaktpersonens navn.")},
    )
    contact_email = forms.EmailField(
        label=_("Kontaktpersonens e-mail"),
        max_length=254,
        help_text=_("Kontaktpersonen får sagsnummeret og besked om sagen på denne adresse."),
        error_messages={
            "required": _("Skriv kontaktpersonens e-mailadresse."),
            "invalid": _("Skriv en gyldig e-mailadresse, f.eks. navn@firma.dk."),
        },
    )
    contact_phone = forms.CharField(
        label=_("Kontaktpersonens telefon"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    consent = forms.BooleanField(
        label=hub_words(
            _("Kontaktpersonen har fået at vide, hvordan %(the_hub)s behandler oplysningerne")
        ),
        error_messages={
            "required": _(
                "Sagen kan først oprettes, når kontaktpersonen har fået at vide, hvordan "
                "oplysningerne behandles."
            )
        },
    )
    needs = forms.CharField(
        label=_("Hvad har virksomheden brug for hjælp til?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Beskriv, hvad virksomheden har brug for hjælp til.")},
    )
    themes = ThemeChoiceField(
        label=_("Temaer"),
        queryset=Theme.objects.order_by("position", "name"),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Vælg gerne flere."),
        error_messages={"invalid_choice": _("»%(value)s« er ikke et tema, vi kender.")},
    )
    #: One per form shown: a second post of the same form finds the case the first one opened.
    nonce = forms.RegexField(regex=FORM_NONCE_PATTERN, widget=forms.HiddenInput, required=False)
    assign_to_me = forms.BooleanField(
        label=_("Jeg tager selv sagen"),
        required=False,
        initial=True,
        help_text=hub_words(_("Ellers kommer sagen i %(the_hub)ss kø uden rådgiver.")),
    )

    def __init__(self, *args: Any, choose_hub: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["nonce"].initial = form_nonce()
        if choose_hub:
            # A superuser rarely works at the hub they open the case for.
            self.fields["assign_to_me"].initial = False
        else:
            del self.fields["hub"]
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                field.widget.attrs["class"] = "crm-checkbox"
        self.fields["consent"].help_text = format_html(
            '{} <a href="{}">{}</a>.',
            gettext("Fortæl først kontaktpersonen, hvordan oplysningerne behandles:"),
            reverse("privacy"),
            gettext("privatlivspolitikken"),
        )

    def clean_cvr(self) -> str | None:
        value = (self.cleaned_data.get("cvr") or "").strip()
        if not value:
            return None
        value = normalise_cvr(value)
        validate_cvr(value)
        return value

    def clean_needs(self) -> str:
        needs = str(self.cleaned_data.get("needs") or "").strip()
        if not needs:
            raise forms.ValidationError(
                self.fields["needs"].error_messages["required"], code="required"
            )
        return needs

    def clean_contact_phone(self) -> str:
        phone = str(self.cleaned_data.get("contact_phone") or "").strip()
        if phone and not _PHONE.match(phone):
            raise forms.ValidationError(
                _("Skriv et telefonnummer med cifre, f.eks. 12 34 56 78 eller +45 12 34 56 78."),
                code="invalid_phone",
            )
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Without a CVR number there is nothing to find the company by, so it needs a name. With
        # one, the service takes the name the CRM has, or asks for it when the number is new.
        if "cvr" in data and not data["cvr"] and not (data.get("company_name") or "").strip():
            self.add_error(
                "company_name",
                forms.ValidationError(
                    _(
                        "Skriv virksomhedens navn – eller navnet på idéen, hvis virksomheden "
                        "ikke er startet endnu."
                    ),
                    code="required",
                ),
            )
        return data


class SurveyForm(forms.Form):
    """The company's four answers after its case was closed (public, no login)."""

    contacted = forms.TypedChoiceField(
        label=_("Blev du kontaktet af en rådgiver?"),
        choices=[("yes", _("Ja")), ("no", _("Nej"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Svar ja eller nej."),
            "invalid_choice": _("Svar ja eller nej."),
        },
    )
    usefulness = forms.TypedChoiceField(
        label=_("Hvor meget fik du ud af hjælpen?"),
        choices=[
            (5, _("5 – Meget")),
            (4, _("4")),
            (3, _("3")),
            (2, _("2")),
            (1, _("1 – Intet")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Vælg et tal fra 1 til 5."),
            "invalid_choice": _("Vælg et tal fra 1 til 5."),
        },
    )
    result = forms.ChoiceField(
        label=_("Hvad er der kommet ud af det indtil nu?"),
        choices=SurveyAnswer.Result.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Vælg, hvad der kom ud af det."),
            "invalid_choice": _("Vælg, hvad der kom ud af det."),
        },
    )
    additionality = forms.ChoiceField(
        label=_("Ville du have gjort det samme uden hjælpen?"),
        choices=SurveyAnswer.Additionality.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Vælg et svar."),
            "invalid_choice": _("Vælg et svar."),
        },
    )


class OperatorDeclineForm(DesignSystemForm):
    """An operator declines a referral: a reason from the short list, and words if it likes."""

    reason = forms.ChoiceField(
        label=_("Årsag"),
        choices=[("", "---------"), *Referral.DeclineReason.choices],
    )
    text = forms.CharField(
        label=_("Uddybning"),
        help_text=_("Skal udfyldes, hvis årsagen er „Andet“. Rådgiveren kan læse den."),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reason") == Referral.DeclineReason.OTHER and not data.get("text", "").strip():
            self.add_error("text", _("Skriv, hvorfor I afviser henvisningen."))
        return data


class OperatorCompleteForm(DesignSystemForm):
    outcome = forms.CharField(
        label=_("Hvad kom der ud af det?"),
        help_text=_("Fx hvilket forløb virksomheden har gennemført. Rådgiveren kan læse det."),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
