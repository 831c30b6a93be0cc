"""``manage.py export_offers``: write the catalogue in the import format or as HSDS CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from offers.exporting import export_json, export_jsonl
from offers.hsds import export_hsds
from offers.models import Offer


class Command(BaseCommand):
    help = (
        "Export offers as a JSON array (default), JSON Lines, or an Open Referral HSDS CSV set "
        "(a folder, or a zip when --output ends in .zip)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=("json", "jsonl", "hsds"), default="json")
        parser.add_argument(
            "--output",
            help="file to write (json/jsonl; default standard output) or folder/.zip (hsds)",
        )
        parser.add_argument(
            "--status",
            action="append",
            default=[],
            help="only offers with this status (draft, published, archived); repeat or "
            "separate with commas. Default: all.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        statuses = [s.strip() for value in options["status"] for s in value.split(",") if s]
        unknown = sorted(set(statuses) - set(Offer.Status.values))
        if unknown:
            raise CommandError(
                f"Unknown status {', '.join(unknown)}; use {', '.join(Offer.Status.values)}."
            )
        queryset = Offer.objects.all()
        if statuses:
            queryset = queryset.filter(status__in=statuses)

        fmt: str = options["format"]
        output: str | None = options["output"]
        if fmt == "hsds":
            if not output:
                raise CommandError("--format hsds needs --output (a folder or a .zip file).")
            counts = export_hsds(queryset, Path(output))
            summary = ", ".join(f"{name}: {count}" for name, count in counts.items())
            self.stderr.write(f"Wrote {output} ({summary}).")
            return

        writer = export_json if fmt == "json" else export_jsonl
        if output and output != "-":
            with Path(output).open("w", encoding="utf-8") as handle:
                count = writer(queryset, handle)
            self.stderr.write(f"Wrote {count} offers to {output}.")
        else:
            # The JSON writers end their own lines.
            self.stdout.ending = ""
            writer(queryset, self.stdout)
