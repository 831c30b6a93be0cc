"""``manage.py import_offers FILE [--dry-run]``: load offers in the format of docs/interfaces.md."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from offers.importing import import_offers


class Command(BaseCommand):
    help = (
        "Import offers from a JSON array or JSON Lines file (upsert by external_id, "
        "all or nothing). Use - to read standard input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="JSON or JSON Lines file with offers, or - for stdin")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and report what would change, without saving anything",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["file"]
        try:
            source = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8-sig")
        except OSError as error:
            raise CommandError(f"Cannot read {name}: {error.strerror or error}") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{name} is not UTF-8 text ({error.reason}).") from error

        result = import_offers(source=source, dry_run=options["dry_run"])
        if not result.ok:
            for line in result.report():
                self.stderr.write(line)
            raise CommandError(
                f"Import failed: {len(result.errors)} error(s) in {name}; nothing was saved."
            )
        verb = "would be" if result.dry_run else "were"
        self.stdout.write(
            f"{len(result.created)} offers {verb} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged"
            + (" (dry run: nothing saved)." if result.dry_run else ".")
        )
        if options["verbosity"] >= 2:
            for label, ids in (("created", result.created), ("updated", result.updated)):
                for external_id in ids:
                    self.stdout.write(f"  {label}: {external_id}")
