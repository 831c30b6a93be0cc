"""Effect runs: the numbers, atomic publication, idempotent tasks, resuming, no-data offers."""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from evaluation import estimators, panel, services
from evaluation.exceptions import EvaluationError
from evaluation.models import (
    EffectEstimate,
    EffectRollup,
    EffectRun,
    EffectRunOffer,
    Participation,
)
from evaluation.tasks import effects_compute_offer
from tests.evaluation.factories import make_participation
from tests.offers.factories import make_offer

YEARS = [2018, 2019, 2020]  # measurable in a 2016-2022 panel (t-2 and t+2 inside)


def pooled(offer, indicator="employment", *, published=True):
    rows = EffectEstimate.objects.pooled().filter(offer=offer, indicator=indicator)
    if published:
        rows = rows.published()
    return rows.get()


@pytest.fixture
def offers(db):
    return {
        "growth": make_offer(
            external_id="vaekst-forloeb",
            themes=["growth"],
            level="region",
            owner="region-midtjylland",
            operator="vaeksthus-midtjylland",
        ),
        "export": make_offer(external_id="eksport-start", themes=["export"]),
    }


@pytest.mark.django_db
class TestTheNumbers:
    def test_a_sync_run_recovers_an_injected_effect_and_a_zero_effect(self, offers, build_register):
        # Strong selection on size and recent growth, which persists: the naive comparison
        # is biased, the matched one should not be.
        build_register(
            {
                offers["growth"]: {
                    "effect": 2.0,
                    "revenue": 1_500_000,
                    "per_year": 100,
                    "years": YEARS,
                    "selection": 2.0,
                },
                offers["export"]: {
                    "effect": 0.0,
                    "per_year": 100,
                    "years": YEARS,
                    "selection": 2.0,
                },
            },
            companies=6_000,
        )

        run = services.effects_compute(sync=True)

        assert run.status == EffectRun.Status.COMPLETED
        growth = pooled(offers["growth"])
        # Units: +2 FTE comes back as about 2, not 0.02 or 200, inside its interval.
        assert growth.status == "ok"
        assert growth.ci_low < 2.0 < growth.ci_high
        assert 1.0 < growth.estimate < 3.0
        assert growth.n_treated >= 250 and growth.n_control > growth.n_treated
        assert growth.n_cohorts == 3
        assert growth.extra == pytest.approx(growth.estimate * growth.n_treated)
        assert (growth.baseline_offset, growth.outcome_offset) == (-1, 2)
        assert set(growth.balance) == set(estimators.COVARIATES)
        revenue = pooled(offers["growth"], "revenue")
        assert revenue.ci_low < 1_500_000 < revenue.ci_high
        # The naive comparison credits the offers with growth that came anyway.
        assert growth.naive_estimate > growth.ci_high
        zero = pooled(offers["export"])
        assert zero.ci_low < 0.0 < zero.ci_high
        assert zero.naive_estimate > zero.ci_high
        # One row per offer, indicator and cohort, plus the pooled row.
        assert EffectEstimate.objects.filter(offer=offers["growth"]).count() == 5 * (3 + 1)

    def test_roll_ups_combine_offers_per_level_theme_operator_and_region(
        self, offers, build_register
    ):
        draft = make_offer(external_id="kladde", status="draft", themes=["knowledge"])
        build_register(
            {
                offers["growth"]: {"effect": 2.0, "per_year": 60, "years": YEARS},
                offers["export"]: {"effect": 1.0, "per_year": 60, "years": YEARS},
                draft: {"effect": 1.0, "per_year": 60, "years": YEARS},
            }
        )

        services.effects_compute(sync=True)

        rollups = {
            (r.dimension, r.key): r
            for r in EffectRollup.objects.published().filter(indicator="employment")
        }
        # The draft offer is measured but never shows, not even through its theme.
        assert set(rollups) == {
            ("level", "region"),
            ("level", "state"),
            ("theme", "growth"),
            ("theme", "export"),
            ("operator", "vaeksthus-midtjylland"),
            ("operator", "erhvervsstyrelsen"),
            ("region", "1082"),
        }
        growth, export = pooled(offers["growth"]), pooled(offers["export"])
        assert rollups[("theme", "growth")].estimate == pytest.approx(growth.estimate)
        assert rollups[("region", "1082")].label == "Region Midtjylland"
        level_state = rollups[("level", "state")]
        assert level_state.n_treated == export.n_treated
        assert level_state.extra == pytest.approx(export.extra)


