"""Put failed e-mails back in the outbox: ``outbox_resend --failed`` or ``--id 12 --id 15``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm import outbox


class Command(BaseCommand):
    help = (
        "Put failed e-mails back to pending, due now, with a fresh give-up clock; the outbox "
        "sweep sends them within a minute. Sent e-mails and erased addresses are left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--failed", action="store_true", help="every failed e-mail")
        parser.add_argument(
            "--id",
            dest="ids",
            type=int,
            action="append",
            default=[],
            metavar="N",
            help="this failed e-mail (repeat for more)",
        )

    def handle(self, *args: Any, failed: bool, ids: list[int], **options: Any) -> None:
        if not failed and not ids:
            raise CommandError("Give --failed, or one or more --id N.")
        count = outbox.notifications_resend(ids=ids, failed=failed)
        self.stdout.write(f"{count} e-mail(s) put back in the outbox.")
