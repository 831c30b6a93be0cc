"""Hand every open case of an adviser who leaves to a colleague: ``cases_hand_over --from ole
--to mette``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.services import CrmError, cases_hand_over


class Command(BaseCommand):
    help = (
        "Give every open case of one adviser to a colleague at the same Væksthus, each with a "
        "timeline entry and an e-mail to the company naming its new adviser."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="from_username", required=True, metavar="USERNAME")
        parser.add_argument("--to", dest="to_username", required=True, metavar="USERNAME")

    def handle(self, *args: Any, from_username: str, to_username: str, **options: Any) -> None:
        users = get_user_model().objects
        try:
            from_adviser = users.get(username=from_username)
            to_adviser = users.get(username=to_username)
        except users.model.DoesNotExist:
            raise CommandError("No user with that user name.") from None
        try:
            count = cases_hand_over(from_adviser=from_adviser, to_adviser=to_adviser, actor=None)
        except CrmError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{count} open case(s) handed over.")