@pytest.mark.django_db
class TestNoDataAndTooFew:
    def test_an_offer_without_participants_says_so_instead_of_failing(self, offers, build_register):
        build_register({offers["growth"]: {"effect": 1.0, "per_year": 30, "years": YEARS}})
        lonely = make_offer(external_id="ingen-deltagere")

        run = services.effects_compute(offer=lonely, sync=True)

        assert run.status == EffectRun.Status.COMPLETED
        result = pooled(lonely)
        assert result.status == "no_data"
        assert result.estimate is None
        assert result.reason == "Der er ingen registrerede deltagere i tilbuddet."

    def test_participants_outside_the_measurable_years_are_no_data_with_the_years(
        self, offers, build_register
    ):
        build_register({offers["growth"]: {"effect": 1.0, "per_year": 30, "years": [2021, 2022]}})

        services.effects_compute(offer=offers["growth"], sync=True)

        result = pooled(offers["growth"])
        assert result.status == "no_data"
        assert result.reason.startswith("Deltagelserne (2021, 2022) ligger i år, hvor registeret")

    def test_participants_missing_from_the_register_are_no_data(self, offers, build_register):
        build_register({})
        make_participation(cvr=13585628, offer=offers["export"], year=2019)

        services.effects_compute(sync=True)

        assert pooled(offers["export"]).reason.startswith("Ingen af deltagerne findes i registeret")

    def test_too_few_participants_give_no_number(self, offers, build_register):
        build_register({offers["growth"]: {"effect": 1.0, "per_year": 4, "years": YEARS}})

        services.effects_compute(sync=True)

        result = pooled(offers["growth"])
        assert result.status == "too_few"
        assert (result.estimate, result.ci_low, result.extra) == (None, None, None)
        # Neither the count (12) nor anything else of the group is stored as published.
        assert (result.n_treated, result.n_control, result.n_unmatched) == (0, 0, 0)
        minimum = settings.EFFECT_MIN_TREATED
        assert result.reason == (
            f"For få deltagere til at måle: intet deltagelsesår havde mindst {minimum} "
            f"deltagere og {minimum} sammenligningsvirksomheder."
        )
        # Cohorts are never shown below the threshold either, nor their counts.
        cohorts = EffectEstimate.objects.filter(offer=offers["growth"], cohort_year__isnull=False)
        assert cohorts.count() == 3 * len(estimators.INDICATORS)
        assert not cohorts.filter(estimate__isnull=False).exists()
        assert not cohorts.exclude(n_treated=0, n_control=0, n_unmatched=0).exists()


@pytest.fixture
def measured(offers, build_register):
    """Both offers measured once (run 1 published)."""
    build_register(
        {
            offers["growth"]: {"effect": 2.0, "per_year": 40, "years": YEARS},
            offers["export"]: {"effect": 0.5, "per_year": 40, "years": YEARS},
        }
    )
    first = services.effects_compute(sync=True)
    assert first.status == EffectRun.Status.COMPLETED
    return first


