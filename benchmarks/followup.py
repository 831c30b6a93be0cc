"""Benchmark of the daily follow-up job (the reminder ladder and the surveys) at national scale.

Uses the data of ``benchmarks/crm.py`` (1,000,000 cases: 90 % closed over six years, about
25,000 open cases that never had a first response, all long past their deadline), building it
first when the database lacks it. Then runs ``crm.services.followup_run`` as the daily job would
on a sequence of mornings, each timed, and prints what each run did:

1. the first morning: every unanswered case is nudged at once (the backlog of a first
   deployment), every referral of an open case still waiting for its operator's answer reminds
   the operator, and the cases closed 10–24 days ago get their survey;
2. the same morning again: nothing is done twice;
3. two working days later: the lead alert and the company e-mail for every one of them, and the
   advisers hear of the referrals still unanswered;
4. a week after the first morning: the survey reminders;
5. five working days after the company e-mails: every case closed as not handled.

Everything runs in one transaction that is rolled back at the end, so the data stays as built and
the benchmark can run again. The e-mails are rendered and written to the outbox as in production
(the sweep would send them; it is not run here).

Usage:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/portal_crm_bench \\
    REDIS_URL=redis://127.0.0.1:6379/4 DEBUG=true \\
    .venv/bin/python benchmarks/followup.py [--scale 1.0]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()

    from benchmarks import crm as crm_bench
    from benchmarks.common import scratch_database

    scratch_database(os.environ.get("DATABASE_URL", ""))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from core.time import COPENHAGEN
    from crm.models import Case, CaseFollowUp, Notification, Referral, ReferralFollowUp
    from crm.services import followup_run
    from crm.workdays import next_working_day, working_days_after

    call_command("migrate", verbosity=0)
    wanted = int(1_000_000 * args.scale)
    if Case.objects.count() != wanted:
        crm_bench.build(args.scale)
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE crm_casefollowup; ANALYZE crm_surveyanswer; ANALYZE crm_referralfollowup"
        )
    print(
        f"data: {Case.objects.count():,} cases, "
        f"{Case.objects.open().filter(first_responded_at__isnull=True).count():,} open without "
        f"a first response, {Case.objects.closed().count():,} closed, "
        f"{Referral.objects.unanswered().filter(case__status__in=Case.OPEN_STATUSES).count():,} "
        "referrals of open cases waiting for the operator's answer"
    )

    # A working-day morning at 6:45, as the beat schedule runs it.
    today = timezone.localdate()
    first = today if today.weekday() < 5 else next_working_day(today)
    first = next_working_day(first - dt.timedelta(days=1))

    def morning(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(6, 45), tzinfo=COPENHAGEN)

    lead_day = working_days_after(first, 2)
    mornings = [
        ("first morning (backlog)", morning(first)),
        ("same morning again", morning(first)),
        ("lead alert, company, advisers", morning(lead_day)),
        ("survey reminders", morning(first + dt.timedelta(days=7))),
        ("closed as not handled", morning(working_days_after(lead_day, 5))),
    ]
    print(f"\n{'run':32} {'date':10} {'seconds':>8} {'e-mails':>8}  steps")
    try:
        with transaction.atomic():
            for label, now in mornings:
                before = Notification.objects.count()
                started = time.perf_counter()
                counts = followup_run(now=now)
                seconds = time.perf_counter() - started
                mails = Notification.objects.count() - before
                done = ", ".join(f"{step} {count:,}" for step, count in counts.items() if count)
                print(
                    f"{label:32} {now.date().isoformat():10} {seconds:8.1f} {mails:8,}  "
                    f"{done or 'nothing'}",
                    flush=True,
                )
            print(
                f"\nfollow-up rows written: {CaseFollowUp.objects.count():,} for cases, "
                f"{ReferralFollowUp.objects.count():,} for referrals"
            )
            raise Rollback
    except Rollback:
        print("rolled back: the data is as built")


if __name__ == "__main__":
    main()
