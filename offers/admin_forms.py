"""The forms of the catalogue admin: the offer form, the import upload and the organisation form.

The offer form is grouped as ``OFFER_FIELD_GROUPS``; the admin's fieldsets are built from the same
groups. Rule checks live in ``offers.services``; these forms only put their messages on the right
inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Final

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from offers.catalogue_format import industry_groups_problems
from offers.models import (
    CompanySize,
    Industry,
    Municipality,
    Offer,
    Organisation,
    Phase,
    Region,
    StateAidBasis,
)
from offers.services import (
    CONSTRAINT_FIELDS,
    allowed_statuses,
    cluster_nationwide_message,
    combine_change_error,
    owner_change_error,
    transition_error,
)

IMPORT_MAX_BYTES = 10 * 1024 * 1024
# Languages an offer is given in (ISO 639-1, as the catalogue format stores them).
OFFER_LANGUAGES = [
    ("da", gettext_lazy("Dansk")),
    ("en", gettext_lazy("Engelsk")),
    ("de", gettext_lazy("Tysk")),
    ("sv", gettext_lazy("Svensk")),
    ("no", gettext_lazy("Norsk")),
    ("pl", gettext_lazy("Polsk")),
    ("uk", gettext_lazy("Ukrainsk")),
    ("ar", gettext_lazy("Arabisk")),
]


class ConstraintErrorsOnFields:
    """Put a model constraint's error next to the input it is about instead of above the form.

    ``constraint_fields`` maps constraint names to form fields (or to a callable choosing the
    field from the instance). Django reports check and conditional unique constraints as
    non-field errors.
    """

    constraint_fields: ClassVar[dict[str, str | Callable[[Any], str]]] = {}

    def validate_constraints(self: Any) -> None:
        exclude = self._get_validation_exclusions()
        try:
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as error:
            self._update_errors(self._constraint_errors_on_fields(error))

    def _constraint_errors_on_fields(self: Any, error: ValidationError) -> ValidationError:
        if not hasattr(error, "error_dict"):
            return error
        by_message: dict[str, str] = {}
        for constraint in self.instance._meta.constraints:
            target = self.constraint_fields.get(constraint.name)
            if target is None:
                continue
            name = target(self.instance) if callable(target) else target
            if name in self.fields:
                by_message[str(constraint.get_violation_error_message())] = name
        placed: dict[str, list[ValidationError]] = {}
        for name, items in error.error_dict.items():
            for item in items:
                target_name = name
                if name == NON_FIELD_ERRORS:
                    target_name = by_message.get(" ".join(item.messages), name)
                placed.setdefault(target_name, []).append(item)
        return ValidationError(placed)


# --- Offers ------------------------------------------------------------------------------------


# The editor's offer form, group by group. Every field of the catalogue format is here except
# last_reviewed, which only a review sets (tests/offers/test_admin.py holds the two together).
OFFER_FIELD_GROUPS: tuple[tuple[StrOrPromise | None, tuple[str, ...]], ...] = (
    (
        None,
        (
            "title",
            "external_id",
            "summary",
            "description",
            "expected_result",
            "how_to_apply",
            "delivery_time",
            "languages",
        ),
    ),
    (gettext_lazy("Ejer og operatør"), ("level", "owner", "operator")),
    (
        gettext_lazy("Målgruppe"),
        ("themes", "phases", "company_sizes", "industries", "industry_groups"),
    ),
    (gettext_lazy("Geografi"), ("nationwide", "regions", "municipalities")),
    (
        gettext_lazy("Pris, frister og kontakt"),
        (
            "price",
            "price_details",
            "application_deadline",
            "valid_from",
            "valid_to",
            "url",
            "contact_email",
            "contact_phone",
        ),
    ),
    (gettext_lazy("Statsstøtte"), ("state_aid_basis", "gber_article", "aid_value_dkk")),
    (gettext_lazy("Status"), ("status", "cannot_combine_with")),
)
OFFER_FORM_FIELDS = tuple(name for _label, names in OFFER_FIELD_GROUPS for name in names)
# Shown under the form, never edited there: set by reviews, status changes and saving.
OFFER_AUDIT_FIELDS = (
    "last_reviewed",
    "stale_flag",
    "published_at",
    "published_by",
    "archived_at",
    "archived_by",
    "created_at",
    "updated_at",
)


def _phases_or_sizes(offer: Offer) -> str:
    return "phases" if not offer.phases else "company_sizes"


# The fields whose text companies read on the offer's page, written in Danish.
DANISH_TEXT_FIELDS: Final = (
    "title",
    "summary",
    "description",
    "expected_result",
    "how_to_apply",
    "delivery_time",
    "price_details",
)


class OfferAdminForm(ConstraintErrorsOnFields, forms.ModelForm):
    constraint_fields: ClassVar[dict[str, str | Callable[[Any], str]]] = {
        **{name: field for name, field in CONSTRAINT_FIELDS.items()},
        "offers_offer_has_phases_and_sizes": _phases_or_sizes,
    }
    user: Any = None  # set by OfferAdmin.get_form

    phases = forms.MultipleChoiceField(
        label=gettext_lazy("Faser"), choices=Phase.choices, widget=forms.CheckboxSelectMultiple
    )
    company_sizes = forms.MultipleChoiceField(
        label=gettext_lazy("Virksomhedsstørrelser"),
        choices=CompanySize.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    industries = forms.MultipleChoiceField(
        label=gettext_lazy("Brancher (DB07)"),
        choices=Industry.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Vælg ingen for alle brancher."),
    )
    regions = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Regioner"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Kun når tilbuddet ikke gælder i hele landet."),
    )
    municipalities = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Kommuner"),
        coerce=int,
        required=False,
        # Boxes in columns (offers/admin.css): the filter widget's icons carry ARIA attributes
        # that its markup does not allow.
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Kommunale tilbud skal angive deres kommuner. Kun når tilbuddet ikke gælder i hele "
            "landet."
        ),
    )

    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Sprog"),
        choices=OFFER_LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("De sprog, virksomheden kan få tilbuddet på."),
    )
    mark_reviewed = forms.BooleanField(
        label=gettext_lazy("Markér som gennemgået i dag"),
        required=False,
        initial=True,
        help_text=gettext_lazy(
            "Sæt hak, når du har læst hele tilbuddet igennem og det er korrekt. Tilbud, der ikke "
            "er gennemgået i 12 måneder, bliver markeret som forældede."
        ),
    )

    class Meta:
        model = Offer
        fields = OFFER_FORM_FIELDS
        widgets: ClassVar[dict[str, Any]] = {
            "themes": forms.CheckboxSelectMultiple,
            # The browser's own date input: no calendar pop-up that warns about time zones.
            "application_deadline": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts: ClassVar[dict[str, Any]] = {
            "title": gettext_lazy(
                "Hvad virksomheden får, i få ord, f.eks. „Rådgivning om eksport“."
            ),
            "summary": gettext_lazy(
                "Én eller to sætninger, der vises i søgeresultatet. Skriv til virksomheden (du)."
            ),
            "expected_result": gettext_lazy(
                "Hvad står virksomheden med bagefter? F.eks. „En eksportplan for ét marked og "
                "kontakt til tre mulige kunder“. Bruges også, når portalen foreslår tilbud."
            ),
            "how_to_apply": gettext_lazy(
                "Trin for trin: hvem virksomheden kontakter, hvad den skal have klar, og hvornår "
                "den får svar."
            ),
            "delivery_time": gettext_lazy("F.eks. „3–4 måneder“ eller „2 timer“."),
            "price_details": gettext_lazy(
                "Udfyld for medfinansierede og betalte tilbud: andelen eller beløbet, "
                "f.eks. „Du betaler 50 % af rådgiverens honorar“ eller „2.500 kr. pr. deltager“."
            ),
            "url": gettext_lazy("Tilbuddets egen side, hvor virksomheden læser mere og søger."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        # The offer's texts are Danish whatever language the admin speaks: the browser's spelling
        # check and a screen reader follow the lang attribute.
        for name in DANISH_TEXT_FIELDS:
            if name in fields:
                fields[name].widget.attrs["lang"] = "da"
        if "regions" in fields:
            fields["regions"].choices = list(Region.objects.values_list("code", "name"))
        if "municipalities" in fields:
            fields["municipalities"].choices = [
                (m.code, str(m)) for m in Municipality.objects.all()
            ]
        if "languages" in fields:
            known = {code for code, _label in OFFER_LANGUAGES}
            extra = [code for code in self.instance.languages or [] if code not in known]
            fields["languages"].choices = [*OFFER_LANGUAGES, *((code, code) for code in extra)]
        if "state_aid_basis" in fields:
            # Most offers are no state aid: a form that leaves the choice out keeps "none".
            fields["state_aid_basis"].required = False
        current = self.instance.status if self.instance.pk else None
        if "status" in fields:
            fields["status"].choices = [
                (value, label)
                for value, label in Offer.Status.choices
                if value in allowed_statuses(current)
            ]
        user = self.user
        if user is not None and not user.is_superuser:
            # The owner: the editor's organisation or the current owner (offers.services); the
            # operator may also stay the one the offer has.
            mine, owner, operator = (
                user.organisation_id,
                self.instance.owner_id,
                self.instance.operator_id,
            )
            for name, allowed in (("owner", {mine, owner}), ("operator", {mine, owner, operator})):
                if name in fields:
                    fields[name].queryset = Organisation.objects.filter(
                        pk__in={pk for pk in allowed if pk}
                    )

    def clean_state_aid_basis(self) -> str:
        return str(self.cleaned_data.get("state_aid_basis") or StateAidBasis.NONE)

    def clean_languages(self) -> list[str]:
        chosen = self.cleaned_data["languages"]
        field: Any = self.fields["languages"]
        return [code for code, _label in field.choices if code in chosen]

    def clean_phases(self) -> list[str]:
        chosen = self.cleaned_data["phases"]
        return [value for value in Phase.values if value in chosen]

    def clean_company_sizes(self) -> list[str]:
        chosen = self.cleaned_data["company_sizes"]
        return [value for value in CompanySize.values if value in chosen]

    def clean_industries(self) -> list[str]:
        chosen = self.cleaned_data["industries"]
        return [value for value in Industry.values if value in chosen]

    def clean_industry_groups(self) -> list[str]:
        groups = self.cleaned_data.get("industry_groups") or []
        problems = industry_groups_problems(groups, self.cleaned_data.get("industries") or [])
        if problems:
            raise forms.ValidationError(problems)
        return sorted(set(groups))

    def clean_regions(self) -> list[int]:
        return sorted(set(self.cleaned_data["regions"]))

    def clean_municipalities(self) -> list[int]:
        return sorted(set(self.cleaned_data["municipalities"]))

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        owner = cleaned.get("owner")
        operator = cleaned.get("operator")
        user = self.user
        if (
            user is not None
            and not user.is_superuser
            and owner is not None
            and operator is not None
            and user.organisation_id not in (owner.pk, operator.pk)
        ):
            self.add_error("owner", _("Din organisation skal eje eller drive tilbuddet."))
        if user is not None and owner is not None:
            problem = owner_change_error(
                user=user,
                owner_id=owner.pk,
                current_owner_id=self.instance.owner_id if self.instance.pk else None,
            )
            if problem:
                self.add_error("owner", problem)
        if user is not None and "cannot_combine_with" in cleaned:
            problem = combine_change_error(
                user=user, offer_id=self.instance.pk, after=cleaned["cannot_combine_with"]
            )
            if problem:
                self.add_error("cannot_combine_with", problem)
        if owner is not None and owner.kind == Organisation.Kind.CLUSTER:
            nationwide = cleaned.get("nationwide")
            if not nationwide or cleaned.get("regions") or cleaned.get("municipalities"):
                self.add_error("nationwide", cluster_nationwide_message())
        if "status" in cleaned:
            initial = self.instance.status if self.instance.pk else None
            if self.instance.pk:
                initial = (
                    Offer.objects.filter(pk=self.instance.pk)
                    .values_list("status", flat=True)
                    .first()
                )
            problem = transition_error(initial, cleaned["status"])
            if problem:
                self.add_error("status", problem)
        return cleaned


# --- Import ---------------------------------------------------------------------------------------


def too_large_message() -> str:
    return _("Filen er for stor (højst %(mb)d MB).") % {"mb": IMPORT_MAX_BYTES // 2**20}


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Fil med tilbud (JSON eller JSON Lines)"),
        help_text=gettext_lazy(
            "Samme format som eksporten og kommandoen import_offers. Tilbud med et kendt ekstern "
            "id opdateres, nye oprettes. Du ser først en kontrol; intet gemmes, før du bekræfter."
        ),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(too_large_message())
        try:
            return str(upload.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise ValidationError(_("Filen skal være gemt som UTF-8.")) from None


# --- Organisations -------------------------------------------------------------------------------


class OrganisationAdminForm(ConstraintErrorsOnFields, forms.ModelForm):
    constraint_fields: ClassVar[dict[str, str | Callable[[Any], str]]] = {
        "offers_organisation_one_funded_cluster_per_strength_position": "publicly_funded",
        "offers_organisation_funded_cluster_has_strength_position": "publicly_funded",
    }

    class Meta:
        model = Organisation
        fields = (
            "slug",
            "name",
            "kind",
            "level",
            "region",
            "municipality",
            "member_municipalities",
            "strength_position",
            "publicly_funded",
            "website",
            "contact_email",
            "contact_phone",
            "address",
            "inbox_email",
        )