@pytest.mark.django_db
class TestPublication:
    def test_a_second_run_replaces_the_first_without_duplicates(self, offers, measured):
        second = services.effects_compute(sync=True)

        assert second.status == EffectRun.Status.COMPLETED
        assert not EffectEstimate.objects.filter(run=measured).exists()
        assert not EffectRollup.objects.filter(run=measured).exists()
        assert (
            EffectEstimate.objects.published()
            .pooled()
            .filter(offer=offers["growth"], indicator="employment")
            .get()
            .run
            == second
        )

    def test_a_run_for_one_offer_replaces_only_that_offer(self, offers, measured):
        second = services.effects_compute(offer=offers["export"], sync=True)

        assert pooled(offers["export"]).run == second
        assert pooled(offers["growth"]).run == measured
        # Roll-ups are recomputed over everything published.
        assert (
            EffectRollup.objects.published().filter(key="growth").get(indicator="employment").run
            == second
        )

    def test_results_of_a_run_in_progress_are_never_visible(self, offers, measured):
        before = pooled(offers["growth"]).estimate
        run = services.effects_start()
        services.effects_compute_offer(run_id=run.pk, offer_id=offers["growth"].pk)

        run.refresh_from_db()
        assert run.status == EffectRun.Status.RUNNING
        assert run.offers_done == 1
        assert pooled(offers["growth"]).run == measured
        assert pooled(offers["growth"]).estimate == before
        assert EffectEstimate.objects.filter(run=run, offer=offers["growth"]).exists()

    def test_a_failed_run_leaves_the_previous_results_visible(self, offers, measured, monkeypatch):
        real = estimators.estimate_cohort

        def broken(data, **kwargs):
            if len(data.treated) and data.treated.cvr[0] in set(
                Participation.objects.filter(offer=offers["export"]).values_list("cvr", flat=True)
            ):
                raise RuntimeError("a numerical problem")
            return real(data, **kwargs)

        monkeypatch.setattr(estimators, "estimate_cohort", broken)

        run = services.effects_compute(sync=True)

        assert run.status == EffectRun.Status.FAILED
        assert "1 tilbud fejlede (eksport-start)" in run.error
        failed = EffectRunOffer.objects.get(run=run, offer=offers["export"])
        assert failed.status == EffectRunOffer.Status.FAILED
        assert "a numerical problem" in failed.error
        assert pooled(offers["growth"]).run == measured
        assert pooled(offers["export"]).run == measured
        assert EffectRollup.objects.published().filter(run=measured).exists()

    def test_only_one_run_may_be_active(self, offers, measured):
        services.effects_start()

        with pytest.raises(EvaluationError, match="er stadig i gang"):
            services.effects_start()

    def test_a_cancelled_run_publishes_nothing_and_frees_the_way(self, offers, measured):
        run = services.effects_start()
        services.effects_compute_offer(run_id=run.pk, offer_id=offers["growth"].pk)

        services.effects_cancel(run=run)

        assert services.effects_compute_offer(run_id=run.pk, offer_id=offers["export"].pk) is False
        assert pooled(offers["growth"]).run == measured
        assert services.effects_start().is_active


@pytest.mark.django_db
def compute_and_expect_all_done(run, sent: list[tuple[int, int]]) -> None:
    """The worker computes every sent offer; the run then ends with its three offers done."""
    for run_id, offer_id in sent:
        effects_compute_offer(run_id, offer_id)
    run.refresh_from_db()
    assert run.status == EffectRun.Status.COMPLETED
    assert (run.offers_done, run.offers_failed) == (3, 0)


