"""The shared CRM: one record per company, one history per case, across every operator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.dk import cvr as cvr_number
from stdnum.exceptions import ValidationError as StdnumValidationError

from crm.hub_words import hub_one, hub_text, hub_words
from crm.querysets import CaseQuerySet, CompanyQuerySet, ContactQuerySet, ReferralQuerySet
from offers.models import CompanySize, Industry

if TYPE_CHECKING:
    from django.db.models import QuerySet


def normalise_cvr(value: str) -> str:
    """The eight digits of a CVR number as typed ("DK 1234 5678" → "12345678")."""
    return cvr_number.compact(value)


def validate_cvr(value: str) -> None:
    try:
        cvr_number.validate(value)
    except StdnumValidationError:
        raise ValidationError(
            _("%(value)s er ikke et gyldigt CVR-nummer (8 cifre med korrekt kontrolciffer)."),
            code="invalid_cvr",
            params={"value": value},
        ) from None


class IndustryClassification(models.TextChoices):
    # The CVR register has used DB25 (NACE rev. 2.1) since 2025; section letters after J differ
    # from DB07, so a letter means nothing without knowing which list it comes from.
    DB07 = "DB07", _("DB07 (Dansk Branchekode 2007)")
    DB25 = "DB25", _("DB25 (Dansk Branchekode 2025)")


class Company(models.Model):
    """A company, or a person who has not started one yet (then without CVR)."""

    cvr = models.CharField(
        _("CVR-nummer"),
        max_length=8,
        null=True,
        blank=True,
        validators=[validate_cvr],
        help_text=_("Tomt, hvis virksomheden endnu ikke er startet."),
    )
    p_number = models.CharField(_("P-nummer"), max_length=10, blank=True)
    name = models.CharField(_("navn"), max_length=200)
    municipality = models.ForeignKey(
        "offers.Municipality",
        verbose_name=_("kommune"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="companies",
    )
    industry = models.CharField(
        _("branche (hovedafsnit)"), max_length=1, choices=Industry.choices, blank=True
    )
    industry_classification = models.CharField(
        _("brancheklassifikation"),
        max_length=4,
        choices=IndustryClassification.choices,
        default=IndustryClassification.DB07,
    )
    size_class = models.CharField(
        _("størrelse"), max_length=10, choices=CompanySize.choices, blank=True
    )
    employees = models.PositiveIntegerField(_("ansatte"), null=True, blank=True)
    # The company's address as the CVR register shows it (or as typed on the guidance form):
    # company data, not the contact person's.
    address = models.CharField(_("adresse"), max_length=200, blank=True)
    postcode = models.CharField(_("postnummer"), max_length=4, blank=True)
    city = models.CharField(_("by"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("ændret"), auto_now=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        verbose_name = _("virksomhed")
        verbose_name_plural = _("virksomheder")
        ordering = ["name"]
        constraints = [
            # Also the index for every CVR lookup (find-or-create, admin search by CVR).
            models.UniqueConstraint(
                fields=["cvr"],
                condition=Q(cvr__isnull=False),
                name="crm_company_unique_cvr",
                violation_error_message=_(
                    "Der findes allerede en virksomhed med dette CVR-nummer."
                ),
            ),
            models.CheckConstraint(
                condition=Q(cvr__isnull=True) | Q(cvr__regex=r"^[1-9][0-9]{7}$"),
                name="crm_company_cvr_is_eight_digits",
                violation_error_message=_("Et CVR-nummer er 8 cifre."),
            ),
        ]
        indexes = [
            # Admin case search by company name: UPPER(name) LIKE UPPER('%term%') (icontains).
            GinIndex(
                OpClass(Upper("name"), name="gin_trgm_ops"),
                name="crm_company_name_trgm",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (CVR {self.cvr})" if self.cvr else self.name

    @property
    def address_line(self) -> str:
        """The address on one line, as Danes write it: "Vestergade 1, 8000 Aarhus C"."""
        place = " ".join(part for part in (self.postcode, self.city) if part)
        return ", ".join(part for part in (self.address, place) if part)

    def clean(self) -> None:
        super().clean()
        if self.cvr:
            self.cvr = normalise_cvr(self.cvr)
            validate_cvr(self.cvr)
        else:
            self.cvr = None
        if self.employees is not None:
            size = CompanySize.for_employees(self.employees)
            self.size_class = size.value if size else ""


#: The version of the privacy text (/privatliv/) a contact was shown, on the portal's guidance form
#: or by an adviser who registers a case by hand; bump it when the text changes materially. Not a
#: consent: guidance is a public task (GDPR art. 6(1)(e)); the field names keep their old words.
CONSENT_VERSION = "privatliv-2026-2"


class Contact(models.Model):
    """A person at a company. Personal data: exported and erased on request, anonymised later."""

    company = models.ForeignKey(
        Company, verbose_name=_("virksomhed"), on_delete=models.PROTECT, related_name="contacts"
    )
    name = models.CharField(_("navn"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("telefon"), max_length=30, blank=True)
    role = models.CharField(_("rolle i virksomheden"), max_length=100, blank=True)
    consent_at = models.DateTimeField(_("oplyst om behandlingen"), null=True, blank=True)
    consent_version = models.CharField(_("version af privatlivsteksten"), max_length=50, blank=True)
    anonymised_at = models.DateTimeField(_("anonymiseret"), null=True, blank=True)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now, editable=False)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("kontaktperson")
        verbose_name_plural = _("kontaktpersoner")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "company",
                Lower("email"),
                condition=~Q(email=""),
                name="crm_contact_unique_email_per_company",
                violation_error_message=_(
                    "Virksomheden har allerede en kontaktperson med denne e-mail."
                ),
            ),
            models.CheckConstraint(
                condition=Q(anonymised_at__isnull=True) | Q(email="", phone=""),
                name="crm_contact_anonymised_has_no_details",
            ),
        ]
        indexes = [
            # privacy_export / privacy_erase: WHERE LOWER(email) = LOWER(%s), across companies.
            models.Index(Lower("email"), name="crm_contact_email_lower"),
            # Admin case search by contact name: UPPER(name) LIKE UPPER('%term%').
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="crm_contact_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None


class Case(models.Model):
    class Language(models.TextChoices):
        DANISH = "da", _("Dansk")
        ENGLISH = "en", _("Engelsk")

    class Status(models.TextChoices):
        NEW = "new", _("Ny")
        ASSIGNED = "assigned", _("Tildelt")
        IN_PROGRESS = "in_progress", _("I gang")
        REFERRED = "referred", _("Henvist")
        CLOSED = "closed", _("Lukket")

    class Source(models.TextChoices):
        WEB = "web", _("Portalen")
        PHONE = "phone", _("Telefon")
        EMAIL = "email", _("E-mail")
        MUNICIPAL_REFERRAL = "municipal_referral", _("Henvist fra kommune")
        # Requests that came through a partner (partners app): its embedded form, or its API key.
        PARTNER_EMBED = "partner_embed", _("Indlejret formular hos partner")
        PARTNER_API = "partner_api", _("Partnerens API")

    class Outcome(models.TextChoices):
        GUIDED = "guided", _("Vejledt")
        REFERRED = "referred", _("Henvist til tilbud eller operatør")
        NOT_RELEVANT = "not_relevant", _("Ikke relevant for erhvervsfremme")
        NO_RESPONSE = "no_response", _("Virksomheden svarede ikke")
        WITHDRAWN = "withdrawn", _("Virksomheden trak henvendelsen tilbage")
        # Set only by the reminder ladder (crm.services.followup): nobody answered in time.
        NOT_HANDLED = "not_handled", hub_words(_("Ikke behandlet: %(the_hub)s svarede ikke"))

    OPEN_STATUSES = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.REFERRED)

    reference = models.CharField(_("sagsnummer"), max_length=20, editable=False)
    company = models.ForeignKey(
        Company, verbose_name=_("virksomhed"), on_delete=models.PROTECT, related_name="cases"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("kontaktperson"), on_delete=models.PROTECT, related_name="cases"
    )
    hub = models.ForeignKey(
        "offers.Organisation",
        verbose_name=hub_one(),
        on_delete=models.PROTECT,
        related_name="cases",
        limit_choices_to={"kind": "business_hub"},
    )
    adviser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rådgiver"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    needs = models.TextField(_("behov"))
    themes = models.ManyToManyField(
        "offers.Theme", verbose_name=_("temaer"), related_name="cases", blank=True
    )
    offers = models.ManyToManyField(
        "offers.Offer",
        verbose_name=_("matchede tilbud"),
        through="CaseOffer",
        related_name="matched_cases",
        blank=True,
    )
    source = models.CharField(_("kilde"), max_length=20, choices=Source.choices)
    # Where a partner's request came from (partners app): the partner, the page it embedded the
    # form on, or the API key that sent it.
    partner = models.ForeignKey(
        "partners.Partner",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="cases",
    )
    partner_api_key = models.ForeignKey(
        "partners.ApiKey",
        verbose_name=_("API-nøgle"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="cases",
    )
    source_page = models.CharField(_("side"), max_length=500, blank=True, editable=False)
    # The language the company wrote in (the portal's language when it sent the request; an API
    # client's Accept-Language); empty for cases registered by hand and those from before.
    language = models.CharField(
        _("sprog"), max_length=2, choices=Language.choices, blank=True, editable=False
    )
    first_response_due = models.DateField(_("frist for første svar"))
    first_responded_at = models.DateTimeField(_("første svar"), null=True, blank=True)
    outcome = models.CharField(_("udfald"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_text = models.TextField(_("udfald, uddybning"), blank=True)
    closed_at = models.DateTimeField(_("lukket"), null=True, blank=True)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now, editable=False)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("sag")
        verbose_name_plural = _("sager")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["reference"], name="crm_case_unique_reference"),
            models.CheckConstraint(
                condition=Q(reference__regex=r"^EF-[0-9]{4}-[0-9]{6,}$"),
                name="crm_case_reference_format",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | (Q(closed_at__isnull=False) & ~Q(outcome="")),
                name="crm_case_closed_has_outcome",
                violation_error_message=_("En lukket sag skal have et udfald."),
            ),
            models.CheckConstraint(
                condition=Q(partner__isnull=False) | Q(partner_api_key__isnull=True),
                name="crm_case_api_key_has_partner",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["assigned", "in_progress"]) | Q(adviser__isnull=False),
                name="crm_case_assigned_has_adviser",
                violation_error_message=_("En tildelt sag skal have en rådgiver."),
            ),
        ]
        indexes = [
            # The adviser's default list: WHERE hub_id = %s AND status <> 'closed'
            # ORDER BY first_responded_at NULLS FIRST (overdue first), first_response_due, id.
            models.Index(
                "hub",
                models.OrderBy(models.F("first_responded_at"), nulls_first=True),
                "first_response_due",
                "id",
                condition=~Q(status="closed"),
                name="crm_case_hub_open_queue",
            ),
            # The shared history ("Alle, jeg kan se"): open cases of every company with a case at
            # the hub, in queue order. Walked in order, the semi-join on (company, hub) stops at
            # the first page instead of sorting every open case in the country.
            models.Index(
                models.OrderBy(models.F("first_responded_at"), nulls_first=True),
                "first_response_due",
                "id",
                condition=~Q(status="closed"),
                name="crm_case_open_queue",
            ),
            # Filtered lists and their COUNT(*): WHERE hub_id = %s AND status = %s, joined to the
            # theme filter by id; the included id makes the count an index-only scan.
            models.Index(
                fields=["hub", "status", "first_response_due"],
                include=["id"],
                name="crm_case_hub_status",
            ),
            # The company page (every case across hubs) and adviser visibility of shared history.
            models.Index(fields=["company", "hub"], name="crm_case_company_hub"),
            # The retention job: closed cases by closing time.
            models.Index(
                fields=["closed_at"], condition=Q(status="closed"), name="crm_case_closed_at"
            ),
            # The "assigned to me" filter.
            models.Index(fields=["adviser", "status"], name="crm_case_adviser_status"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    def is_overdue_on(self, day: object) -> bool:
        return (
            self.is_open and self.first_responded_at is None and self.first_response_due < day  # type: ignore[operator]
        )

    @property
    def is_overdue(self) -> bool:
        return self.is_overdue_on(timezone.localdate())

    def public_timeline(self) -> QuerySet[TimelineEntry]:
        """What the company may see on its private status page: never internal notes."""
        return self.timeline.filter(is_public=True).order_by("at", "id")


class CaseOffer(models.Model):
    """An offer the matching proposed for a case, with its score and human-readable reasons."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_offers")
    offer = models.ForeignKey("offers.Offer", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("score"), default=0)
    reasons = models.JSONField(_("begrundelser"), default=list, blank=True)
    # The same reasons structured (code and values, ``routing.matching.Reason.as_dict``), so that
    # the case page can word them in the adviser's language (``crm.suggestions``).
    explanation = models.JSONField(_("begrundelser, strukturerede"), default=list, blank=True)

    class Meta:
        verbose_name = _("matchet tilbud")
        verbose_name_plural = _("matchede tilbud")
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "offer"], name="crm_caseoffer_unique_offer"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} ~ {self.offer_id} ({self.score:.2f})"


