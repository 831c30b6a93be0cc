"""``manage.py compute_effects [--offer ID] [--sync]``: measure the effect of every offer."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation import services
from evaluation.exceptions import EvaluationError
from evaluation.models import EffectEstimate, EffectRun
from offers.models import Offer


class Command(BaseCommand):
    help = (
        "Start en effektmåling: én opgave pr. tilbud til Celery-arbejderne, eller alt i denne "
        "proces med --sync. --resume genoptager en afbrudt kørsel; --cancel annullerer den."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--offer", metavar="EXTERNAL_ID", help="Kun dette tilbud.")
        parser.add_argument(
            "--sync", action="store_true", help="Beregn her og nu, uden kø og arbejdere."
        )
        parser.add_argument("--neighbours", type=int, default=None, help="Naboer pr. deltager.")
        parser.add_argument(
            "--min-treated", type=int, default=None, help="Færreste deltagere for et tal."
        )
        parser.add_argument(
            "--years", type=int, nargs="+", default=None, help="Kun disse deltagelsesår."
        )
        parser.add_argument(
            "--resume",
            type=int,
            nargs="?",
            const=0,
            metavar="RUN_ID",
            help="Send de tilbud, der ikke er færdige, igen (uden id: den aktive kørsel).",
        )
        parser.add_argument("--cancel", type=int, metavar="RUN_ID", help="Annullér en kørsel.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["cancel"] is not None:
                run = services.effects_cancel(run=self._run(options["cancel"]))
                self.stdout.write(f"Kørsel {run.pk} er annulleret.")
                return
            if options["resume"] is not None:
                self._resume(options["resume"] or None, sync=options["sync"])
                return
            self._start(options)
        except EvaluationError as exc:
            raise CommandError(str(exc)) from None

    def _run(self, run_id: int | None) -> EffectRun:
        runs = EffectRun.objects.all()
        run = runs.filter(pk=run_id).first() if run_id else runs.active().first()
        if run is None:
            raise CommandError(
                f"Kørsel {run_id} findes ikke." if run_id else "Ingen kørsel er i gang."
            )
        return run

    def _resume(self, run_id: int | None, *, sync: bool) -> None:
        run = self._run(run_id)
        started = time.perf_counter()
        count = services.effects_resume(run=run, sync=sync)
        if sync:
            run.refresh_from_db()
            self._summary(run, time.perf_counter() - started)
        else:
            self.stdout.write(f"Kørsel {run.pk}: {count} tilbud sendt til arbejderne igen.")

    def _start(self, options: dict[str, Any]) -> None:
        offer = None
        if options["offer"]:
            offer = Offer.objects.filter(external_id=options["offer"]).first()
            if offer is None:
                raise CommandError(f"Tilbuddet {options['offer']!r} findes ikke.")
        started = time.perf_counter()
        kwargs: dict[str, Any] = {"offer": offer, "sync": options["sync"]}
        if options["neighbours"] is not None:
            kwargs["neighbours"] = options["neighbours"]
        if options["min_treated"] is not None:
            kwargs["min_treated"] = options["min_treated"]
        if options["years"]:
            kwargs["years"] = options["years"]
        run = services.effects_compute(**kwargs)
        if options["sync"] or not run.is_active:
            self._summary(run, time.perf_counter() - started)
        else:
            self.stdout.write(
                f"Kørsel {run.pk} er startet: {run.offers_total} tilbud sendt til arbejderne "
                "(kø: effects)."
            )

    def _summary(self, run: EffectRun, seconds: float) -> None:
        employment = EffectEstimate.objects.filter(
            run=run, cohort_year__isnull=True, indicator="employment"
        )
        counts = {
            status: employment.filter(status=status).count()
            for status in ("ok", "too_few", "no_data")
        }
        self.stdout.write(
            f"Kørsel {run.pk}: {run.get_status_display()} på {seconds:.1f} s; "
            f"{run.offers_done} tilbud færdige, {run.offers_failed} fejlet. Beskæftigelse: "
            f"{counts['ok']} målt, {counts['too_few']} for få deltagere, "
            f"{counts['no_data']} uden data."
        )
        if run.error:
            self.stdout.write(run.error)