class TestTasks:
    def test_a_redelivered_task_for_a_finished_offer_does_nothing(self, offers, measured):
        run = services.effects_start()
        assert effects_compute_offer(run.pk, offers["growth"].pk) is True
        written = list(EffectEstimate.objects.filter(run=run).values_list("pk", flat=True))

        assert effects_compute_offer(run.pk, offers["growth"].pk) is False

        assert list(EffectEstimate.objects.filter(run=run).values_list("pk", flat=True)) == written
        item = EffectRunOffer.objects.get(run=run, offer=offers["growth"])
        assert (item.status, item.attempts) == ("done", 1)
        run.refresh_from_db()
        assert run.offers_done == 1

    def test_a_run_resumes_after_a_lost_task_and_a_worker_killed_mid_offer(
        self, offers, measured, monkeypatch
    ):
        sent: list[tuple[int, int]] = []
        monkeypatch.setattr(
            effects_compute_offer, "delay_on_commit", lambda *args: sent.append(args)
        )
        third = make_offer(external_id="tredje-tilbud")
        make_participation(cvr=13585628, offer=third, year=2019)

        run = services.effects_compute()  # fans out: three messages
        assert sorted(offer_id for _, offer_id in sent) == sorted(
            [offers["growth"].pk, offers["export"].pk, third.pk]
        )
        # The worker finishes one offer; it claims a second and dies before writing anything
        # (the claim is the first thing the task does); the third message is lost.
        effects_compute_offer(run.pk, offers["growth"].pk)
        EffectRunOffer.objects.filter(run=run, offer=offers["export"]).update(
            status="running", attempts=1
        )
        sent.clear()

        assert services.effects_resume(run=run) == 2
        assert sorted(offer_id for _, offer_id in sent) == sorted([offers["export"].pk, third.pk])
        compute_and_expect_all_done(run, sent)
        assert EffectRunOffer.objects.get(run=run, offer=offers["export"]).attempts == 2
        assert pooled(offers["export"]).run == run
        assert pooled(third).status == "no_data"

    def test_the_sweep_sends_again_what_a_killed_worker_and_a_lost_message_left(
        self, offers, measured, monkeypatch, time_machine
    ):
        sent: list[tuple[int, int]] = []
        monkeypatch.setattr(
            effects_compute_offer, "delay_on_commit", lambda *args: sent.append(args)
        )
        start = dt.datetime(2027, 3, 1, 2, 30, tzinfo=dt.UTC)
        time_machine.move_to(start)
        third = make_offer(external_id="tredje-tilbud")
        make_participation(cvr=13585628, offer=third, year=2019)
        run = services.effects_compute()
        # The worker claims "growth" and is killed (SIGKILL: the claim stays); the messages of
        # the two other offers are lost by the broker.
        EffectRunOffer.objects.filter(run=run, offer=offers["growth"]).update(
            status="running", attempts=1, started_at=start
        )
        sent.clear()

        # Within the stale window nothing is touched: a slow offer is not a dead one.
        assert services.effects_sweep_stale(now=start + dt.timedelta(minutes=30)) == (0, 0)
        later = start + dt.timedelta(minutes=settings.EFFECT_STALE_MINUTES + 1)
        time_machine.move_to(later)
        assert services.effects_sweep_stale(now=later) == (3, 0)
        assert sorted(offer_id for _, offer_id in sent) == sorted(
            [offers["growth"].pk, offers["export"].pk, third.pk]
        )
        # Handed out again: the next sweep does not send the same offers a second time.
        assert services.effects_sweep_stale(now=later + dt.timedelta(minutes=10)) == (0, 0)

        compute_and_expect_all_done(run, sent)
        assert EffectRunOffer.objects.get(run=run, offer=offers["growth"]).attempts == 2
        # The one-active-run rule no longer blocks the next run.
        assert services.effects_compute().status == EffectRun.Status.PENDING

    def test_the_sweep_fails_an_offer_no_worker_can_finish_and_the_run_ends_visibly(
        self, offers, measured, monkeypatch
    ):
        monkeypatch.setattr(effects_compute_offer, "delay_on_commit", lambda *args: None)
        run = services.effects_compute()
        effects_compute_offer(run.pk, offers["export"].pk)
        # "growth" kept failing with a database error until its retries ran out, every time.
        long_ago = timezone.now() - dt.timedelta(hours=3)
        EffectRunOffer.objects.filter(run=run, offer=offers["growth"]).update(
            status="running", attempts=settings.EFFECT_MAX_ATTEMPTS, started_at=long_ago
        )

        assert services.effects_sweep_stale(now=timezone.now()) == (0, 1)

        run.refresh_from_db()
        assert run.status == EffectRun.Status.FAILED
        assert "vaekst-forloeb" in run.error
        item = EffectRunOffer.objects.get(run=run, offer=offers["growth"])
        assert item.status == "failed" and "forsøg" in item.error
        # Nothing of the failed run is published; the earlier run's results still show.
        assert pooled(offers["growth"]).run == measured

    def test_a_worker_frees_its_copy_of_the_panel_when_the_run_has_nothing_left(
        self, offers, measured, monkeypatch
    ):
        sent: list[tuple[int, int]] = []
        monkeypatch.setattr(
            effects_compute_offer, "delay_on_commit", lambda *args: sent.append(args)
        )
        run = services.effects_compute()
        assert len(sent) == 2

        effects_compute_offer(*sent[0])
        assert panel._cache is not None and panel._cache.key[0] == run.pk  # reused for the next
        effects_compute_offer(*sent[1])

        assert panel._cache is None
        run.refresh_from_db()
        assert run.status == EffectRun.Status.COMPLETED

    def test_the_weekly_schedule_starts_a_run_with_a_registered_task(self):
        from portal.celery import app

        entry = settings.CELERY_BEAT_SCHEDULE["evaluation-weekly-effects"]
        assert entry["task"] in app.tasks
        assert app.amqp.router.route({}, entry["task"])["queue"].name == "effects"


