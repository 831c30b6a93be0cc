"""Governance and user influence: feedback, usage counts, growth agreements, alerts, snapshots."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Lower
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.querysets import (
    GrowthAgreementQuerySet,
    RegionScopedQuerySet,
    SavedSearchQuerySet,
)
from offers.hub_terms import HUB_TERM
from offers.models import Level

# The form accepts 1,000 characters; masking may lengthen a comment a little ("a@b.dk" becomes
# "[e-mail]"), so the database allows some room above the form's limit.
COMMENT_MAX_LENGTH = 1000
_COMMENT_STORED_MAX_LENGTH = 1500


class PageFeedback(models.Model):
    """One anonymous answer to "Fandt du det, du ledte efter?" on a public page.

    Only the day is kept, not the time: a timestamp could be matched with a web server's access log
    and so lead back to an IP address.
    """

    class Answer(models.TextChoices):
        YES = "yes", _("Ja")
        NO = "no", _("Nej")

    path = models.CharField(_("side"), max_length=300)
    answer = models.CharField(_("svar"), max_length=3, choices=Answer.choices)
    comment = models.TextField(_("kommentar"), blank=True)
    day = models.DateField(_("dag"), default=timezone.localdate)

    class Meta:
        verbose_name = _("tilbagemelding på en side")
        verbose_name_plural = _("tilbagemeldinger på sider")
        ordering = ["-day", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answer__in=["yes", "no"]), name="governance_pagefeedback_answer_valid"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("comment"), _COMMENT_STORED_MAX_LENGTH),
                name="governance_pagefeedback_comment_max_length",
            ),
        ]
        indexes = [
            # /analyse/feedback/: WHERE day BETWEEN %s AND %s GROUP BY path, and the CSV export.
            models.Index(fields=["day", "path"], name="governance_feedback_day_path"),
        ]

    def __str__(self) -> str:
        return f"{self.path} {self.day} {self.answer}"


class PageView(models.Model):
    """How many times a public page was shown on a day; counted on the server, nothing else kept."""

    path = models.CharField(_("side"), max_length=300)
    day = models.DateField(_("dag"))
    views = models.PositiveIntegerField(_("visninger"), default=0)

    class Meta:
        verbose_name = _("sidevisninger")
        verbose_name_plural = _("sidevisninger")
        ordering = ["-day", "-views"]
        constraints = [
            # Also the arbiter of the counting UPSERT: ON CONFLICT (path, day).
            models.UniqueConstraint(
                fields=["path", "day"], name="governance_pageview_unique_path_day"
            ),
        ]
        indexes = [
            # /analyse/brug/: WHERE day BETWEEN %s AND %s GROUP BY path ORDER BY SUM(views) DESC.
            models.Index(fields=["day"], name="governance_pageview_day"),
        ]

    def __str__(self) -> str:
        return f"{self.path} {self.day}: {self.views}"


class ZeroResultSearch(models.Model):
    """A search on /tilbud/ that found nothing, counted per normalised query text and day."""

    query = models.CharField(_("søgetekst"), max_length=200)
    day = models.DateField(_("dag"))
    searches = models.PositiveIntegerField(_("antal søgninger"), default=0)

    class Meta:
        verbose_name = _("søgning uden resultater")
        verbose_name_plural = _("søgninger uden resultater")
        ordering = ["-day", "-searches"]
        constraints = [
            # Also the arbiter of the counting UPSERT: ON CONFLICT (query, day).
            models.UniqueConstraint(
                fields=["query", "day"], name="governance_zeroresultsearch_unique_query_day"
            ),
        ]
        indexes = [
            # /analyse/brug/: WHERE day BETWEEN %s AND %s GROUP BY query ORDER BY SUM(searches).
            models.Index(fields=["day"], name="governance_zeroresult_day"),
        ]

    def __str__(self) -> str:
        return f"{self.query} {self.day}: {self.searches}"


class GrowthStrategy(models.Model):
    """A region's growth strategy (regional erhvervsudviklingsstrategi) for a period of years."""

    region = models.ForeignKey(
        "offers.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="growth_strategies",
    )
    title = models.CharField(_("titel"), max_length=200)
    summary = models.TextField(_("resumé"))
    url = models.URLField(_("link"), max_length=500, blank=True)
    period_start = models.PositiveSmallIntegerField(_("periode fra (år)"))
    period_end = models.PositiveSmallIntegerField(_("periode til (år)"))

    objects = RegionScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("vækststrategi")
        verbose_name_plural = _("vækststrategier")
        ordering = ["region", "-period_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="governance_growthstrategy_period_in_order",
                violation_error_message=_("Perioden kan ikke slutte, før den begynder."),
            ),
            models.UniqueConstraint(
                fields=["region", "period_start"],
                name="governance_growthstrategy_one_per_region_and_start",
                violation_error_message=_(
                    "Regionen har allerede en strategi, der begynder det år."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.period_start}–{self.period_end})"


