"""Register panel, participations, effect runs and their published results."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from evaluation.estimators import IndicatorResult
from evaluation.querysets import (
    EffectEstimateQuerySet,
    EffectRollupQuerySet,
    EffectRunQuerySet,
    EffectSegmentQuerySet,
    ParticipationQuerySet,
)

#: The numbers of one estimate, named as in :class:`estimators.IndicatorResult`: stored in the
#: columns of the same names, and (but for the inner diagnostics) published by the API.
RESULT_FIELDS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(IndicatorResult))
PUBLISHED_RESULT_FIELDS: tuple[str, ...] = tuple(
    name for name in RESULT_FIELDS if name not in {"naive_std_error", "balance"}
)


class IndustryClassification(models.TextChoices):
    """Which Danish industry code a panel row's section belongs to (sections differ after J)."""

    DB07 = "db07", _("DB07 (NACE rev. 2)")
    DB25 = "db25", _("DB25 (NACE rev. 2.1)")


class Indicator(models.TextChoices):
    EMPLOYMENT = "employment", _("Beskæftigelse (fuldtidsansatte)")
    REVENUE = "revenue", _("Omsætning (kr.)")
    VALUE_ADDED = "value_added", _("Værditilvækst (kr.)")
    EXPORT = "export", _("Eksport (kr.)")
    PRODUCTIVITY = "productivity", _("Produktivitet (værditilvækst pr. fuldtidsansat, kr.)")


