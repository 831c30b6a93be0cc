"""Benchmark of effect measurement at Danish scale.

Builds a synthetic register of 300,000 companies over 10 years (3,000,000 panel rows) as a CSV
file, 500 offers and 60,000 participations with selective take-up and injected effects, then
measures, each in its own process as an operator would run it:

- ``manage.py import_panel`` (wall time, rows per second, peak memory),
- ``manage.py import_participations``,
- one plain scan of the panel (``SELECT sum(...) FROM evaluation_panelrow``) as the yardstick,
- the full run with two Celery worker processes (``compute_effects`` fanned out on the
  ``effects`` queue): wall time, peak memory of the worker processes together, and the ratio of
  the run to the plain scan,
- optionally ``compute_effects --sync`` in one process (``--sync-run``).

Usage (a scratch database; it is created if missing, and its evaluation tables are emptied):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_eval_bench \\
    REDIS_URL=redis://127.0.0.1:6379/5 DEBUG=true \\
    .venv/bin/python benchmarks/effects.py [--scale 1.0] [--workers 2] [--sync-run]

``--scale 0.1`` builds a tenth of the companies, offers and participations for a quick try.
The database name must contain "bench" or "scratch": the script deletes data.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from benchmarks.common import scratch_database  # noqa: E402

FIRST_YEAR = 2015
YEARS = 10
SEED = 2026


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sync-run", action="store_true", help="Also time compute_effects --sync.")
    parser.add_argument("--keep-data", action="store_true", help="Reuse the imported panel.")
    args = parser.parse_args()

    scratch_database(os.environ.get("DATABASE_URL", ""))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    companies = int(300_000 * args.scale)
    offers = max(int(500 * args.scale), 10)
    participations = int(60_000 * args.scale)
    work = Path(tempfile.mkdtemp(prefix="effects-bench-"))
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")

    if not args.keep_data:
        _empty_tables()
        external_ids = _make_offers(offers)
        started = time.perf_counter()
        panel_file, participations_file, rows, count = _write_files(
            work, companies, external_ids, participations
        )
        print(
            f"built {rows:,} panel rows ({companies:,} companies x {YEARS} years) and "
            f"{count:,} participations in {len(external_ids)} offers: "
            f"{time.perf_counter() - started:.1f} s, {panel_file.stat().st_size / 1e6:.0f} MB CSV"
        )
        seconds, peak, output, cpu = _timed_command(["import_panel", str(panel_file)])
        print(
            f"import_panel: {seconds:.1f} s wall ({cpu:.1f} s CPU in Python), peak RSS "
            f"{peak:.0f} MB -> {output.strip()}"
        )
        seconds, peak, output, cpu = _timed_command(
            ["import_participations", str(participations_file)]
        )
        print(f"import_participations: {seconds:.1f} s -> {output.strip()}")

    scan = _plain_scan()
    print(f"plain scan of the panel (SELECT sum(...)): {scan:.2f} s")

    seconds, peak_total, peak_one, run_id, cpu = _run_with_workers(args.workers)
    print(
        f"full run with {args.workers} worker processes (run {run_id}): {seconds:.1f} s wall, "
        f"peak RSS {peak_total:.0f} MB for the workers together ({peak_one:.0f} MB the largest), "
        f"{seconds / scan:.0f} x the plain scan"
    )
    print(
        f"  CPU time of the workers: {cpu:.0f} s, i.e. {cpu / args.workers:.0f} s of wall time "
        f"on {args.workers} otherwise idle cores"
    )
    _describe_run(run_id)

    if args.sync_run:
        seconds, peak, output, cpu = _timed_command(["compute_effects", "--sync"])
        print(
            f"compute_effects --sync: {seconds:.1f} s wall ({cpu:.0f} s CPU), "
            f"peak RSS {peak:.0f} MB"
        )
        print("  " + output.strip().replace("\n", "\n  "))
        print(f"  {seconds / scan:.0f} x the plain scan")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


def _empty_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE evaluation_panelrow, evaluation_participation, evaluation_effectrun, "
            "evaluation_effectrunoffer, evaluation_effectestimate, evaluation_effectrollup"
        )
    from offers.models import Offer

    Offer.objects.filter(external_id__startswith="bench-").delete()


def _make_offers(count: int) -> list[str]:
    """Offers spread over state agencies, regions, Væksthuse and municipalities, with themes."""
    import numpy as np

    from offers.models import Offer, Organisation, Theme

    rng = np.random.default_rng(SEED)
    operators = list(
        Organisation.objects.filter(
            kind__in=["state_agency", "region", "business_hub", "municipality"]
        ).select_related("municipality")
    )
    themes = list(Theme.objects.all())
    offers = []
    for number in range(count):
        operator = operators[int(rng.integers(len(operators)))]
        level = {"state_agency": "state", "municipality": "municipality"}.get(
            operator.kind, "region"
        )
        municipal = level == "municipality"
        offers.append(
            Offer(
                external_id=f"bench-{number:04d}",
                title=f"Benchmarktilbud {number}",
                summary="Et tilbud i benchmarket.",
                level=level,
                owner=operator,
                operator=operator,
                phases=["growth"],
                company_sizes=["micro", "small", "medium"],
                price="free",
                status="published",
                nationwide=not municipal,
                municipalities=[operator.municipality.code]
                if municipal and operator.municipality
                else [],
            )
        )
    created = Offer.objects.bulk_create(offers)
    links = [
        Offer.themes.through(offer_id=offer.pk, theme_id=themes[int(rng.integers(len(themes)))].pk)
        for offer in created
    ]
    Offer.themes.through.objects.bulk_create(links)
    return [offer.external_id for offer in created]


def _write_files(
    work: Path, companies: int, external_ids: list[str], participations: int
) -> tuple[Path, Path, int, int]:
    """The panel CSV and a participations CSV with selective take-up and injected effects."""
    import numpy as np

    from evaluation.synthetic import make_panel

    panel = make_panel(
        companies=companies,
        first_year=FIRST_YEAR,
        years=YEARS,
        seed=SEED,
        municipalities=_municipality_codes(),
        entry_exit=False,
    )
    rng = np.random.default_rng(SEED + 1)
    offer_sizes = rng.lognormal(0.0, 0.8, len(external_ids))
    offer_sizes = offer_sizes / offer_sizes.sum()
    effects = rng.normal(1.0, 1.0, len(external_ids))
    participation_years = list(range(FIRST_YEAR + 1, FIRST_YEAR + YEARS))
    per_year = participations // len(participation_years)
    lines = ["cvr,offer,year"]
    for year in participation_years:
        t = panel.column(year)
        base = panel.employees[:, t - 1]
        before = panel.employees[:, max(t - 2, 0)]
        growth = np.clip((base - before) / np.maximum(before, 1.0), -0.5, 0.5)
        weight = np.exp(0.35 * np.log1p(base) + 3.5 * growth)
        # Weighted sampling without replacement in one pass (Efraimidis-Spirakis keys).
        keys = rng.random(len(weight)) ** (1.0 / weight)
        chosen = np.argpartition(-keys, per_year)[:per_year]
        offer_of = rng.choice(len(external_ids), size=per_year, p=offer_sizes)
        for offer in np.unique(offer_of):
            members = np.sort(chosen[offer_of == offer])
            effect = float(effects[offer])
            panel.add_effect(members, year, employees=effect, revenue=effect * 1_200_000)
            external_id = external_ids[offer]
            lines.extend(f"{panel.cvr[c]},{external_id},{year}" for c in members.tolist())
    panel_file = work / "panel.csv"
    with panel_file.open("w") as out:
        rows = panel.write_csv(out)
    participations_file = work / "participations.csv"
    participations_file.write_text("\n".join(lines) + "\n")
    return panel_file, participations_file, rows, len(lines) - 1


def _municipality_codes() -> list[int]:
    from offers.models import Municipality

    return list(Municipality.objects.values_list("code", flat=True))


def _manage(*arguments: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), *arguments]


class _PeakMemory:
    """Samples the resident memory of a process and its children every quarter second."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.total = 0.0
        self.largest = 0.0
        # CPU seconds per process, kept after a process ends: independent of other load.
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            sizes = []
            try:
                tree = [self.process, *self.process.children(recursive=True)]
            except psutil.Error:
                tree = []
            for p in tree:
                try:
                    sizes.append(p.memory_info().rss / 1024**2)
                    times = p.cpu_times()
                    self.cpu[p.pid] = times.user + times.system
                except psutil.Error:
                    continue
            if sizes:
                self.total = max(self.total, sum(sizes))
                self.largest = max(self.largest, max(sizes))
            self._stop.wait(0.25)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


