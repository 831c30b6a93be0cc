"""The guidance request as a company fills it in, on the page and through the API.

One form validates both channels, so a rule (a CVR's modulus 11, the 98 municipalities, the size
limits) and its Danish message exist once. Field names are the API's (docs/interfaces.md); the
page adds three fields of its own: the offer the company came from, a one-time nonce against double
submission and a honeypot.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from stdnum.dk import cvr as cvr_number
from stdnum.exceptions import InvalidChecksum, InvalidLength
from stdnum.exceptions import ValidationError as StdnumValidationError

from crm.models import normalise_cvr
from offers.db07 import is_group, section_of_group
from offers.fields import (
    EmployeesField,
    IndustryField,
    MunicipalityChoiceField,
    ThemeChoiceField,
)
from offers.models import Municipality, Offer, Phase, Theme

# Size limits on every text field (characters). The needs text is the only long one.
NEEDS_MAX_LENGTH = 5000
NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254
PHONE_MAX_LENGTH = 30
CVR_MAX_LENGTH = 20  # room for "DK 12 34 56 78" as people type it
ADDRESS_MAX_LENGTH = 200
CITY_MAX_LENGTH = 100
NONCE_MAX_LENGTH = 64

#: Through the API: the request says the person was not given the privacy notice.
NOTICE_NOT_GIVEN = _(
    "Personen skal have fået at vide, hvordan vi behandler oplysningerne (privatlivspolitikken), "
    "før henvendelsen kan sendes."
)

_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,28}$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_POSTCODE = re.compile(r"^[0-9]{4}$")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GuidanceSubmission:
    """A validated guidance request, ready for ``routing.services.guidance_request_submit``."""

    cvr: str | None
    company_name: str
    municipality: Municipality
    needs: str
    themes: tuple[Theme, ...]
    phase: str | None
    employees: int | None
    industry: str | None
    contact_name: str
    contact_email: str
    contact_phone: str
    consent: bool
    origin_offer: Offer | None = None
    #: The DB07 main group (two digits), when the company gave it.
    industry_group: str | None = None
    #: The company's address (street and number, postcode, town), when given: company data.
    address: str = ""
    postcode: str = ""
    city: str = ""

    def fingerprint(self) -> str:
        """SHA-256 of the request's content, to tell a true retry from a reused key."""
        canonical = {
            "cvr": self.cvr,
            "company_name": self.company_name,
            "municipality": self.municipality.code,
            "needs": self.needs,
            "themes": sorted(theme.slug for theme in self.themes),
            "phase": self.phase,
            "employees": self.employees,
            "industry": self.industry,
            "contact_name": self.contact_name,
            "contact_email": self.contact_email.lower(),
            "contact_phone": self.contact_phone,
            "consent": self.consent,
            "origin_offer": self.origin_offer.external_id if self.origin_offer else None,
        }
        if self.industry_group:
            # Only when given, so a request without one keeps the fingerprint it had.
            canonical["industry_group"] = self.industry_group
        if self.address or self.postcode or self.city:
            canonical["address"] = [self.address, self.postcode, self.city]
        encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()


