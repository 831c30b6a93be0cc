"""Guidance requests and the rules that route them to a Væksthus."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from crm.hub_words import hub_one, hub_words
from routing.assignment import RuleCandidate
from routing.assignment import Scope as RuleScope
from routing.querysets import GuidanceRequestQuerySet, RoutingRuleQuerySet


class RoutingMail(models.TextChoices):
    """The e-mails routing sends through the CRM's outbox (templates in routing/email/)."""

    REQUEST_RECEIPT = "request_receipt", _("Kvittering til virksomheden")


class RoutingRule(models.Model):
    """An exception to "the Væksthus of the municipality's region", maintained in the admin.

    Service agreements are the usual reason: a municipality whose local business service is run
    by a Væksthus in another region, a business region that buys its guidance from one hub, or a
    theme one hub handles for the whole country. See ``routing/assignment.py`` for how rules win.
    """

    class Scope(models.TextChoices):
        MUNICIPALITY = RuleScope.MUNICIPALITY.value, _("Kommune")
        BUSINESS_REGION = RuleScope.BUSINESS_REGION.value, _("Erhvervssamarbejde (business region)")
        THEME = RuleScope.THEME.value, _("Tema")

    scope = models.CharField(_("gælder for"), max_length=20, choices=Scope.choices)
    municipality = models.ForeignKey(
        "offers.Municipality",
        verbose_name=_("kommune"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
    )
    business_region = models.ForeignKey(
        "offers.Organisation",
        verbose_name=_("erhvervssamarbejde"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="business_region_routing_rules",
        limit_choices_to={"kind": "business_region"},
        help_text=_("Reglen gælder alle samarbejdets medlemskommuner."),
    )
    theme = models.ForeignKey(
        "offers.Theme",
        verbose_name=_("tema"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
    )
    hub = models.ForeignKey(
        "offers.Organisation",
        verbose_name=hub_one(),
        on_delete=models.PROTECT,
        related_name="routing_rules",
        limit_choices_to={"kind": "business_hub"},
    )
    priority = models.SmallIntegerField(
        _("prioritet"),
        default=100,
        help_text=_("Gælder flere regler, vinder den med højest prioritet."),
    )
    valid_from = models.DateField(_("gyldig fra"), null=True, blank=True)
    valid_to = models.DateField(_("gyldig til"), null=True, blank=True)
    active = models.BooleanField(_("aktiv"), default=True)
    reason = models.CharField(
        _("begrundelse"),
        max_length=300,
        help_text=hub_words(
            _(
                "Står på sagen, så rådgiveren kan se, hvorfor den kom til dette %(hub)s. "
                "F.eks. „Driftsaftale: %(hub)s Syddanmark driver Vejle Kommunes erhvervsservice“."
            )
        ),
    )
    created_at = models.DateTimeField(_("oprettet"), auto_now_add=True)
    updated_at = models.DateTimeField(_("ændret"), auto_now=True)

    objects = RoutingRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("fordelingsregel")
        verbose_name_plural = _("fordelingsregler")
        ordering = ["-priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        scope="municipality",
                        municipality__isnull=False,
                        business_region__isnull=True,
                        theme__isnull=True,
                    )
                    | Q(
                        scope="business_region",
                        municipality__isnull=True,
                        business_region__isnull=False,
                        theme__isnull=True,
                    )
                    | Q(
                        scope="theme",
                        municipality__isnull=True,
                        business_region__isnull=True,
                        theme__isnull=False,
                    )
                ),
                name="routing_routingrule_scope_has_its_target",
                violation_error_message=_(
                    "Angiv præcis det, reglen gælder for: en kommune, et erhvervssamarbejde "
                    "eller et tema."
                ),
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="routing_routingrule_valid_to_not_before_valid_from",
                violation_error_message=_("Gyldig til kan ikke ligge før gyldig fra."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()}: {self.target_label} → {self.hub}"

    @property
    def target_label(self) -> str:
        target = self.municipality or self.business_region or self.theme
        return str(target) if target is not None else "–"

    def as_candidate(self, member_codes: frozenset[int] = frozenset()) -> RuleCandidate:
        """This rule as plain data for ``routing.assignment`` (members: a business region's)."""
        codes = RuleCandidate.codes_for(self.scope, self.municipality_id, member_codes)
        return RuleCandidate(
            id=self.pk,
            scope=RuleScope(self.scope),
            hub_slug=self.hub.slug,
            priority=self.priority,
            reason=self.reason,
            active=self.active,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            municipality_codes=codes,
            theme_slug=self.theme.slug if self.theme_id is not None and self.theme else None,
        )


def token_digest(token: str) -> str:
    """SHA-256 of a status token, the value the database looks the token up by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class GuidanceRequest(models.Model):
    """A company's request for guidance as it arrived, and what routing made of it.

    The case (``crm.Case``) is where advisers work; this row keeps what only routing knows: the
    private status token, the idempotency key or form nonce that makes a retry harmless, which
    rule chose the hub and why, and the matches as they were shown to the company.

    The token is kept in clear because the confirmation page and an idempotent API retry must
    show the same status link again. It is looked up by its SHA-256 digest (``token_hash``) and
    then compared in constant time, so the database never compares the secret itself.
    """

    class Channel(models.TextChoices):
        FORM = "form", _("Formularen på portalen")
        API = "api", _("API")

    case = models.OneToOneField(
        "crm.Case",
        verbose_name=_("sag"),
        on_delete=models.PROTECT,
        related_name="guidance_request",
    )
    channel = models.CharField(_("kanal"), max_length=10, choices=Channel.choices)
    token = models.CharField(_("adgangsnøgle til statussiden"), max_length=64, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    idempotency_key = models.CharField(
        _("idempotensnøgle"), max_length=200, null=True, blank=True, editable=False
    )
    request_fingerprint = models.CharField(max_length=64, editable=False)
    form_nonce = models.CharField(max_length=64, null=True, blank=True, editable=False)

    municipality = models.ForeignKey(
        "offers.Municipality",
        verbose_name=_("kommune"),
        on_delete=models.PROTECT,
        related_name="guidance_requests",
    )
    themes = models.ManyToManyField(
        "offers.Theme", verbose_name=_("valgte temaer"), related_name="guidance_requests"
    )
    origin_offer = models.ForeignKey(
        "offers.Offer",
        verbose_name=_("kom fra tilbuddet"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="guidance_requests",
    )
    hub = models.ForeignKey(
        "offers.Organisation",
        verbose_name=hub_words(_("tildelt %(hub)s")),
        on_delete=models.PROTECT,
        related_name="guidance_requests",
    )
    rule = models.ForeignKey(
        RoutingRule,
        verbose_name=_("fordelingsregel"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="guidance_requests",
        help_text=hub_words(_("Tom, når %(the_hub)s i virksomhedens region fik sagen.")),
    )
    assignment_reason = models.CharField(
        hub_words(_("begrundelse for %(the_hub)s")), max_length=300
    )
    matches = models.JSONField(_("matchede tilbud"), default=list, blank=True)
    created_at = models.DateTimeField(_("modtaget"), default=timezone.now, editable=False)

    objects = GuidanceRequestQuerySet.as_manager()

    class Meta:
        # Every request is a case at once (crm.Case, where advisers work); this is the record of
        # how it arrived and was routed, so the name says that next to "Sager".
        verbose_name = _("indkommen henvendelse og fordeling")
        verbose_name_plural = _("indkomne henvendelser og deres fordeling")
        ordering = ["-created_at"]
        constraints = [
            # The status page and GET /api/guidance-requests/{token}/ look the token up by digest.
            models.UniqueConstraint(
                fields=["token_hash"], name="routing_guidancerequest_unique_token"
            ),
            # A retried API call with the same Idempotency-Key returns the first case.
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="routing_guidancerequest_unique_idempotency_key",
            ),
            # A double-clicked form (same one-time nonce) returns the first case.
            models.UniqueConstraint(
                fields=["form_nonce"],
                condition=Q(form_nonce__isnull=False),
                name="routing_guidancerequest_unique_form_nonce",
            ),
        ]
        indexes = [
            # Statistics by month and region: WHERE created_at range, GROUP BY month/region.
            models.Index(fields=["created_at", "municipality"], name="routing_gr_created"),
        ]

    def __str__(self) -> str:
        return f"{self.case.reference}" if self.case_id else f"#{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.repeat is not None:
            raise ValueError("A repeat request's answer is not a row to save.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("routing:status", kwargs={"token": self.token})

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.repeat is not None:
            raise ValueError("A repeat request's answer is not a row to delete.")
        return super().delete(*args, **kwargs)

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        if self.repeat is not None:
            raise ValueError("A repeat request's answer is not read again from its row.")
        super().refresh_from_db(*args, **kwargs)

    @property
    def expected_response_by(self) -> dt.date:
        return self.case.first_response_due

    #: The date the company was last promised an answer by, when the request that made or found
    #: this row already knows it (``routing.services.promised_response_by``); never stored.
    promised_response_by: dt.date | None = None
    #: Set on an in-memory copy that answers a repeat request (``answer_for``); never stored.
    repeat: RepeatRequest | None = None

    def answer_for(self, repeat: RepeatRequest) -> GuidanceRequest:
        """What a repeat request attached to this request's case is answered with: the case, its
        hub and reference, with the repeat request's own status token, matches, time and body.

        The case's own token stays with whoever first asked (or the case's contact): a request
        from someone who knows the company's CVR must not open the case's history and contact.
        The copy is read-only (``save`` refuses it).
        """
        answer = copy.copy(self)
        answer.repeat = repeat
        answer.token = repeat.token
        answer.matches = repeat.matches
        answer.created_at = repeat.created_at
        answer.request_fingerprint = repeat.request_fingerprint
        return answer


class RepeatRequest(models.Model):
    """A request attached to the company's existing case instead of opening a second one
    (``crm.services.repeats``). It has a status token of its own, whose page shows the case's
    reference, status and hub and this request's matches, never the case's history, needs or
    contact (``GuidanceRequest.answer_for``); it keeps the key or nonce that makes a retry of it
    harmless."""

    guidance_request = models.ForeignKey(
        GuidanceRequest,
        verbose_name=_("henvendelsen med sagen"),
        on_delete=models.CASCADE,
        related_name="repeats",
    )
    channel = models.CharField(_("kanal"), max_length=10, choices=GuidanceRequest.Channel.choices)
    # Who sent it, for access and erasure (crm.services.privacy); empty on older rows.
    contact = models.ForeignKey(
        "crm.Contact",
        verbose_name=_("kontaktperson"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="repeat_requests",
    )
    # The partner whose embedded form or API key sent it (partners app), like ``Case.partner``
    # for a first request: its receipt shows in that partner's frame only. The case's own
    # partner is the first request's. Empty for the portal's own form and API, and older rows.
    partner = models.ForeignKey(
        "partners.Partner",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="repeat_requests",
    )
    idempotency_key = models.CharField(
        _("idempotensnøgle"), max_length=200, null=True, blank=True, editable=False
    )
    request_fingerprint = models.CharField(max_length=64, editable=False)
    form_nonce = models.CharField(max_length=64, null=True, blank=True, editable=False)
    # Empty on rows from before repeat requests had a status link of their own.
    token = models.CharField(max_length=64, blank=True, default="", editable=False)
    token_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    matches = models.JSONField(_("matchede tilbud"), default=list, blank=True)
    created_at = models.DateTimeField(_("modtaget"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("gentaget henvendelse")
        verbose_name_plural = _("gentagne henvendelser")
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="routing_repeatrequest_unique_idempotency_key",
            ),
            models.UniqueConstraint(
                fields=["form_nonce"],
                condition=Q(form_nonce__isnull=False),
                name="routing_repeatrequest_unique_form_nonce",
            ),
            models.UniqueConstraint(
                fields=["token_hash"],
                condition=Q(token_hash__isnull=False),
                name="routing_repeatrequest_unique_token",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guidance_request_id} #{self.pk}"


class VocabularyWord(models.Model):
    """A word an editor adds to the needs vocabulary (``routing/data/needs_vocabulary.json``).

    Each row adds one word to a concept of the file, or to a new concept it names (then with its
    labels). The rows are merged with the file by ``routing.vocabulary_store``, which notices a
    change by the rows' version (count, last id, last change) and rebuilds the vocabulary.
    """

    class Where(models.TextChoices):
        NEED = "need", _("Kun i virksomhedernes beskrivelser")
        BOTH = "words", _("I beskrivelser og i tilbud")
        OFFER = "offer", _("Kun i tilbuddenes tekster")

    concept = models.SlugField(
        _("begreb"),
        max_length=50,
        help_text=_(
            "Begrebets id i ordforrådet, f.eks. export, funding eller cyber. Et nyt id opretter "
            "et nyt begreb; giv det så en dansk og engelsk betegnelse."
        ),
    )
    word = models.CharField(
        _("ord"),
        max_length=100,
        help_text=_(
            "Ordets begyndelse, som virksomheder skriver det, f.eks. „sælge i udlandet“ eller "
            "„eksprot“. Et ord på fem bogstaver eller flere findes også inde i sammensatte ord; "
            "skriv ^ foran for kun at finde det i starten af et ord."
        ),
    )
    where = models.CharField(_("findes"), max_length=5, choices=Where.choices, default=Where.NEED)
    label_da = models.CharField(_("dansk betegnelse"), max_length=100, blank=True)
    label_en = models.CharField(_("engelsk betegnelse"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("ændret"), auto_now=True)

    class Meta:
        verbose_name = _("ord i behovsordforrådet")
        verbose_name_plural = _("behovsordforrådet")
        ordering = ("concept", "word")
        constraints = [
            models.UniqueConstraint(
                fields=["concept", "word", "where"], name="routing_vocabularyword_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.concept}: {self.word}"

    def clean(self) -> None:
        from routing.vocabulary import load_vocabulary_data, normalise

        errors: dict[str, StrOrPromise] = {}
        self.word = normalise(self.word or "")
        body = self.word.lstrip("^")
        if len(body) < 3 or not any(character.isalnum() for character in body):
            errors["word"] = _("Skriv mindst tre bogstaver eller cifre.")
        data = load_vocabulary_data()
        in_file = {str(entry["id"]): entry for entry in data["concepts"]}
        entry = in_file.get(self.concept)
        if entry is not None and "word" not in errors:
            lists = {"need": ("words", "need"), "words": ("words",), "offer": ("words", "offer")}
            existing = {
                str(word).lower() for key in lists[self.where] for word in entry.get(key, ())
            }
            if self.word in existing:
                errors["word"] = _("Ordet findes allerede for dette begreb.")
        if entry is None and self.concept:
            labelled = (
                VocabularyWord.objects.filter(concept=self.concept)
                .exclude(pk=self.pk)
                .exclude(label_da="")
                .exclude(label_en="")
                .exists()
            )
            if not labelled:
                message = _("Et nyt begreb skal have en betegnelse på dansk og engelsk.")
                if not self.label_da.strip():
                    errors["label_da"] = message
                if not self.label_en.strip():
                    errors["label_en"] = message
        if errors:
            raise ValidationError(errors)