def _timed_command(arguments: list[str]) -> tuple[float, float, str, float]:
    """Wall seconds, peak RSS in MB of the command's process, its output and CPU seconds."""
    started = time.perf_counter()
    process = subprocess.Popen(
        _manage(*arguments), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    memory = _PeakMemory(process.pid)
    stdout, stderr = process.communicate()
    memory.stop()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"{' '.join(arguments)} failed:\n{stdout}\n{stderr}")
    return seconds, memory.total, stdout, memory.cpu_seconds


def _plain_scan() -> float:
    from django.db import connection

    sql = (
        "SELECT sum(employees_fte), sum(revenue_dkk), sum(value_added_dkk), sum(export_dkk) "
        "FROM evaluation_panelrow"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)  # warm the cache, as the run's own read would find it
        started = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchone()
        return time.perf_counter() - started


def _run_with_workers(workers: int) -> tuple[float, float, float, int, float]:
    from evaluation.models import EffectRun
    from portal.celery import app

    with app.connection_for_write() as connection:
        app.amqp.queues["effects"].bind(connection).purge()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    log = (Path(tempfile.gettempdir()) / "effects-bench-worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-Q",
            "effects",
            "-c",
            str(workers),
            "--prefetch-multiplier=1",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    memory = _PeakMemory(worker.pid)
    try:
        _wait_for_worker(app)
        started = time.perf_counter()
        output = subprocess.run(
            _manage("compute_effects"), capture_output=True, text=True, check=True
        ).stdout
        run_id = int(re.search(r"Kørsel (\d+)", output).group(1))  # type: ignore[union-attr]
        while True:
            run = EffectRun.objects.get(pk=run_id)
            if not run.is_active:
                break
            time.sleep(0.5)
        seconds = time.perf_counter() - started
    finally:
        memory.stop()
        worker.terminate()
        worker.wait(timeout=60)
        log.close()
    return seconds, memory.total, memory.largest, run_id, memory.cpu_seconds


def _wait_for_worker(app) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1.0):
            return
    sys.exit("The Celery worker did not start within a minute.")


def _describe_run(run_id: int) -> None:
    from evaluation.models import EffectEstimate, EffectRun

    run = EffectRun.objects.get(pk=run_id)
    pooled = EffectEstimate.objects.filter(
        run=run, cohort_year__isnull=True, indicator="employment"
    )
    counts = {s: pooled.filter(status=s).count() for s in ("ok", "too_few", "no_data")}
    cohorts = EffectEstimate.objects.filter(
        run=run, cohort_year__isnull=False, indicator="employment"
    )
    print(
        f"  run {run.pk}: {run.status}, {run.offers_done} offers done, {run.offers_failed} failed; "
        f"employment: {counts['ok']} measured, {counts['too_few']} too few, "
        f"{counts['no_data']} no data; {cohorts.count()} cohort estimates"
    )
    print(f"  timings: { {k: round(v, 1) for k, v in run.timings.items()} }")


if __name__ == "__main__":
    main()