@pytest.mark.django_db
class TestCrmParticipations:
    def test_completed_referrals_become_participations_and_follow_the_crm(
        self, offers, monkeypatch
    ):
        import crm.selectors

        referrals = [("13585628", "eksport-start", 2020), ("10000068", "ukendt-tilbud", 2020)]
        monkeypatch.setattr(crm.selectors, "completed_offer_referrals", lambda: iter(referrals))
        make_participation(cvr=10000122, offer=offers["export"], year=2019)

        assert services.participations_sync_crm() == 1
        assert sorted(Participation.objects.values_list("cvr", "source")) == [
            (10000122, "import"),
            (13585628, "crm_referral"),
        ]

        referrals[:] = [("10000122", "eksport-start", 2019)]
        services.participations_sync_crm()
        # The withdrawn referral is gone; the imported row keeps its source.
        assert sorted(Participation.objects.values_list("cvr", "source")) == [(10000122, "import")]


@pytest.mark.django_db
class TestCommand:
    def test_sync_prints_a_summary(self, offers, build_register):
        build_register({offers["growth"]: {"effect": 1.0, "per_year": 30, "years": YEARS}})
        out = io.StringIO()

        call_command("compute_effects", "--sync", stdout=out)

        assert "Gennemført" in out.getvalue()
        assert "Beskæftigelse: 1 målt, 0 for få deltagere, 0 uden data." in out.getvalue()

    def test_an_unknown_offer_is_an_error(self, offers):
        with pytest.raises(CommandError, match=r"Tilbuddet 'findes-ikke' findes ikke\."):
            call_command("compute_effects", "--offer", "findes-ikke", "--sync")

    def test_cancel_and_resume_refuse_runs_that_are_not_active(self, offers, measured):
        with pytest.raises(CommandError, match="er ikke i gang"):
            call_command("compute_effects", "--cancel", str(measured.pk))
        with pytest.raises(CommandError, match=r"Ingen kørsel er i gang\."):
            call_command("compute_effects", "--resume")

    def test_resume_sync_finishes_an_interrupted_run(self, offers, measured):
        run = services.effects_start()
        out = io.StringIO()

        call_command("compute_effects", "--resume", str(run.pk), "--sync", stdout=out)

        run.refresh_from_db()
        assert run.status == EffectRun.Status.COMPLETED
        assert f"Kørsel {run.pk}: Gennemført" in out.getvalue()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_fans_out_to_a_real_worker_and_publishes(build_register):
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    growth = make_offer(external_id="vaekst-forloeb", themes=["growth"])
    export = make_offer(external_id="eksport-start", themes=["export"])
    build_register(
        {
            growth: {"effect": 2.0, "per_year": 30, "years": YEARS},
            export: {"effect": 0.0, "per_year": 30, "years": YEARS},
        },
        companies=2_000,
    )
    with app.connection_for_write() as connection:
        app.amqp.queues["effects"].bind(connection).purge()
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["effects"]):
        call_command("compute_effects", stdout=io.StringIO())
        run = EffectRun.objects.get()
        deadline = time.monotonic() + 60
        while run.is_active and time.monotonic() < deadline:
            time.sleep(0.2)
            run.refresh_from_db()

    assert run.status == EffectRun.Status.COMPLETED
    assert run.offers_done == 2
    assert pooled(growth).status == "ok"
