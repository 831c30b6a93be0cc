"""Effect runs: start, compute one offer, finish and publish, resume, cancel; CRM participations.

A run is a row per offer (:class:`EffectRunOffer`) that a task claims with a conditional UPDATE,
so a task delivered twice does the work once. Each offer's results are written in one transaction
that also counts the offer as finished; the transaction that finishes the last offer computes the
roll-ups and publishes the run. Results of a run that is still going or that failed are never
visible: visibility is "the run is completed", and publishing deletes the older results of the
same offers in that same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import selectors as crm_selectors
from evaluation import disclosure, estimators, segments
from evaluation.estimators import CohortData, IndicatorResult
from evaluation.exceptions import EvaluationError
from evaluation.models import (
    EffectEstimate,
    EffectRollup,
    EffectRun,
    EffectRunOffer,
    EffectSegment,
    Participation,
)
from evaluation.panel import PanelCache, clear_panel_cache, panel_cache, subset
from evaluation.segments import SegmentKey, segment_key
from offers.models import Offer

logger = logging.getLogger(__name__)

RUN_ACTIVE = (EffectRun.Status.PENDING, EffectRun.Status.RUNNING)


# --- participations from the CRM --------------------------------------------------------------


def participations_sync_crm() -> int:
    """Mirror completed CRM referrals to offers as participations (source ``crm_referral``).

    Returns the number of CRM participations after the sync. A referral that is no longer
    completed loses its participation; an imported row for the same company, offer and year is
    never touched.
    """
    referrals = crm_selectors.completed_offer_referrals()
    offer_ids = dict(Offer.objects.values_list("external_id", "id"))
    wanted: set[tuple[int, int, int]] = set()
    for cvr, external_id, year in referrals:
        offer_id = offer_ids.get(external_id)
        digits = str(cvr).strip()
        if offer_id is None or len(digits) != 8 or not digits.isdigit():
            continue
        wanted.add((int(digits), offer_id, int(year)))
    with transaction.atomic():
        existing = {
            (row.cvr, row.offer_id, row.year): row.pk
            for row in Participation.objects.filter(source=Participation.Source.CRM_REFERRAL)
        }
        gone = [pk for key, pk in existing.items() if key not in wanted]
        # In slices: PostgreSQL binds at most 65,535 parameters in one statement.
        for start in range(0, len(gone), 10_000):
            Participation.objects.filter(pk__in=gone[start : start + 10_000]).delete()
        Participation.objects.bulk_create(
            [
                Participation(
                    cvr=cvr, offer_id=offer_id, year=year, source=Participation.Source.CRM_REFERRAL
                )
                for cvr, offer_id, year in sorted(wanted - existing.keys())
            ],
            # An imported row for the same key already counts; it stays an import.
            ignore_conflicts=True,
        )
    return len(wanted)


# --- starting a run ---------------------------------------------------------------------------


def effects_start(
    *,
    offer: Offer | None = None,
    neighbours: int = estimators.DEFAULT_NEIGHBOURS,
    min_treated: int | None = None,
    years: Sequence[int] | None = None,
) -> EffectRun:
    """Create a run over one offer, or over every offer with participants, and its work items.

    The caller enqueues or runs the items (:func:`effects_compute`). Only one run may be active
    at a time, so two runs can never publish over each other.
    """
    if neighbours < 1:
        raise EvaluationError(_("Antallet af naboer skal være mindst 1."))
    min_treated = settings.EFFECT_MIN_TREATED if min_treated is None else min_treated
    if min_treated < 2:
        raise EvaluationError(_("Mindste antal deltagere skal være mindst 2."))
    if min_treated < settings.EFFECT_MIN_TREATED:
        # A completed run is published; a lower threshold would publish groups below it.
        raise EvaluationError(
            _(
                "Mindste antal deltagere kan ikke være under grænsen for offentliggørelse "
                "(%(minimum)s)."
            )
            % {"minimum": settings.EFFECT_MIN_TREATED}
        )
    participations = participations_sync_crm()
    if offer is not None:
        offer_ids = [offer.pk]
    else:
        offer_ids = list(
            Participation.objects.order_by("offer_id").values_list("offer_id", flat=True).distinct()
        )
    parameters = {
        "neighbours": neighbours,
        "min_treated": min_treated,
        "years": sorted(set(years)) if years else None,
        "bias_adjustment": True,
        "offer": offer.external_id if offer is not None else None,
        "crm_participations": participations,
    }
    try:
        # The run and its items together: a run without its items could never finish.
        with transaction.atomic():
            run = EffectRun.objects.create(
                parameters=parameters, offer=offer, offers_total=len(offer_ids)
            )
            EffectRunOffer.objects.bulk_create(
                [EffectRunOffer(run=run, offer_id=offer_id) for offer_id in offer_ids]
            )
    except IntegrityError:
        active = EffectRun.objects.active().first()
        raise EvaluationError(
            _(
                "Kørsel %(id)s er stadig i gang. Vent på den, genoptag den med "
                "“compute_effects --resume %(id)s”, eller annullér den med "
                "“compute_effects --cancel %(id)s”."
            )
            % {"id": active.pk if active else "?"}
        ) from None
    if not offer_ids:
        with transaction.atomic():
            locked = EffectRun.objects.select_for_update().get(pk=run.pk)
            locked.started_at = timezone.now()
            _finish(locked)
        run.refresh_from_db()
    return run


def effects_enqueue(*, run: EffectRun, only_unfinished: bool = False) -> int:
    """Send one task per offer of the run (after commit); returns how many were sent."""
    from evaluation.tasks import effects_compute_offer

    items = EffectRunOffer.objects.filter(run=run)
    if only_unfinished:
        items = items.filter(
            status__in=[EffectRunOffer.Status.PENDING, EffectRunOffer.Status.RUNNING]
        )
    offer_ids = list(items.order_by("offer_id").values_list("offer_id", flat=True))
    for offer_id in offer_ids:
        effects_compute_offer.delay_on_commit(run.pk, offer_id)
    return len(offer_ids)


def effects_run_sync(*, run: EffectRun) -> EffectRun:
    """Compute every unfinished offer of the run in this process, one after another."""
    items = EffectRunOffer.objects.filter(
        run=run, status__in=[EffectRunOffer.Status.PENDING, EffectRunOffer.Status.RUNNING]
    )
    for offer_id in list(items.order_by("offer_id").values_list("offer_id", flat=True)):
        effects_compute_offer(run_id=run.pk, offer_id=offer_id)
    run.refresh_from_db()
    return run


def effects_resume(*, run: EffectRun, sync: bool = False) -> int:
    """Send (or compute) again the offers of an active run that are not done.

    For a run whose worker died or whose queue lost messages. An offer that is in fact still
    being computed is harmless to send again: whichever task finishes second finds it done.
    """
    if not run.is_active:
        raise EvaluationError(
            _("Kørsel %(id)s er ikke i gang (status: %(status)s).")
            % {"id": run.pk, "status": run.get_status_display()}
        )
    if sync:
        pending = (
            EffectRunOffer.objects.filter(run=run)
            .exclude(status__in=[EffectRunOffer.Status.DONE, EffectRunOffer.Status.FAILED])
            .count()
        )
        effects_run_sync(run=run)
        return pending
    with transaction.atomic():
        return effects_enqueue(run=run, only_unfinished=True)


def effects_sweep_stale(*, now: dt.datetime) -> tuple[int, int]:
    """Send again, or fail, the offers of active runs that nobody is finishing.

    A worker killed mid-offer leaves its offer ``running``; a message the broker lost (the Redis
    transport pops before it records the message as unacked) leaves it ``pending``; a task whose
    retries ran out after a database error leaves it ``running``. None of them would ever end,
    and the one-active-run rule would then block every later run. An offer claimed or handed out
    more than ``EFFECT_STALE_MINUTES`` ago is sent again (a second delivery is harmless: the
    claim is idempotent), and one that has been claimed ``EFFECT_MAX_ATTEMPTS`` times fails, so
    the run finishes, or fails visibly, without a person. Returns (sent again, failed).
    """
    cutoff = now - dt.timedelta(minutes=settings.EFFECT_STALE_MINUTES)
    stale = EffectRunOffer.objects.filter(
        run__status__in=RUN_ACTIVE,
        status__in=[EffectRunOffer.Status.PENDING, EffectRunOffer.Status.RUNNING],
    ).filter(
        Q(started_at__lt=cutoff) | Q(started_at__isnull=True, run__created_at__lt=cutoff),
    )
    resend: list[tuple[int, int]] = []
    failed = 0
    for item_id, run_id, offer_id, attempts in stale.values_list(
        "pk", "run_id", "offer_id", "attempts"
    ):
        if attempts >= settings.EFFECT_MAX_ATTEMPTS:
            if _fail_stale(run_id, offer_id, attempts):
                failed += 1
            continue
        # Handed out now: the next sweep leaves it alone until it is stale again.
        handed_out = EffectRunOffer.objects.filter(
            Q(started_at__lt=cutoff) | Q(started_at__isnull=True), pk=item_id
        ).update(started_at=now)
        if handed_out:
            resend.append((run_id, offer_id))
    if resend:
        from evaluation.tasks import effects_compute_offer

        for run_id, offer_id in resend:
            effects_compute_offer.delay_on_commit(run_id, offer_id)
    return len(resend), failed


def _fail_stale(run_id: int, offer_id: int, attempts: int) -> bool:
    with transaction.atomic():
        item = EffectRunOffer.objects.select_for_update().get(run_id=run_id, offer_id=offer_id)
        if item.status not in (EffectRunOffer.Status.PENDING, EffectRunOffer.Status.RUNNING):
            return False
        run = EffectRun.objects.select_for_update().get(pk=run_id)
        if not run.is_active:
            return False
        item.status = EffectRunOffer.Status.FAILED
        item.finished_at = timezone.now()
        item.error = _(
            "Ingen arbejdsproces gjorde tilbuddet færdigt efter %(attempts)s forsøg."
        ) % {"attempts": attempts}
        item.save(update_fields=["status", "finished_at", "error"])
        run.offers_failed += 1
        run.save(update_fields=["offers_failed"])
        if run.offers_finished == run.offers_total:
            _finish(run)
    return True


def effects_cancel(*, run: EffectRun) -> EffectRun:
    """Stop an active run: it fails, nothing of it is published, and a new run may start."""
    with transaction.atomic():
        locked = EffectRun.objects.select_for_update().get(pk=run.pk)
        if not locked.is_active:
            raise EvaluationError(_("Kørsel %(id)s er ikke i gang.") % {"id": run.pk})
        locked.status = EffectRun.Status.FAILED
        locked.finished_at = timezone.now()
        locked.error = _("Annulleret.")
        locked.save(update_fields=["status", "finished_at", "error"])
    return locked


# --- one offer --------------------------------------------------------------------------------


def effects_compute_offer(*, run_id: int, offer_id: int) -> bool:
    """Compute and store one offer's effects in a run; False if there was nothing to do.

    Idempotent: the claim is an UPDATE that only matches an offer that is not finished in a run
    that is still active, and the write re-checks that under a row lock.
    """
    now = timezone.now()
    claimed = EffectRunOffer.objects.filter(
        run_id=run_id,
        offer_id=offer_id,
        status__in=[EffectRunOffer.Status.PENDING, EffectRunOffer.Status.RUNNING],
        run__status__in=RUN_ACTIVE,
    ).update(status=EffectRunOffer.Status.RUNNING, attempts=F("attempts") + 1, started_at=now)
    if not claimed:
        _release_panel_when_nothing_is_left(run_id)
        return False
    EffectRun.objects.filter(pk=run_id, status=EffectRun.Status.PENDING).update(
        status=EffectRun.Status.RUNNING, started_at=now
    )
    run = EffectRun.objects.get(pk=run_id)
    started = time.perf_counter()
    try:
        outcome = _estimate_offer(run, offer_id)
    except Exception as exc:
        if _is_transient(exc):
            raise  # the task retries; the claim stays and is taken again
        logger.exception("effect run %s failed for offer %s", run_id, offer_id)
        _record_failure(run_id, offer_id, exc, time.perf_counter() - started)
        _release_panel_when_nothing_is_left(run_id)
        return True
    _record_success(run_id, offer_id, outcome, time.perf_counter() - started)
    _release_panel_when_nothing_is_left(run_id)
    return True


def _release_panel_when_nothing_is_left(run_id: int) -> None:
    """Free this process's copy of the panel once the run has no offer left to claim.

    At national scale the copy takes several hundred MB per worker process; kept, it would sit
    idle until next week's run. Offers still running belong to other processes, and a retried
    offer simply reads the panel again.
    """
    pending = EffectRunOffer.objects.filter(run_id=run_id, status=EffectRunOffer.Status.PENDING)
    if not pending.exists():
        clear_panel_cache()


def _is_transient(exc: Exception) -> bool:
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError))


class _Outcome:
    """What one offer's computation produced, ready to be written."""

    def __init__(self) -> None:
        self.estimates: list[EffectEstimate] = []
        self.segments: list[EffectSegment] = []
        self.participants = 0
        self.with_panel = 0
        self.cohorts: list[dict[str, Any]] = []
        self.reason = ""
        self.timings: dict[str, float] = {}


