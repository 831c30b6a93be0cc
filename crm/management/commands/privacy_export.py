"""Print everything the CRM holds about a person, as JSON (the right of access)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from crm.services import person_export


class Command(BaseCommand):
    help = "Print all data held about the person with this e-mail address as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The person's e-mail address.")

    def handle(self, *args: Any, **options: Any) -> None:
        data = person_export(email=options["email"])
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
