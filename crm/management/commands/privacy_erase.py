"""Anonymise a person on request (the right to erasure) and record that it was done."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.services import CrmError, person_erase


class Command(BaseCommand):
    help = (
        "Anonymise every contact with this e-mail address and the e-mails sent to it; cases and "
        "statistics stay. Records the erasure with a salted hash of the address."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The person's e-mail address.")
        parser.add_argument(
            "--by", default="privacy_erase", help="Who asked for it (kept in the erasure record)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            record = person_erase(email=options["email"], erased_by=options["by"])
        except CrmError as error:
            raise CommandError(error.message) from None
        # The address itself is not repeated: this output may end up in a log.
        self.stdout.write(
            f"Anonymiseret: {record.contacts} kontaktperson(er) på {record.cases} sag(er), "
            f"{record.notifications} e-mail(s). Sletning registreret som #{record.pk}."
        )