class GrowthAgreement(models.Model):
    """An annual growth partnership agreement (vækstpartnerskabsaftale) between state and region."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Under forhandling")
        SIGNED = "signed", _("Indgået")
        CONCLUDED = "concluded", _("Afsluttet")

    PUBLIC_STATUSES = (Status.SIGNED, Status.CONCLUDED)

    region = models.ForeignKey(
        "offers.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="growth_agreements",
    )
    year = models.PositiveSmallIntegerField(_("år"))
    title = models.CharField(_("titel"), max_length=200)
    summary = models.TextField(_("resumé"), blank=True)
    strategy = models.ForeignKey(
        GrowthStrategy,
        verbose_name=_("vækststrategi"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agreements",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    signed_on = models.DateField(_("indgået den"), null=True, blank=True)

    objects = GrowthAgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("vækstpartnerskabsaftale")
        verbose_name_plural = _("vækstpartnerskabsaftaler")
        ordering = ["region", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year"],
                name="governance_growthagreement_one_per_region_and_year",
                violation_error_message=_("Regionen har allerede en aftale for det år."),
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(signed_on__isnull=False),
                name="governance_growthagreement_signed_has_date",
                violation_error_message=_("En indgået aftale skal have en dato."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})"

    @property
    def is_public(self) -> bool:
        return self.status in self.PUBLIC_STATUSES


class Commitment(models.Model):
    """One thing the parties promise in an agreement, and the offers that carry it out."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planlagt")
        IN_PROGRESS = "in_progress", _("I gang")
        COMPLETED = "completed", _("Gennemført")

    agreement = models.ForeignKey(
        GrowthAgreement,
        verbose_name=_("aftale"),
        on_delete=models.CASCADE,
        related_name="commitments",
    )
    text = models.TextField(_("tekst"))
    themes = models.ManyToManyField(
        "offers.Theme", verbose_name=_("temaer"), related_name="commitments", blank=True
    )
    responsible_organisations = models.ManyToManyField(
        "offers.Organisation",
        verbose_name=_("ansvarlige organisationer"),
        related_name="commitments",
        blank=True,
    )
    offers = models.ManyToManyField(
        "offers.Offer",
        verbose_name=_("tilbud, der udmønter initiativet"),
        related_name="commitments",
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    position = models.PositiveSmallIntegerField(_("rækkefølge"), default=0)

    class Meta:
        verbose_name = _("initiativ")
        verbose_name_plural = _("initiativer")
        ordering = ["agreement", "position", "id"]

    def __str__(self) -> str:
        return self.text[:80]


class GovernanceMail(models.TextChoices):
    """The e-mails governance sends through the CRM's outbox (templates in governance/email/)."""

    SAVED_SEARCH_CONFIRMATION = "saved_search_confirmation", _("Bekræftelse af gemt søgning")
    SAVED_SEARCH_DIGEST = "saved_search_digest", _("Ugentlig oversigt over en gemt søgning")
    QUARTERLY_REPORT = "quarterly_report", _("Kvartalsrapport")


def saved_search_mail_key(saved_search_id: int, what: str) -> str:
    """The outbox ``dedupe_key`` of a saved search's e-mail: "saved-search:<id>:<what>".

    One digest per search and week, one confirmation per request; and the prefix finds every
    e-mail of a search when its address is deleted.
    """
    return f"saved-search:{saved_search_id}:{what}"


class SavedSearch(models.Model):
    """A search from /tilbud/ that a company follows by e-mail (double opt-in).

    The e-mail address is personal data: an unconfirmed search is deleted when its link expires,
    and unsubscribing deletes the row.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Afventer bekræftelse")
        ACTIVE = "active", _("Aktiv")

    email = models.EmailField(_("e-mail"))
    # The search's own query string, normalised (sorted, empty values dropped), so the alert runs
    # exactly the search the company saw.
    query_string = models.CharField(_("søgning"), max_length=2000, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(_("bekræftet"), null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(_("bekræftelse sendt"), null=True, blank=True)

    objects = SavedSearchQuerySet.as_manager()

    class Meta:
        verbose_name = _("gemt søgning")
        verbose_name_plural = _("gemte søgninger")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "query_string",
                name="governance_savedsearch_unique_email_and_query",
                violation_error_message=_("Denne søgning er allerede gemt for denne e-mail."),
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(confirmed_at__isnull=False),
                name="governance_savedsearch_active_is_confirmed",
            ),
        ]
        indexes = [
            # The weekly digest: WHERE status = 'active'.
            models.Index(
                fields=["id"], condition=Q(status="active"), name="governance_savedsearch_active"
            ),
            # Clean-up of expired confirmations: WHERE status = 'pending' AND created_at < %s.
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="governance_savedsearch_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email}: ?{self.query_string}"


class DigestDelivery(models.Model):
    """One weekly digest of one saved search: which offers it carries and whether it went out."""

    saved_search = models.ForeignKey(
        SavedSearch,
        verbose_name=_("gemt søgning"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    week = models.CharField(_("uge"), max_length=8, help_text="2026-W48")
    window_start = models.DateTimeField(_("ændringer fra"))
    window_end = models.DateTimeField(_("ændringer til"))
    offer_ids = models.JSONField(_("tilbud"), default=list, blank=True)
    # The e-mail in the outbox (its dedupe_key makes it one per search and week); sent_at is
    # written when the outbox has sent it.
    notification = models.OneToOneField(
        "crm.Notification",
        verbose_name=_("e-mail"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sendt"), null=True, blank=True)

    class Meta:
        verbose_name = _("ugentlig oversigt")
        verbose_name_plural = _("ugentlige oversigter")
        ordering = ["-window_end"]
        constraints = [
            # One digest per search and week, however often the job runs or retries.
            models.UniqueConstraint(
                fields=["saved_search", "week"], name="governance_digestdelivery_once_per_week"
            ),
            models.CheckConstraint(
                condition=Q(window_end__gte=F("window_start")),
                name="governance_digestdelivery_window_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.saved_search_id} {self.week}"


class CatalogueSnapshot(models.Model):
    """The whole catalogue on the first day of a month: offers, operators and overlaps."""

    month = models.DateField(_("måned"), unique=True)
    offers = models.PositiveIntegerField(pgettext_lazy("antal", "tilbud"))
    operators = models.PositiveIntegerField(_("operatører"))
    overlaps = models.PositiveIntegerField(
        _("grupper af overlappende tilbud"),
        null=True,
        blank=True,
        help_text=_("Overlap i arbejdsdelingsrapporten; tom, hvis rapporten ikke kunne beregnes."),
    )
    offers_in_overlaps = models.PositiveIntegerField(_("tilbud med overlap"), null=True, blank=True)
    taken_at = models.DateTimeField(_("optaget"), default=timezone.now)

    class Meta:
        verbose_name = _("øjebliksbillede af kataloget")
        verbose_name_plural = _("øjebliksbilleder af kataloget")
        ordering = ["month"]
        constraints = [
            models.CheckConstraint(
                condition=Q(month__day=1), name="governance_cataloguesnapshot_month_starts_on_1st"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class ThemeSnapshot(models.Model):
    """Offers and distinct operators for one theme and level in a monthly snapshot."""

    snapshot = models.ForeignKey(
        CatalogueSnapshot,
        verbose_name=_("øjebliksbillede"),
        on_delete=models.CASCADE,
        related_name="themes",
    )
    theme = models.ForeignKey(
        "offers.Theme", verbose_name=_("tema"), on_delete=models.CASCADE, related_name="+"
    )
    level = models.CharField(_("niveau"), max_length=20, choices=Level.choices)
    offers = models.PositiveIntegerField(pgettext_lazy("antal", "tilbud"))
    operators = models.PositiveIntegerField(_("operatører"))

    class Meta:
        verbose_name = _("øjebliksbillede pr. tema og niveau")
        verbose_name_plural = _("øjebliksbilleder pr. tema og niveau")
        ordering = ["snapshot", "theme", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "theme", "level"],
                name="governance_themesnapshot_unique_theme_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot} {self.theme_id} {self.level}"


class QuarterlyReportQuerySet(models.QuerySet["QuarterlyReport"]):
    def visible_to(self, user: Any) -> QuarterlyReportQuerySet:
        """A user sees the reports of their own organisation (a hub its own, the ministry's
        users the national one); a superuser sees all."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self
        if not user.organisation_id:
            return self.none()
        return self.filter(organisation_id=user.organisation_id)


class QuarterlyReport(models.Model):
    """One quarter's report for a hub, an operator or the ministry, as it was sent
    (governance.quarterly; the figures are frozen: a later correction of a case does not change
    a report already sent)."""

    class Scope(models.TextChoices):
        # The hubs' generic name is data (settings.HUB_TERM); lazy, so it is read at use.
        HUB = "hub", lazy(lambda: HUB_TERM.one, str)()
        OPERATOR = "operator", _("Operatør")
        MINISTRY = "ministry", _("Ministeriet (hele landet)")

    year = models.PositiveSmallIntegerField(_("år"))
    quarter = models.PositiveSmallIntegerField(_("kvartal"))
    scope = models.CharField(_("omfang"), max_length=20, choices=Scope.choices)
    organisation = models.ForeignKey(
        "offers.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    min_count = models.PositiveSmallIntegerField(_("mindste viste antal"))
    created_at = models.DateTimeField(_("dannet"), default=timezone.now)
    xlsx = models.BinaryField(_("regneark (XLSX)"), editable=False)
    csv = models.TextField(_("CSV"), editable=False)

    objects = QuarterlyReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("kvartalsrapport")
        verbose_name_plural = _("kvartalsrapporter")
        ordering = ["-year", "-quarter", "scope"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "quarter", "scope", "organisation"],
                nulls_distinct=False,
                name="governance_quarterlyreport_one_per_scope",
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4),
                name="governance_quarterlyreport_quarter_1_to_4",
            ),
        ]
        indexes = [
            # The admin's list of one organisation's reports, newest first (visible_to).
            models.Index(
                fields=["organisation", "-year", "-quarter"], name="governance_qr_org_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}-Q{self.quarter} {self.get_scope_display()}"

    @property
    def label(self) -> str:
        return f"{self.year}-K{self.quarter}"
