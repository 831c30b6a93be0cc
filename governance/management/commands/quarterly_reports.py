"""``manage.py quarterly_reports 2026-Q2 [--mail]``: build (again) one quarter's reports."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from governance.quarterly import Quarter
from governance.quarterly_reports import quarterly_reports_build, quarterly_reports_mail


class Command(BaseCommand):
    help = (
        "Build the quarterly reports of a quarter that has ended (e.g. 2026-Q2) for every hub, "
        "operator and the ministry; --mail e-mails the links (each recipient once)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("quarter", help="the quarter, e.g. 2026-Q2")
        parser.add_argument("--mail", action="store_true", help="e-mail the links as well")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            quarter = Quarter.parse(options["quarter"])
            reports = quarterly_reports_build(quarter=quarter, today=timezone.localdate())
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{len(reports)} reports for {quarter}.")
        if options["mail"]:
            self.stdout.write(f"{quarterly_reports_mail(reports)} e-mails queued.")