class PanelRow(models.Model):
    """One company in one year from the business register (all companies, not only CRM's)."""

    # (cvr, year) is the primary key and the only index: a surrogate id would add a second
    # index that doubles the time to load three million rows (20 s instead of 9 s). It serves
    # the import's ON CONFLICT (cvr, year) and every look-up by company.
    pk = models.CompositePrimaryKey("cvr", "year")
    # A plain number, not a foreign key: the register covers every company in Denmark, the CRM
    # only those that asked for help.
    cvr = models.IntegerField(_("CVR-nummer"))
    year = models.SmallIntegerField(_("år"))
    employees_fte = models.FloatField(_("fuldtidsansatte"))
    revenue_dkk = models.BigIntegerField(_("omsætning (kr.)"), null=True, blank=True)
    value_added_dkk = models.BigIntegerField(_("værditilvækst (kr.)"), null=True, blank=True)
    export_dkk = models.BigIntegerField(_("eksport (kr.)"), null=True, blank=True)
    industry = models.CharField(_("branchekode"), max_length=6)
    industry_section = models.CharField(_("branche (hovedafsnit)"), max_length=1)
    industry_classification = models.CharField(
        _("brancheklassifikation"), max_length=4, choices=IndustryClassification.choices
    )
    municipality = models.SmallIntegerField(_("kommunekode"), null=True, blank=True)

    class Meta:
        verbose_name = _("registerrække")
        verbose_name_plural = _("registerpanel")
        constraints = [
            models.CheckConstraint(
                condition=Q(cvr__gte=10_000_000, cvr__lte=99_999_999),
                name="evaluation_panelrow_cvr_eight_digits",
            ),
            models.CheckConstraint(
                condition=Q(employees_fte__gte=0), name="evaluation_panelrow_fte_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(revenue_dkk__isnull=True) | Q(revenue_dkk__gte=0),
                name="evaluation_panelrow_revenue_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(export_dkk__isnull=True) | Q(export_dkk__gte=0),
                name="evaluation_panelrow_export_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cvr} {self.year}"


class Participation(models.Model):
    """A company took part in an offer in a year (from an import or a completed CRM referral)."""

    class Source(models.TextChoices):
        IMPORT = "import", _("Import")
        CRM_REFERRAL = "crm_referral", _("Gennemført henvisning i CRM")

    cvr = models.IntegerField(_("CVR-nummer"))
    offer = models.ForeignKey(
        "offers.Offer",
        verbose_name=_("tilbud"),
        on_delete=models.CASCADE,
        related_name="participations",
    )
    year = models.SmallIntegerField(_("år"))
    source = models.CharField(
        _("kilde"), max_length=20, choices=Source.choices, default=Source.IMPORT
    )

    objects = ParticipationQuerySet.as_manager()

    class Meta:
        verbose_name = _("deltagelse")
        verbose_name_plural = _("deltagelser")
        constraints = [
            models.UniqueConstraint(
                fields=["cvr", "offer", "year"], name="evaluation_participation_unique_year"
            ),
        ]
        indexes = [
            # Which offers a run covers: SELECT DISTINCT offer_id ... and per-offer counts.
            models.Index(fields=["offer", "year"], name="evaluation_particip_offer_year"),
        ]

    def __str__(self) -> str:
        return f"{self.cvr} · {self.offer_id} · {self.year}"


class EffectRun(models.Model):
    """One computation of effects, over all offers with participants or over one offer."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Venter")
        RUNNING = "running", _("Kører")
        COMPLETED = "completed", _("Gennemført")
        FAILED = "failed", _("Fejlet")

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    parameters = models.JSONField(_("parametre"), default=dict)
    offer = models.ForeignKey(
        "offers.Offer",
        verbose_name=_("kun tilbud"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Tom betyder alle tilbud med deltagere."),
    )
    offers_total = models.PositiveIntegerField(_("tilbud i alt"), default=0)
    offers_done = models.PositiveIntegerField(_("tilbud færdige"), default=0)
    offers_failed = models.PositiveIntegerField(_("tilbud fejlet"), default=0)
    created_at = models.DateTimeField(_("oprettet"), auto_now_add=True)
    started_at = models.DateTimeField(_("startet"), null=True, blank=True)
    finished_at = models.DateTimeField(_("afsluttet"), null=True, blank=True)
    timings = models.JSONField(_("tidsforbrug (sekunder)"), default=dict, blank=True)
    error = models.TextField(_("fejl"), blank=True)

    objects = EffectRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("effektkørsel")
        verbose_name_plural = _("effektkørsler")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(offers_done__lte=models.F("offers_total") - models.F("offers_failed")),
                name="evaluation_effectrun_progress_within_total",
            ),
            # Runs publish per offer; two at once could publish an older result over a newer.
            models.UniqueConstraint(
                models.Value(True),
                condition=Q(status__in=["pending", "running"]),
                name="evaluation_effectrun_one_active",
            ),
        ]

    def __str__(self) -> str:
        return _("Kørsel %(id)s") % {"id": self.pk}

    @property
    def is_active(self) -> bool:
        return self.status in {self.Status.PENDING, self.Status.RUNNING}

    @property
    def offers_finished(self) -> int:
        return self.offers_done + self.offers_failed

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class EffectRunOffer(models.Model):
    """One offer's share of a run: the unit a task claims, so a re-delivered task is a no-op."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Venter")
        RUNNING = "running", _("Kører")
        DONE = "done", _("Færdig")
        FAILED = "failed", _("Fejlet")

    run = models.ForeignKey(
        EffectRun, verbose_name=_("kørsel"), on_delete=models.CASCADE, related_name="items"
    )
    offer = models.ForeignKey(
        "offers.Offer", verbose_name=_("tilbud"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("forsøg"), default=0)
    participants = models.PositiveIntegerField(_("deltagelser"), default=0)
    participants_with_panel = models.PositiveIntegerField(
        _("deltagelser med registerdata"), default=0
    )
    cohorts = models.JSONField(_("årgange"), default=list, blank=True)
    started_at = models.DateTimeField(_("startet"), null=True, blank=True)
    finished_at = models.DateTimeField(_("afsluttet"), null=True, blank=True)
    seconds = models.FloatField(_("sekunder"), null=True, blank=True)
    timings = models.JSONField(_("tidsforbrug (sekunder)"), default=dict, blank=True)
    reason = models.CharField(_("bemærkning"), max_length=300, blank=True)
    error = models.TextField(_("fejl"), blank=True)

    class Meta:
        verbose_name = _("tilbud i kørsel")
        verbose_name_plural = _("tilbud i kørsel")
        constraints = [
            models.UniqueConstraint(fields=["run", "offer"], name="evaluation_effectrunoffer_once"),
        ]
        indexes = [
            # Resuming a run: the offers of run N that are not done yet.
            models.Index(fields=["run", "status"], name="evaluation_runoffer_status"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} · {self.offer_id}"


class _Numbers(models.Model):
    """The numbers of one effect, shared by per-offer estimates and roll-ups."""

    indicator = models.CharField(_("indikator"), max_length=20, choices=Indicator.choices)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=[
            ("ok", _("Målt")),
            ("too_few", _("For få deltagere")),
            ("no_data", _("Ingen data")),
        ],
    )
    estimate = models.FloatField(_("effekt"), null=True, blank=True)
    std_error = models.FloatField(_("standardfejl"), null=True, blank=True)
    ci_low = models.FloatField(_("95 %-konfidensinterval, nedre"), null=True, blank=True)
    ci_high = models.FloatField(_("95 %-konfidensinterval, øvre"), null=True, blank=True)
    n_treated = models.PositiveIntegerField(_("deltagere i målingen"), default=0)
    n_control = models.PositiveIntegerField(_("kontrolvirksomheder"), default=0)
    n_unmatched = models.PositiveIntegerField(_("deltagere uden match"), default=0)
    naive_estimate = models.FloatField(_("simpel forskel"), null=True, blank=True)
    naive_std_error = models.FloatField(_("standardfejl, simpel forskel"), null=True, blank=True)
    n_cohorts = models.PositiveSmallIntegerField(_("årgange"), default=0)
    method = models.CharField(_("metode"), max_length=40)
    baseline_offset = models.SmallIntegerField(_("basisår i forhold til deltagelse"), default=-1)
    outcome_offset = models.SmallIntegerField(_("effektår i forhold til deltagelse"), default=2)
    extra = models.FloatField(_("samlet ekstra (effekt × deltagere)"), null=True, blank=True)
    extra_ci_low = models.FloatField(_("samlet ekstra, nedre"), null=True, blank=True)
    extra_ci_high = models.FloatField(_("samlet ekstra, øvre"), null=True, blank=True)
    balance = models.JSONField(_("balance (SMD før/efter)"), default=dict, blank=True)

    class Meta:
        abstract = True

    @property
    def is_measured(self) -> bool:
        return self.status == "ok"

    def result_fields(self) -> dict[str, Any]:
        """The stored numbers under the names of :class:`estimators.IndicatorResult`."""
        return {name: getattr(self, name) for name in RESULT_FIELDS}


class EffectEstimate(_Numbers):
    """An offer's effect on one indicator in one run: per cohort year, or pooled (year NULL)."""

    run = models.ForeignKey(
        EffectRun, verbose_name=_("kørsel"), on_delete=models.CASCADE, related_name="estimates"
    )
    offer = models.ForeignKey(
        "offers.Offer",
        verbose_name=_("tilbud"),
        on_delete=models.CASCADE,
        related_name="effect_estimates",
    )
    cohort_year = models.SmallIntegerField(
        _("deltagelsesår"), null=True, blank=True, help_text=_("Tom betyder alle årgange samlet.")
    )
    reason = models.CharField(_("bemærkning"), max_length=300, blank=True)

    objects = EffectEstimateQuerySet.as_manager()

    class Meta:
        verbose_name = _("effektestimat")
        verbose_name_plural = _("effektestimater")
        ordering = ["offer_id", "cohort_year", "indicator"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "offer", "indicator", "cohort_year"],
                nulls_distinct=False,
                name="evaluation_effectestimate_once_per_run",
            ),
        ]
        indexes = [
            # An offer's page and /api/effects/?offer=: the pooled rows of one offer.
            models.Index(
                fields=["offer", "indicator"],
                condition=Q(cohort_year__isnull=True),
                name="evaluation_estimate_pooled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} · {self.indicator} · {self.cohort_year or '*'}"


class EffectRollup(_Numbers):
    """Pooled offer effects combined per operator, level, theme or region."""

    class Dimension(models.TextChoices):
        OPERATOR = "operator", _("Operatør")
        LEVEL = "level", _("Niveau")
        THEME = "theme", _("Tema")
        REGION = "region", _("Region")

    run = models.ForeignKey(
        EffectRun, verbose_name=_("kørsel"), on_delete=models.CASCADE, related_name="rollups"
    )
    dimension = models.CharField(_("dimension"), max_length=10, choices=Dimension.choices)
    key = models.CharField(_("nøgle"), max_length=100)
    label = models.CharField(_("navn"), max_length=200)
    n_offers = models.PositiveIntegerField(pgettext_lazy("antal", "tilbud"), default=0)

    objects = EffectRollupQuerySet.as_manager()

    class Meta:
        verbose_name = _("samlet effekt")
        verbose_name_plural = _("samlede effekter")
        ordering = ["dimension", "label", "indicator"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "dimension", "key", "indicator"],
                name="evaluation_effectrollup_once_per_run",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dimension}:{self.key} · {self.indicator}"


class EffectSegment(_Numbers):
    """An offer's effect on one indicator for one segment (size band x industry section).

    The raw numbers are the segment's matched estimate pooled over the offer's published cohorts;
    ``shrunk_*`` is the estimate pulled toward the offer's overall figure (``evaluation.segments``,
    ``docs/effects.md``), the one shown. Only segments that may be shown are stored.
    """

    class SizeBand(models.IntegerChoices):
        MICRO = 0, _("under 10 ansatte")
        SMALL = 1, _("10–49 ansatte")
        MEDIUM = 2, _("50–249 ansatte")
        LARGE = 3, _("250 eller flere ansatte")

    run = models.ForeignKey(
        EffectRun, verbose_name=_("kørsel"), on_delete=models.CASCADE, related_name="segments"
    )
    offer = models.ForeignKey(
        "offers.Offer",
        verbose_name=_("tilbud"),
        on_delete=models.CASCADE,
        related_name="effect_segments",
    )
    size_band = models.PositiveSmallIntegerField(_("størrelse"), choices=SizeBand.choices)
    industry_section = models.CharField(_("branche (hovedafsnit)"), max_length=1)
    industry_classification = models.CharField(
        _("brancheklassifikation"),
        max_length=4,
        choices=IndustryClassification.choices,
        default=IndustryClassification.DB07,
    )
    shrunk_estimate = models.FloatField(_("effekt for segmentet (krympet)"))
    shrunk_std_error = models.FloatField(_("standardfejl (krympet)"))
    shrunk_ci_low = models.FloatField(_("95 %-interval, nedre (krympet)"))
    shrunk_ci_high = models.FloatField(_("95 %-interval, øvre (krympet)"))
    shrinkage = models.FloatField(
        _("krympning"), help_text=_("0: segmentets eget estimat; 1: tilbuddets samlede effekt.")
    )

    objects = EffectSegmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("effekt for segment")
        verbose_name_plural = _("effekter for segmenter")
        ordering = ["offer_id", "indicator", "size_band", "industry_section"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "run",
                    "offer",
                    "indicator",
                    "size_band",
                    "industry_classification",
                    "industry_section",
                ],
                name="evaluation_effectsegment_once_per_run",
            ),
            models.CheckConstraint(
                condition=Q(size_band__lte=3), name="evaluation_effectsegment_size_band"
            ),
            models.CheckConstraint(
                condition=Q(status="ok"), name="evaluation_effectsegment_only_shown"
            ),
        ]
        indexes = [
            # Matching: the segment of one company for the offers of its list.
            models.Index(
                fields=["indicator", "size_band", "industry_section", "offer"],
                name="evaluation_segment_lookup",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} · {self.indicator} · {self.size_band}{self.industry_section}"
