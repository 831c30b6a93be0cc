"""Load the demo data: people for every role, the demo catalogue, cases and a register panel.

Idempotent: running it again adds only what is missing. Never run by migrations.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.roles import sync_roles
from offers.models import Organisation

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - documented demo login, demo data only.

# username, first name, last name, organisation slug, role (None = superuser)
DEMO_USERS: list[tuple[str, str, str, str, str | None]] = [
    ("admin", "Ada", "Administrator", "erhvervsstyrelsen", None),
    ("raadgiver-nordjylland", "Mette", "Kristensen", "vaeksthus-nordjylland", "Rådgiver"),
    ("raadgiver-midtjylland", "Lars", "Møller", "vaeksthus-midtjylland", "Rådgiver"),
    ("raadgiver-syddanmark", "Søren", "Østergaard", "vaeksthus-syddanmark", "Rådgiver"),
    ("raadgiver-hovedstaden", "Camilla", "Hansen", "vaeksthus-hovedstaden", "Rådgiver"),
    ("raadgiver-sjaelland", "Jens", "Æbelø", "vaeksthus-sjaelland", "Rådgiver"),
    ("redaktoer-region", "Anne", "Frederiksen", "region-midtjylland", "Redaktør"),
    ("redaktoer-kommune", "Peter", "Nielsen", "kommune-630", "Redaktør"),
    ("redaktoer-stat", "Louise", "Jørgensen", "eksportraadet", "Redaktør"),
    ("analytiker", "Karen", "Thomsen", "erhvervsstyrelsen", "Analytiker"),
]

# Apps that contribute demo data, in dependency order; each has demo.load(stdout=...).
DEMO_APPS = ("offers", "crm", "routing", "evaluation", "governance")


class Command(BaseCommand):
    help = "Load demo people, offers, cases and register data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        sync_roles()
        with transaction.atomic():
            created = self._users()
        self.stdout.write(f"demo users: {created} new, {len(DEMO_USERS) - created} existing")
        for app in DEMO_APPS:
            try:
                module = import_module(f"{app}.demo")
            except ModuleNotFoundError:
                continue
            module.load(stdout=self.stdout)

    def _users(self) -> int:
        created = 0
        for username, first, last, org_slug, role in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                continue
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@demo.erhvervsfremme.dk",
                organisation=Organisation.objects.get(slug=org_slug),
                is_staff=True,
                is_superuser=role is None,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            if role is not None:
                user.groups.add(Group.objects.get(name=role))
            created += 1
        return created