class TimelineEntry(models.Model):
    class Kind(models.TextChoices):
        CREATED = "created", _("Oprettet")
        NOTE = "note", _("Notat")
        MEETING = "meeting", _("Møde")
        CALL = "call", _("Opkald")
        EMAIL = "email", _("E-mail")
        REFERRAL = "referral", _("Henvisning")
        ASSIGNMENT = "assignment", _("Tildeling")
        STATUS_CHANGE = "status_change", _("Statusændring")
        TRANSFER = "transfer", _("Overdragelse")
        CLOSED = "closed", _("Lukket")
        PRIVACY = "privacy", _("Persondata")
        REMINDER = "reminder", _("Påmindelse")
        SURVEY = "survey", _("Spørgeskema")

    # Kinds an adviser records by hand; each counts as a first response.
    ACTIVITY_KINDS = (Kind.NOTE, Kind.MEETING, Kind.CALL, Kind.EMAIL)
    #: What answers the first-response promise: a real contact with the company. Taking the case,
    #: an internal note or a referral the company has not heard about is no answer to it.
    FIRST_RESPONSE_KINDS = (Kind.MEETING, Kind.CALL, Kind.EMAIL)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    action = models.CharField(_("handling"), max_length=60, help_text="crm.case.assigned, ...")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("udført af"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("tidspunkt"), default=timezone.now)
    text = models.TextField(_("tekst"), blank=True)
    payload = models.JSONField(_("data"), default=dict, blank=True)
    is_public = models.BooleanField(
        _("synlig for virksomheden"),
        default=False,
        help_text=_("Vises på virksomhedens private statusside."),
    )

    class Meta:
        verbose_name = _("hændelse")
        verbose_name_plural = _("hændelser")
        ordering = ["-at", "-id"]
        indexes = [
            # The case page's timeline, newest first: WHERE case_id = %s ORDER BY at DESC.
            models.Index(
                "case", models.F("at").desc(), models.F("id").desc(), name="crm_timeline_case_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


class Referral(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Foreslået")
        ACCEPTED = "accepted", _("Accepteret")
        COMPLETED = "completed", _("Gennemført")
        DECLINED = "declined", _("Afvist")

    class DeclineReason(models.TextChoices):
        NOT_ELIGIBLE = "not_eligible", _("Virksomheden opfylder ikke betingelserne")
        NO_CAPACITY = "no_capacity", _("Vi har ikke kapacitet lige nu")
        NOT_IN_AREA = "not_in_area", _("Virksomheden ligger uden for vores område")
        NOT_REACHABLE = "not_reachable", _("Vi kunne ikke få fat i virksomheden")
        OTHER = "other", _("Andet")

    case = models.ForeignKey(
        Case, verbose_name=_("sag"), on_delete=models.CASCADE, related_name="referrals"
    )
    offer = models.ForeignKey(
        "offers.Offer",
        verbose_name=_("tilbud"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    operator = models.ForeignKey(
        "offers.Organisation",
        verbose_name=_("operatør"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PROPOSED
    )
    note = models.TextField(_("bemærkning"), blank=True)
    outcome = models.TextField(_("udfald"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("oprettet af"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)
    completed_at = models.DateTimeField(_("afsluttet"), null=True, blank=True)
    # What the operator sees (crm.operators): the company's need, and its contact only when the
    # adviser chose to share it when referring.
    share_contact = models.BooleanField(
        _("kontaktpersonen deles med operatøren"), default=False, db_default=False
    )
    decline_reason = models.CharField(
        _("årsag til afvisning"),
        max_length=20,
        choices=DeclineReason.choices,
        blank=True,
        default="",
        db_default="",
    )
    # When the operator first answered (accepted or declined): the end of its silence.
    answered_at = models.DateTimeField(_("besvaret af operatøren"), null=True, blank=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("henvisning")
        verbose_name_plural = _("henvisninger")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(offer__isnull=False) | Q(operator__isnull=False),
                name="crm_referral_has_offer_or_operator",
                violation_error_message=_("En henvisning skal gå til et tilbud eller en operatør."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["completed", "declined"]) | Q(completed_at__isnull=False),
                name="crm_referral_finished_has_time",
            ),
        ]
        indexes = [
            # completed_offer_referrals(): participations for the effect measurement.
            models.Index(
                fields=["offer", "completed_at"],
                condition=Q(status="completed", offer__isnull=False),
                name="crm_referral_completed_offer",
            ),
            # The operator reminders (crm.services.followup): WHERE status = 'proposed' AND
            # created_at < %s, the few unanswered referrals out of millions.
            models.Index(
                fields=["created_at"],
                condition=Q(status="proposed"),
                name="crm_referral_unanswered",
            ),
            # An operator's list (crm.admin.operators): WHERE operator_id = %s.
            models.Index(fields=["operator", "created_at"], name="crm_referral_operator"),
        ]

    def __str__(self) -> str:
        target = self.offer or self.operator
        return f"{self.case_id} → {target}"

    @property
    def target_label(self) -> str:
        if self.offer_id and self.operator_id:
            return f"{self.offer} ({self.operator})"
        return str(self.offer or self.operator)


class Feedback(models.Model):
    case = models.OneToOneField(
        Case, verbose_name=_("sag"), on_delete=models.CASCADE, related_name="feedback"
    )
    rating = models.PositiveSmallIntegerField(_("bedømmelse (1–5)"))
    comment = models.TextField(_("kommentar"), blank=True)
    created_at = models.DateTimeField(_("givet"), default=timezone.now)

    class Meta:
        verbose_name = _("tilbagemelding")
        verbose_name_plural = _("tilbagemeldinger")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5),
                name="crm_feedback_rating_1_to_5",
                violation_error_message=_("Bedømmelsen skal være mellem 1 og 5."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.rating}"


class Notification(models.Model):
    """An e-mail in the transactional outbox: written with the change, sent after commit.

    A row is never lost when Redis or the mail server is down: the request only writes it, a
    Celery task sends it, and the sweep job hands the broker whatever is due again
    (``crm.outbox``). Every app above the CRM writes its e-mails here; each app declares its own
    kinds and registers them (``crm.outbox.kinds_register``), so ``kind`` has no fixed choices.
    """

    class Kind(models.TextChoices):
        """The CRM's own kinds (other apps declare theirs next to their models)."""

        CASE_CREATED = "case_created", hub_words(_("Ny sag til %(the_hub)s"))
        CASE_ASSIGNED = "case_assigned", _("Sagen er tildelt en rådgiver")
        OVERDUE_DIGEST = "overdue_digest", _("Oversigt over sager uden første svar")
        FOLLOWUP_NUDGE = "followup_nudge", _("Påmindelse: sager uden første svar")
        FOLLOWUP_LEAD = "followup_lead", hub_words(_("Til %(the_hub)ss leder: sager uden svar"))
        FOLLOWUP_COMPANY = "followup_company", _("Til virksomheden: vi har ikke glemt dig")
        CASE_NOT_HANDLED = "case_not_handled", _("Til virksomheden: sagen er lukket uden svar")
        CASE_CLOSED = "case_closed", _("Til virksomheden: sagen er lukket")
        SURVEY = "survey", _("Spørgeskema til virksomheden")
        SURVEY_REMINDER = "survey_reminder", _("Påmindelse om spørgeskema")
        SURVEY_ANSWERED = "survey_answered", _("Virksomheden har svaret på spørgeskemaet")
        REFERRAL_ANSWERED = "referral_answered", _("Til rådgiveren: operatøren har svaret")
        REFERRAL_NEW = "referral_new", _("Til operatøren: ny henvisning")
        REFERRAL_OPERATOR_REMINDER = (
            "referral_operator_reminder",
            _("Til operatøren: henvisninger uden svar"),
        )
        REFERRAL_ADVISER_REMINDER = (
            "referral_adviser_reminder",
            _("Til rådgiveren: operatøren har ikke svaret"),
        )
        FOLLOWUP_STALE = "followup_stale", _("Påmindelse: sager uden aktivitet")
        REPEAT_REQUEST = "repeat_request", _("Ny henvendelse på en eksisterende sag")

    class Status(models.TextChoices):
        PENDING = "pending", _("Venter")
        SENDING = "sending", _("Sendes")
        SENT = "sent", _("Sendt")
        FAILED = "failed", _("Fejlet")

    kind = models.CharField(_("type"), max_length=30)
    case = models.ForeignKey(
        Case,
        verbose_name=_("sag"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    recipient = models.EmailField(_("modtager"))
    subject = models.CharField(_("emne"), max_length=250)
    body = models.TextField(_("tekst"))
    # Extra headers, e.g. the saved-search digest's one-click List-Unsubscribe (RFC 8058).
    headers = models.JSONField(_("ekstra headere"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # Real send attempts since the message was queued (or last put back by "Send igen").
    attempts = models.PositiveSmallIntegerField(_("forsøg"), default=0)
    last_error = models.CharField(_("seneste fejl"), max_length=200, blank=True)
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)
    # Since when the message has been waiting to go out: its creation, or the last "Send igen".
    # The outbox gives up (``failed``) only once this is OUTBOX_GIVE_UP_HOURS old.
    pending_since = models.DateTimeField(_("venter siden"), default=timezone.now)
    # When the message is due: a pending row may be sent from then on; a row being sent belongs to
    # its worker until then (after that the worker is presumed dead and the row is due again).
    next_attempt_at = models.DateTimeField(_("næste forsøg"), default=timezone.now)
    # When the row was last handed to the broker; None when it waits for the sweep to do so.
    enqueued_at = models.DateTimeField(_("sat i kø"), null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("påbegyndt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sendt"), null=True, blank=True)

    class Meta:
        verbose_name = _("besked")
        verbose_name_plural = _("beskeder")
        ordering = ["-created_at"]
        constraints = [
            # One overdue digest per hub per day, one saved-search digest per search and week.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="crm_notification_unique_dedupe_key",
            ),
        ]
        indexes = [
            # crm.outbox.notifications_sweep and the claim: WHERE status IN ('pending', 'sending')
            # AND next_attempt_at <= now ORDER BY next_attempt_at LIMIT n. Sent and failed rows,
            # nearly all of the table, stay out of the index.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="crm_notification_due",
            ),
            # governance.services._outbox_forget: WHERE dedupe_key LIKE 'saved-search:<id>:%'
            # (a saved search's e-mails, blanked when its address is deleted).
            models.Index(
                OpClass("dedupe_key", name="varchar_pattern_ops"),
                condition=Q(dedupe_key__isnull=False),
                name="crm_notification_key_prefix",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class CaseFollowUp(models.Model):
    """One step of a case's follow-up, done once: the reminder ladder and the survey.

    The row is the claim: the jobs insert it with ON CONFLICT DO NOTHING before they write the
    timeline entry and the e-mail in the same transaction, so a job run twice (or two at once)
    does each step of each case once (``crm.services.followup``).
    """

    class Step(models.TextChoices):
        NUDGE = "nudge", hub_words(_("Påmindelse til rådgiveren eller %(the_hub)s"))
        LEAD_ALERT = "lead_alert", hub_words(_("%(the_hub)ss leder orienteret"))
        COMPANY_UPDATE = "company_update", _("Virksomheden fik en ny forventet dato")
        CLOSED_NOT_HANDLED = "closed_not_handled", _("Lukket som ikke behandlet")
        SURVEY = "survey", _("Spørgeskema sendt")
        SURVEY_REMINDER = "survey_reminder", _("Påmindelse om spørgeskema sendt")
        # An answered case gone quiet; the row's day moves to the latest chase (not once only).
        STALE = "stale", _("Påmindelse om sag uden aktivitet")

    # No index of its own: the unique (case, step) index serves every lookup by case.
    case = models.ForeignKey(
        Case,
        verbose_name=_("sag"),
        on_delete=models.CASCADE,
        related_name="follow_ups",
        db_index=False,
    )
    step = models.CharField(_("trin"), max_length=20, choices=Step.choices)
    # The Danish date of the step: the next step counts its working days from it.
    day = models.DateField(_("dag"))
    at = models.DateTimeField(_("tidspunkt"), default=timezone.now)

    class Meta:
        verbose_name = _("opfølgning")
        verbose_name_plural = _("opfølgninger")
        ordering = ["case", "at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "step"], name="crm_casefollowup_unique_step"),
        ]
        indexes = [
            # The next step's candidates: WHERE step = %s AND day <= %s (then the case's checks).
            models.Index(fields=["step", "day"], name="crm_casefollowup_step_day"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.step}"


class HubLead(models.Model):
    """Who leads a Væksthus: the person the reminder ladder alerts about unanswered cases."""

    hub = models.OneToOneField(
        "offers.Organisation",
        verbose_name=hub_one(),
        on_delete=models.CASCADE,
        related_name="crm_lead",
        limit_choices_to={"kind": "business_hub"},
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leder"),
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Får besked, når en sag stadig mangler første svar efter påmindelsen."),
    )

    class Meta:
        verbose_name = hub_words(_("%(the_hub)ss leder"))
        verbose_name_plural = hub_words(_("%(the_hubs)ss ledere"))

    def __str__(self) -> str:
        return f"{self.hub}: {self.lead}"

    def clean(self) -> None:
        super().clean()
        if self.hub_id and self.lead_id and self.lead.organisation_id != self.hub_id:
            raise ValidationError(
                {"lead": hub_text(_("Lederen skal høre til %(the_hub)s."))}, code="lead_not_of_hub"
            )


class SurveyAnswer(models.Model):
    """The company's answer to the survey after its case was closed: categories only, no free
    text, so it holds nothing about a person beyond which case it belongs to."""

    class Result(models.TextChoices):
        FOUND_SUPPORT = "found_support", _("Vi har fundet hjælp eller et tilbud, der passer")
        STARTED = "started", _("Vi har sat noget i gang")
        NOTHING_YET = "nothing_yet", _("Intet endnu")

    class Additionality(models.TextChoices):
        YES = "yes", _("Ja, på samme måde")
        LATER_OR_LESS = "later_or_less", _("Ja, men senere eller i mindre omfang")
        NO = "no", _("Nej")
        DONT_KNOW = "dont_know", _("Ved ikke")

    case = models.OneToOneField(
        Case, verbose_name=_("sag"), on_delete=models.CASCADE, related_name="survey_answer"
    )
    contacted = models.BooleanField(_("blev kontaktet"))
    usefulness = models.PositiveSmallIntegerField(_("udbytte (1–5)"))
    result = models.CharField(_("hvad kom der ud af det"), max_length=20, choices=Result.choices)
    additionality = models.CharField(
        _("ville have gjort det uden hjælpen"), max_length=20, choices=Additionality.choices
    )
    answered_at = models.DateTimeField(_("svaret"), default=timezone.now)

    class Meta:
        verbose_name = _("svar på spørgeskema")
        verbose_name_plural = _("svar på spørgeskema")
        constraints = [
            models.CheckConstraint(
                condition=Q(usefulness__gte=1, usefulness__lte=5),
                name="crm_surveyanswer_usefulness_1_to_5",
                violation_error_message=_("Udbyttet skal være mellem 1 og 5."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.usefulness}"


class ErasureRecord(models.Model):
    """Proof that personal data was erased, without keeping the address in clear."""

    class Reason(models.TextChoices):
        REQUEST = "request", _("Anmodning fra personen")
        RETENTION = "retention", _("Opbevaringsperioden udløb")

    email_hash = models.CharField(_("e-mail (saltet hash)"), max_length=64, db_index=True)
    reason = models.CharField(_("årsag"), max_length=20, choices=Reason.choices)
    contacts = models.PositiveIntegerField(_("kontaktpersoner"), default=0)
    cases = models.PositiveIntegerField(_("sager"), default=0)
    notifications = models.PositiveIntegerField(_("beskeder"), default=0)
    erased_at = models.DateTimeField(_("slettet"), default=timezone.now)
    erased_by = models.CharField(_("slettet af"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("sletning af persondata")
        verbose_name_plural = _("sletninger af persondata")
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.erased_at:%Y-%m-%d}"


class OperatorReferral(Referral):
    """A referral as its operator sees it in the admin (``crm.admin.operators``): its own
    permissions, so the role "Operatør" reaches these pages and nothing else of the CRM."""

    class Meta:
        proxy = True
        verbose_name = _("henvisning til os")
        verbose_name_plural = _("henvisninger til os")


class ReferralFollowUp(models.Model):
    """One reminder about a referral its operator has not answered, sent once (the claim, as
    ``CaseFollowUp``): first to the operator, then to the adviser."""

    class Step(models.TextChoices):
        OPERATOR = "operator", _("Påmindelse til operatøren")
        ADVISER = "adviser", _("Rådgiveren orienteret om manglende svar")

    # No index of its own: the unique (referral, step) index serves every lookup by referral.
    referral = models.ForeignKey(
        Referral,
        verbose_name=_("henvisning"),
        on_delete=models.CASCADE,
        related_name="follow_ups",
        db_index=False,
    )
    step = models.CharField(_("trin"), max_length=20, choices=Step.choices)
    # The Danish date of the step: the next step counts its working days from it.
    day = models.DateField(_("dag"))
    at = models.DateTimeField(_("tidspunkt"), default=timezone.now)

    class Meta:
        verbose_name = _("opfølgning på henvisning")
        verbose_name_plural = _("opfølgninger på henvisninger")
        ordering = ["referral", "at"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "step"], name="crm_referralfollowup_unique_step"
            ),
        ]
        indexes = [
            # The adviser step's candidates: WHERE step = 'operator' AND day <= %s.
            models.Index(fields=["step", "day"], name="crm_referralfollowup_step_day"),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.step}"


class AbsenceQuerySet(models.QuerySet):
    def on(self, day: object) -> AbsenceQuerySet:
        """Absences that cover ``day`` (both dates inclusive): over by themselves after the end."""
        return self.filter(starts_on__lte=day, ends_on__gte=day)

    def editable_by(self, user: object) -> AbsenceQuerySet:
        """A superuser every absence, a hub's lead their hub's, an adviser their own."""
        from crm.permissions import adviser_hub_id, is_active_superuser

        if is_active_superuser(user):
            return self
        hub_id = adviser_hub_id(user)
        if hub_id is None:
            return self.none()
        if HubLead.objects.filter(hub_id=hub_id, lead_id=user.pk).exists():  # type: ignore[attr-defined]
            return self.filter(adviser__organisation_id=hub_id)
        return self.filter(adviser_id=user.pk)  # type: ignore[attr-defined]


class Absence(models.Model):
    """An adviser away from one date to another (both inclusive): holiday, leave, illness.

    While it lasts, work that would go to the adviser goes to the hub's queue instead: a case
    assigned to them by a colleague is refused, a repeat request on their case is told to the
    hub's inbox, and the reminder ladder writes to the inbox about their cases
    (``crm.services.absences``). It ends by itself: every check asks about a date.
    """

    adviser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rådgiver"),
        on_delete=models.CASCADE,
        related_name="absences",
    )
    starts_on = models.DateField(_("fra og med"))
    ends_on = models.DateField(_("til og med"))
    note = models.CharField(
        _("bemærkning"),
        max_length=200,
        blank=True,
        help_text=hub_words(
            _("Kun til kolleger i %(the_hub)s, fx ferie eller kursus. Skriv ikke om helbred.")
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registreret af"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registreret"), default=timezone.now, editable=False)

    objects = AbsenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("fravær")
        verbose_name_plural = _("fravær")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="crm_absence_ends_after_start",
                violation_error_message=_("Fraværet kan ikke slutte, før det begynder."),
            ),
        ]
        indexes = [
            # "Is this adviser away today?": WHERE adviser_id = ANY(...) AND ends_on >= today.
            models.Index(fields=["adviser", "ends_on"], name="crm_absence_adviser_end"),
        ]

    def __str__(self) -> str:
        return f"{self.adviser}: {self.starts_on:%d.%m.%Y}–{self.ends_on:%d.%m.%Y}"


class CvrRegisterEntry(models.Model):
    """One company in the local copy of the CVR register's open data (``import_cvr_register``).

    Only what the register publishes about a company, for filling in the guidance form; loaded
    whole from a file and replaced whole by the next one (crm/cvr_import.py).
    """

    cvr = models.CharField(_("CVR-nummer"), max_length=8, primary_key=True)
    name = models.CharField(_("navn"), max_length=300)
    address = models.CharField(_("adresse"), max_length=300, blank=True)
    postcode = models.CharField(_("postnummer"), max_length=4, blank=True)
    city = models.CharField(_("by"), max_length=100, blank=True)
    municipality_code = models.PositiveSmallIntegerField(_("kommunekode"), null=True, blank=True)
    industry_code = models.CharField(_("hovedbranche (DB07)"), max_length=6, blank=True)
    employees_min = models.PositiveIntegerField(_("ansatte fra"), null=True, blank=True)
    employees_max = models.PositiveIntegerField(_("ansatte til"), null=True, blank=True)
    loaded_at = models.DateTimeField(_("indlæst"), default=timezone.now)

    class Meta:
        verbose_name = _("virksomhed i CVR-registeret")
        verbose_name_plural = _("virksomheder i CVR-registeret")
        constraints = [
            models.CheckConstraint(
                condition=Q(cvr__regex=r"^[1-9][0-9]{7}$"),
                name="crm_cvrregisterentry_cvr_is_eight_digits",
            ),
            models.CheckConstraint(
                condition=Q(industry_code="") | Q(industry_code__regex=r"^[0-9]{6}$"),
                name="crm_cvrregisterentry_industry_code_is_six_digits",
            ),
            models.CheckConstraint(
                condition=Q(employees_min__isnull=True)
                | Q(employees_max__isnull=True)
                | Q(employees_min__lte=models.F("employees_max")),
                name="crm_cvrregisterentry_employee_band_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (CVR {self.cvr})"


class DeMinimisAid(models.Model):
    """One line of the imported register extract of de minimis aid (other grantors' aid).

    The extract is replaced as a whole by each import (``crm.services.de_minimis_import``); a
    company's headroom adds its completed CRM participations in de minimis offers
    (``crm/state_aid.py``).
    """

    cvr = models.CharField(_("CVR-nummer"), max_length=8)
    granted_on = models.DateField(_("tildelt"))
    amount_dkk = models.PositiveBigIntegerField(_("støttebeløb (kr.)"))
    grantor = models.CharField(_("støttegiver"), max_length=200, blank=True)
    imported_at = models.DateTimeField(_("indlæst"), default=timezone.now)

    class Meta:
        verbose_name = _("de minimis-støtte (registerudtræk)")
        verbose_name_plural = _("de minimis-støtte (registerudtræk)")
        ordering = ["cvr", "granted_on"]
        indexes = [
            # de_minimis_headroom(): one company's grants.
            models.Index(fields=["cvr", "granted_on"], name="crm_deminimis_cvr_granted"),
        ]

    def __str__(self) -> str:
        return f"{self.cvr} · {self.granted_on} · {self.amount_dkk}"
