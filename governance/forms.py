from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from core.time import add_months
from governance.models import COMMENT_MAX_LENGTH, PageFeedback
from offers.hub_terms import HUB_TERM
from offers.models import Organisation

# The longest period an analyst page summarises at once.
MAX_PERIOD_DAYS = 3 * 366
DEFAULT_PERIOD_DAYS = 30


class PageFeedbackForm(forms.Form):
    path = forms.CharField(widget=forms.HiddenInput, max_length=2000)
    answer = forms.ChoiceField(
        label=_("Fandt du det, du ledte efter?"),
        choices=PageFeedback.Answer.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Vælg ja eller nej.")},
    )
    comment = forms.CharField(
        label=_("Fortæl os gerne mere"),
        help_text=_(
            "Skriv ikke navne, e-mailadresser eller telefonnumre. Vi kan ikke svare på kommentarer."
        ),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": _(
                "Kommentaren må højst være %(limit_value)d tegn (den er %(show_value)d)."
            ),
        },
    )
    # A field people never see (it is hidden) but form-filling robots do; filled in means spam.
    website = forms.CharField(label=_("Lad dette felt være tomt"), required=False)

    def is_spam(self) -> bool:
        return bool(self.data.get("website"))


class PeriodForm(forms.Form):
    """The period an analyst page covers; both ends included, the last 30 days by default."""

    default_days = DEFAULT_PERIOD_DAYS

    fra = forms.DateField(
        label=_("Fra og med"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    til = forms.DateField(
        label=_("Til og med"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        today = timezone.localdate()
        end: dt.date = cleaned.get("til") or today
        start: dt.date = cleaned.get("fra") or end - dt.timedelta(days=self.default_days - 1)
        if start > end:
            raise forms.ValidationError(_("Startdatoen skal ligge før eller på slutdatoen."))
        if (end - start).days >= MAX_PERIOD_DAYS:
            raise forms.ValidationError(_("Vælg en periode på højst tre år."))
        cleaned["fra"], cleaned["til"] = start, end
        return cleaned

    def period(self) -> tuple[dt.date, dt.date]:
        """The chosen period, or the default one when the form did not validate."""
        if self.is_valid():
            return self.cleaned_data["fra"], self.cleaned_data["til"]
        end = timezone.localdate()
        return end - dt.timedelta(days=self.default_days - 1), end


class MonthField(forms.DateField):
    """A month as ``2026-03`` (the browser's month picker), cleaned to its first day."""

    input_formats = ["%Y-%m"]
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


# The service standards page shows this many months by default, the current one included.
DEFAULT_MONTHS = 6
MAX_MONTHS = 36


class ServiceStandardsForm(forms.Form):
    fra = MonthField(label=_("Fra og med måned"), required=False)
    til = MonthField(label=_("Til og med måned"), required=False)
    vaeksthus = forms.ModelChoiceField(
        label=lazy(lambda: HUB_TERM.one, str)(),
        queryset=Organisation.objects.hubs().order_by("name"),
        required=False,
        empty_label=lazy(lambda: _("Alle %(hubs)s") % {"hubs": HUB_TERM.many}, str)(),
        to_field_name="slug",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        this_month = timezone.localdate().replace(day=1)
        last: dt.date = cleaned.get("til") or this_month
        first: dt.date = cleaned.get("fra") or add_months(last, -(DEFAULT_MONTHS - 1))
        if first > last:
            raise forms.ValidationError(_("Startmåneden skal ligge før eller være slutmåneden."))
        if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
            raise forms.ValidationError(_("Vælg en periode på højst tre år."))
        cleaned["fra"], cleaned["til"] = first, last
        return cleaned

    def choices(self) -> tuple[dt.date, dt.date, Organisation | None]:
        """The chosen months and hub, or the defaults when the form did not validate."""
        if self.is_valid():
            return (
                self.cleaned_data["fra"],
                self.cleaned_data["til"],
                self.cleaned_data["vaeksthus"],
            )
        last = timezone.localdate().replace(day=1)
        return add_months(last, -(DEFAULT_MONTHS - 1)), last, None


class SaveSearchForm(forms.Form):
    email = forms.EmailField(
        label=_("Din e-mail"),
        help_text=_("Vi bruger kun din e-mail til oversigten og sletter den, når du afmelder dig."),
        max_length=254,
        error_messages={
            "required": _("Skriv din e-mailadresse."),
            "invalid": _("Skriv en gyldig e-mailadresse, fx navn@firma.dk."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)
    # Hidden from people, filled in by form-filling robots.
    website = forms.CharField(label=_("Lad dette felt være tomt"), required=False)

    def is_spam(self) -> bool:
        return bool(self.data.get("website"))