def _estimate_offer(run: EffectRun, offer_id: int) -> _Outcome:
    parameters = run.parameters
    neighbours = int(parameters.get("neighbours", estimators.DEFAULT_NEIGHBOURS))
    min_treated = _threshold(parameters)
    wanted_years = parameters.get("years")
    cache = panel_cache((run.pk, run.created_at.isoformat()))
    outcome = _Outcome()
    outcome.timings["panel_load"] = cache.load_seconds
    started = time.perf_counter()

    cvr, year = cache.participations.of_offer(offer_id)
    outcome.participants = len(cvr)
    measurable = cache.measurable_years
    if wanted_years:
        measurable = measurable & frozenset(wanted_years)
    # Per indicator, each cohort's result without a threshold: the disclosure rule decides
    # which cells are published and pools only those (evaluation/disclosure.py).
    per_indicator: dict[str, dict[int, IndicatorResult]] = defaultdict(dict)
    # The same per segment (size band x industry): indicator -> segment -> cohort year -> result.
    per_segment: dict[str, dict[SegmentKey, dict[int, IndicatorResult]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for t in sorted(set(year.tolist()) & measurable):
        treated_cvr = np.unique(cvr[year == t])
        frame = cache.frame(t)
        positions = frame.positions(treated_cvr)
        outcome.with_panel += len(positions)
        cohort = {"year": t, "participants": len(treated_cvr), "with_panel": len(positions)}
        outcome.cohorts.append(cohort)
        if len(positions) == 0:
            continue
        data = CohortData(treated=subset(frame.units, positions), control=cache.control(t))
        cohort["controls"] = len(data.control)
        results = estimators.estimate_cohort(data, neighbours=neighbours, min_treated=2)
        for indicator, result in results.items():
            per_indicator[indicator][t] = result
        for key, by_indicator in segment_cells(cache, t, data.treated, neighbours).items():
            for indicator, result in by_indicator.items():
                per_segment[indicator][key][t] = result

    outcome.reason = _no_data_reason(outcome, year, measurable, cache)
    for indicator in estimators.INDICATORS:
        cells, pooled = disclosure.publish_offer(per_indicator[indicator], min_treated=min_treated)
        for t, cell in sorted(cells.items()):
            outcome.estimates.append(_estimate_row(run, offer_id, t, cell, ""))
        if pooled is None:
            pooled = IndicatorResult(indicator=indicator, status="no_data", n_cohorts=0)
        reason = outcome.reason or _result_reason(pooled, min_treated)
        outcome.estimates.append(_estimate_row(run, offer_id, None, pooled, reason))
        outcome.segments.extend(
            _segment_rows(run, offer_id, per_segment[indicator], cells, pooled, min_treated)
        )
    outcome.timings["estimate"] = time.perf_counter() - started
    return outcome


def segment_cells(
    cache: PanelCache, year: int, treated: estimators.UnitData, neighbours: int
) -> dict[SegmentKey, dict[str, IndicatorResult]]:
    """One cohort's treated split by segment, each matched against its segment's controls."""
    cells: dict[SegmentKey, dict[str, IndicatorResult]] = {}
    keys = treated.size_class * 64 + treated.industry.astype(np.int64)
    for key in np.unique(keys).tolist():
        size, industry = divmod(int(key), 64)
        control = cache.control_cell(year, size, industry)
        if len(control) == 0:
            continue
        data = CohortData(treated=subset(treated, keys == key), control=control)
        cells[segment_key(size, industry)] = estimators.estimate_cohort(
            data, neighbours=neighbours, min_treated=2
        )
    return cells


def _segment_rows(
    run: EffectRun,
    offer_id: int,
    by_segment: dict[SegmentKey, dict[int, IndicatorResult]],
    cohort_cells: dict[int, IndicatorResult],
    overall: IndicatorResult,
    min_treated: int,
) -> list[EffectSegment]:
    """The segments of one indicator that may be shown, shrunk toward the offer's figure."""
    rows = []
    shown = segments.offer_segments(
        by_segment, cohort_cells=cohort_cells, overall=overall, min_treated=min_treated
    )
    for key, (result, value) in shown.items():
        classification, section = segments.industry_of_code(key[1])
        rows.append(
            EffectSegment(
                run=run,
                offer_id=offer_id,
                size_band=key[0],
                industry_section=section,
                industry_classification=classification,
                shrunk_estimate=value.estimate,
                shrunk_std_error=value.std_error,
                shrunk_ci_low=value.ci_low,
                shrunk_ci_high=value.ci_high,
                shrinkage=value.shrinkage,
                **asdict(result),
            )
        )
    return rows


def _threshold(parameters: dict[str, Any]) -> int:
    """The run's threshold, never below the disclosure threshold of the settings."""
    return max(int(parameters.get("min_treated", 0)), settings.EFFECT_MIN_TREATED)


def _no_data_reason(
    outcome: _Outcome, years: np.ndarray, measurable: frozenset[int], cache: PanelCache
) -> str:
    if outcome.participants == 0:
        return _("Der er ingen registrerede deltagere i tilbuddet.")
    if not outcome.cohorts:
        found = ", ".join(str(y) for y in sorted(set(years.tolist())))
        if not cache.panel.years:
            return _("Der er ingen registerdata at måle på.")
        return _(
            "Deltagelserne (%(years)s) ligger i år, hvor registeret ikke har både to år før "
            "og to år efter deltagelsen."
        ) % {"years": found}
    if outcome.with_panel == 0:
        return _(
            "Ingen af deltagerne findes i registeret i både året to år før, året før og to år "
            "efter deltagelsen."
        )
    return ""


def _result_reason(result: IndicatorResult, min_treated: int) -> str:
    if result.status == "too_few":
        # Never the count itself: it is below the threshold (evaluation/disclosure.py).
        return _(
            "For få deltagere til at måle: intet deltagelsesår havde mindst %(minimum)s "
            "deltagere og %(minimum)s sammenligningsvirksomheder."
        ) % {"minimum": min_treated}
    if result.status == "no_data":
        return _("Ingen sammenlignelige virksomheder med tal for denne indikator.")
    return ""


def _estimate_row(
    run: EffectRun, offer_id: int, cohort_year: int | None, result: IndicatorResult, reason: str
) -> EffectEstimate:
    fields = asdict(result)
    return EffectEstimate(
        run=run, offer_id=offer_id, cohort_year=cohort_year, reason=reason[:300], **fields
    )


def _record_success(run_id: int, offer_id: int, outcome: _Outcome, seconds: float) -> None:
    with transaction.atomic():
        item = EffectRunOffer.objects.select_for_update().get(run_id=run_id, offer_id=offer_id)
        if item.status != EffectRunOffer.Status.RUNNING:
            return  # another delivery of the same task finished it first
        run = EffectRun.objects.select_for_update().get(pk=run_id)
        if not run.is_active:
            return  # cancelled meanwhile
        EffectEstimate.objects.filter(run_id=run_id, offer_id=offer_id).delete()
        EffectEstimate.objects.bulk_create(outcome.estimates)
        EffectSegment.objects.filter(run_id=run_id, offer_id=offer_id).delete()
        EffectSegment.objects.bulk_create(outcome.segments)
        item.status = EffectRunOffer.Status.DONE
        item.finished_at = timezone.now()
        item.seconds = seconds
        item.participants = outcome.participants
        item.participants_with_panel = outcome.with_panel
        item.cohorts = outcome.cohorts
        item.reason = outcome.reason[:300]
        item.timings = outcome.timings
        item.error = ""
        item.save()
        run.offers_done += 1
        run.save(update_fields=["offers_done"])
        if run.offers_finished == run.offers_total:
            _finish(run)


def _record_failure(run_id: int, offer_id: int, exc: Exception, seconds: float) -> None:
    with transaction.atomic():
        item = EffectRunOffer.objects.select_for_update().get(run_id=run_id, offer_id=offer_id)
        if item.status != EffectRunOffer.Status.RUNNING:
            return
        run = EffectRun.objects.select_for_update().get(pk=run_id)
        if not run.is_active:
            return
        item.status = EffectRunOffer.Status.FAILED
        item.finished_at = timezone.now()
        item.seconds = seconds
        item.error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        item.save()
        run.offers_failed += 1
        run.save(update_fields=["offers_failed"])
        if run.offers_finished == run.offers_total:
            _finish(run)


# --- finishing and publishing -----------------------------------------------------------------


def _finish(run: EffectRun) -> None:
    """Close a run whose offers are all finished; the caller holds the run's row lock."""
    run.finished_at = timezone.now()
    items = EffectRunOffer.objects.filter(run=run)
    timings = {
        "panel_load_max": 0.0,
        "estimate_total": 0.0,
        "offer_seconds_total": 0.0,
    }
    for item_timings, seconds in items.values_list("timings", "seconds"):
        timings["panel_load_max"] = max(
            timings["panel_load_max"], item_timings.get("panel_load", 0.0)
        )
        timings["estimate_total"] += item_timings.get("estimate", 0.0)
        timings["offer_seconds_total"] += seconds or 0.0
    if run.offers_failed:
        failed = list(
            items.filter(status=EffectRunOffer.Status.FAILED)
            .select_related("offer")
            .values_list("offer__external_id", flat=True)[:10]
        )
        run.status = EffectRun.Status.FAILED
        run.error = _(
            "%(count)s tilbud fejlede (%(offers)s); intet fra kørslen er offentliggjort, og de "
            "tidligere resultater vises stadig."
        ) % {"count": run.offers_failed, "offers": ", ".join(failed)}
        run.timings = timings
        run.save(update_fields=["status", "finished_at", "error", "timings"])
        return
    started = time.perf_counter()
    # Older results of the offers this run covers, and anything left by failed runs, go now,
    # in the same transaction that makes this run's results visible.
    EffectEstimate.objects.exclude(run=run).filter(
        Q(offer_id__in=items.values("offer_id")) | Q(run__status=EffectRun.Status.FAILED)
    ).delete()
    EffectSegment.objects.exclude(run=run).filter(
        Q(offer_id__in=items.values("offer_id")) | Q(run__status=EffectRun.Status.FAILED)
    ).delete()
    run.status = EffectRun.Status.COMPLETED
    run.save(update_fields=["status", "finished_at"])
    _publish_rollups(run)
    timings["rollups"] = time.perf_counter() - started
    if run.started_at is not None:
        timings["wall"] = (run.finished_at - run.started_at).total_seconds()
    run.timings = timings
    run.save(update_fields=["timings"])


def _publish_rollups(run: EffectRun) -> None:
    """Roll every published pooled offer result up per operator, level, theme and region."""
    min_treated = _threshold(run.parameters)
    pooled = list(
        EffectEstimate.objects.published()
        .pooled()
        # Roll-ups are public; a draft offer's numbers must not show through a group of one.
        .filter(offer__status__in=[Offer.Status.PUBLISHED, Offer.Status.ARCHIVED])
        .select_related("offer__operator__region", "offer__operator__municipality__region")
        .prefetch_related("offer__themes")
    )
    groups: dict[tuple[str, str], dict[str, Any]] = {}

    def add(dimension: str, key: str, label: str, estimate: EffectEstimate) -> None:
        group = groups.setdefault((dimension, key), {"label": label, "results": defaultdict(list)})
        group["results"][estimate.indicator].append(estimate)

    for estimate in pooled:
        offer = estimate.offer
        operator = offer.operator
        add(EffectRollup.Dimension.OPERATOR, operator.slug, operator.name, estimate)
        add(EffectRollup.Dimension.LEVEL, offer.level, str(offer.get_level_display()), estimate)
        for theme in offer.themes.all():
            add(EffectRollup.Dimension.THEME, theme.slug, theme.name, estimate)
        region = operator.region or (
            operator.municipality.region if operator.municipality is not None else None
        )
        if region is not None:
            add(EffectRollup.Dimension.REGION, str(region.code), region.name, estimate)

    rows = []
    for (dimension, key), group in groups.items():
        for estimates in group["results"].values():
            results = [IndicatorResult(**e.result_fields()) for e in estimates]
            # Only publishable offers enter a roll-up, so no offer below the threshold can be
            # recovered by differencing roll-ups with and without it.
            combined = disclosure.combine(results, min_treated=min_treated)
            rows.append(
                EffectRollup(
                    run=run,
                    dimension=dimension,
                    key=key,
                    label=group["label"][:200],
                    n_offers=sum(
                        1 for r in results if disclosure.is_publishable(r, min_treated=min_treated)
                    ),
                    **asdict(combined),
                )
            )
    EffectRollup.objects.all().delete()
    EffectRollup.objects.bulk_create(rows)


# --- the whole thing --------------------------------------------------------------------------


def effects_compute(
    *,
    offer: Offer | None = None,
    sync: bool = False,
    neighbours: int = estimators.DEFAULT_NEIGHBOURS,
    min_treated: int | None = None,
    years: Sequence[int] | None = None,
) -> EffectRun:
    """Start a run and either fan it out to the workers or compute it here and now."""
    run = effects_start(offer=offer, neighbours=neighbours, min_treated=min_treated, years=years)
    if not run.is_active:
        return run
    if sync:
        return effects_run_sync(run=run)
    with transaction.atomic():
        effects_enqueue(run=run)
    return run