class GuidanceRequestForm(forms.Form):
    needs = forms.CharField(
        label=_("Hvad har du brug for hjælp til?"),
        help_text=_(
            "Skriv med dine egne ord, f.eks. „Vi vil gerne begynde at eksportere til Tyskland“."
        ),
        max_length=NEEDS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Skriv kort, hvad du har brug for hjælp til.")},
    )
    themes = ThemeChoiceField(
        label=_("Hvilke emner handler det om?"),
        queryset=Theme.objects.all(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Vælg gerne flere."),
        error_messages={"invalid_choice": _("„%(value)s“ er ikke et emne, vi kender.")},
    )
    cvr = forms.CharField(
        label=_("CVR-nummer"),
        help_text=_("Har du ikke startet virksomheden endnu, kan du lade feltet stå tomt."),
        max_length=CVR_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    company_name = forms.CharField(
        label=_("Virksomhedens navn"),
        help_text=_("Eller navnet på din idé, hvis du ikke er startet endnu."),
        max_length=NAME_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    municipality = MunicipalityChoiceField(
        label=_("Kommune"),
        help_text=_("Den kommune, virksomheden ligger i – eller hvor du vil starte den."),
        queryset=Municipality.objects.select_related("region").order_by("name"),
        to_field_name="code",
        empty_label=_("Vælg kommune"),
        error_messages={
            "required": _("Vælg den kommune, virksomheden ligger i."),
            "invalid_choice": _("Vælg en af de 98 kommuner på listen."),
        },
    )
    phase = forms.ChoiceField(
        label=_("Hvor er virksomheden nu?"),
        choices=[("", _("Vælg fase")), *Phase.choices],
        required=False,
        error_messages={"invalid_choice": _("Vælg en af faserne på listen.")},
    )
    employees = EmployeesField()
    industry = IndustryField(label=_("Branche"), empty_label=_("Vælg branche"))
    industry_group = forms.CharField(
        label=_("Branchekode (hovedgruppe)"),
        help_text=_(
            "De to første cifre i virksomhedens DB07-branchekode, f.eks. 31 for møbler. "
            "Står på virk.dk under virksomhedens stamdata."
        ),
        max_length=2,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 3}),
    )
    contact_name = forms.CharField(
        label=_("Dit navn"),
        max_length=NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Skriv dit navn, så rådgiveren ved, hvem de skal kontakte.")},
    )
    contact_email = forms.EmailField(
        label=_("Din e-mail"),
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Skriv din e-mailadresse."),
            "invalid": _("Skriv en gyldig e-mailadresse, f.eks. navn@firma.dk."),
        },
    )
    contact_phone = forms.CharField(
        label=_("Dit telefonnummer"),
        help_text=_("Så kan rådgiveren ringe dig op."),
        max_length=PHONE_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    # Not consent: guidance is a public task (GDPR art. 6(1)(e) with databeskyttelsesloven), so
    # the person is informed, not asked. Through the API, ``consent`` confirms that the person was
    # given the privacy notice; the page shows the notice itself and has no such field.
    consent = forms.BooleanField(
        label=_("Personen har fået at vide, hvordan oplysningerne behandles"),
        error_messages={"required": NOTICE_NOT_GIVEN},
    )

    # Every text field's message when it is too long: the same Danish sentence with the limit.
    _TOO_LONG = _("Teksten må højst være %(limit_value)d tegn (den er %(show_value)d).")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and field.max_length:
                field.error_messages["max_length"] = self._TOO_LONG
        if "consent" in self.fields:
            self.fields["consent"].help_text = format_html(
                '{} <a href="{}">{}</a>.',
                gettext("Fortæl personen, hvordan oplysningerne behandles:"),
                reverse("privacy"),
                gettext("privatlivspolitikken"),
            )

    def clean_cvr(self) -> str | None:
        raw = self.cleaned_data.get("cvr") or ""
        if not raw.strip():
            return None
        cvr = normalise_cvr(raw)
        problem = explain_invalid_cvr(cvr)
        if problem:
            raise ValidationError(
                gettext("%(problem)s Eller lad feltet stå tomt.") % {"problem": problem},
                code="invalid_cvr",
            )
        return cvr

    def clean_needs(self) -> str:
        needs = str(self.cleaned_data.get("needs", "")).strip()
        if not needs:
            raise ValidationError(self.fields["needs"].error_messages["required"], code="required")
        return needs

    def clean_industry_group(self) -> str | None:
        group = str(self.cleaned_data.get("industry_group") or "").strip()
        if not group:
            return None
        if not is_group(group):
            raise ValidationError(
                _("Skriv to cifre fra branchekoden, f.eks. 31, eller lad feltet stå tomt."),
                code="invalid_industry_group",
            )
        return group

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        group, industry = cleaned.get("industry_group"), cleaned.get("industry")
        if group and industry and section_of_group(group) != industry:
            self.add_error(
                "industry_group",
                ValidationError(
                    _("Hovedgruppe %(group)s hører ikke til den valgte branche."),
                    code="industry_group_mismatch",
                    params={"group": group},
                ),
            )
        return cleaned

    def clean_contact_phone(self) -> str:
        phone = str(self.cleaned_data.get("contact_phone") or "").strip()
        if phone and not _PHONE.match(phone):
            raise ValidationError(
                _("Skriv et telefonnummer med cifre, f.eks. 12 34 56 78 eller +45 12 34 56 78."),
                code="invalid_phone",
            )
        return phone

    def submission(self, *, origin_offer: Offer | None = None) -> GuidanceSubmission:
        """The validated request; call after ``is_valid()``."""
        data = self.cleaned_data
        return GuidanceSubmission(
            cvr=data["cvr"],
            company_name=data["company_name"].strip(),
            municipality=data["municipality"],
            needs=data["needs"],
            themes=tuple(data["themes"]),
            phase=data["phase"] or None,
            employees=data["employees"],
            industry=data["industry"] or None,
            industry_group=data.get("industry_group") or None,
            address=str(data.get("address") or "").strip(),
            postcode=str(data.get("postcode") or "").strip(),
            city=str(data.get("city") or "").strip(),
            contact_name=data["contact_name"].strip(),
            contact_email=data["contact_email"].strip(),
            contact_phone=data["contact_phone"],
            # The page shows the privacy notice above its send button (GuidancePageForm).
            consent=bool(data["consent"]) if "consent" in self.fields else True,
            origin_offer=origin_offer,
        )


class GuidancePageForm(GuidanceRequestForm):
    """The form on /vejledning/: the API's fields plus what only a browser needs.

    The nonce is new on every visit to the page. A nonce that was sent before returns the first
    confirmation, even when the fields were changed in between: the same page sent again (a
    double click, the back button) is not a new request, while reloading the page starts one.
    """

    # The order of the page (routing/templates/routing/guidance.html), so the error summary lists
    # the errors in the order the fields come in.
    field_order = [
        "needs",
        "themes",
        "municipality",
        "cvr",
        "company_name",
        "address",
        "postcode",
        "city",
        "phase",
        "employees",
        "industry",
        "industry_group",
        "contact_name",
        "contact_email",
        "contact_phone",
    ]

    # The page informs the person itself (routing/templates/routing/guidance.html): a checkbox
    # would read as a consent they could withdraw, which is not the legal basis.
    consent = None  # type: ignore[assignment]
    # The company's address: optional, filled in by the CVR lookup. Not the person's own
    # address, so the browser is not asked to fill it in from the person's details.
    address = forms.CharField(
        label=_("Adresse"),
        help_text=_("Gade og husnummer."),
        max_length=ADDRESS_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    postcode = forms.CharField(
        label=_("Postnummer"),
        max_length=4,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "class": "input-width-xs"}
        ),
    )
    city = forms.CharField(
        label=_("By"),
        max_length=CITY_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    offer = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    nonce = forms.CharField(required=False, max_length=NONCE_MAX_LENGTH, widget=forms.HiddenInput)
    # The honeypot: hidden from people and assistive technology by the template, so only a robot
    # fills it in. See routing/views.py for what happens then.
    website = forms.CharField(required=False, max_length=200)

    def clean_postcode(self) -> str:
        postcode = str(self.cleaned_data.get("postcode") or "").strip()
        if postcode and not _POSTCODE.match(postcode):
            raise ValidationError(
                _("Et postnummer har 4 cifre, f.eks. 8000. Eller lad feltet stå tomt."),
                code="invalid_postcode",
            )
        return postcode

    def clean_nonce(self) -> str | None:
        nonce = str(self.cleaned_data.get("nonce") or "")
        return nonce if _NONCE.match(nonce) else None

    @property
    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    def origin_offer(self) -> Offer | None:
        """The published offer the company came from, if the form names one."""
        external_id = self.cleaned_data.get("offer") or ""
        if not external_id:
            return None
        return Offer.objects.published().filter(external_id=external_id).first()


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Hvordan var vejledningen?"),
        choices=[
            (5, _("5 – Meget god")),
            (4, _("4 – God")),
            (3, _("3 – Hverken god eller dårlig")),
            (2, _("2 – Dårlig")),
            (1, _("1 – Meget dårlig")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Vælg en bedømmelse fra 1 til 5."),
            "invalid_choice": _("Vælg en bedømmelse fra 1 til 5."),
        },
    )
    comment = forms.CharField(
        label=_("Vil du fortælle os mere?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": _("Kommentaren må højst være 2000 tegn.")},
    )


def explain_invalid_cvr(value: str) -> str | None:
    """What is wrong with ``value`` as a CVR number, in words a company owner understands.

    None when it is valid. Eight digits whose check digit fails are no CVR number at all, so the
    answer says that the number does not exist instead of asking for eight digits again.
    """
    try:
        cvr_number.validate(value)
    except InvalidChecksum:
        return gettext("CVR-nummeret %(cvr)s findes ikke. Tjek, at du har skrevet det rigtigt.") % {
            "cvr": value
        }
    except InvalidLength:
        digits = sum(character.isdigit() for character in value)
        return ngettext(
            "Et CVR-nummer har 8 cifre. Du har skrevet %(count)d ciffer.",
            "Et CVR-nummer har 8 cifre. Du har skrevet %(count)d cifre.",
            digits,
        ) % {"count": digits}
    except StdnumValidationError:
        return gettext("Et CVR-nummer består kun af 8 cifre.")
    return None
