"""Load the demo data: people for every role, the demo catalogue, cases and a register panel.

Idempotent: running it again adds only what is missing. Never run by migrations.

Meant for a developer machine (``PORTAL_DEV=true`` or ``DEBUG=true``, as ``make run`` sets it),
where every demo login has the documented password. Anywhere else it refuses, since it creates a
superuser; with ``--allow-production`` (a demo or training installation) it runs, and each new
demo user gets a random password, printed once.
"""

from __future__ import annotations

import secrets
from argparse import ArgumentParser
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
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
    # Leads Væksthus Midtjylland (crm.demo names her its HubLead).
    ("leder-midtjylland", "Hanne", "Bech", "vaeksthus-midtjylland", "Rådgiver"),
    ("operatoer-eksportraadet", "Sofie", "Lund", "eksportraadet", "Operatør"),
]

# Apps that contribute demo data, in dependency order; each has demo.load(stdout=...).
DEMO_APPS = ("offers", "crm", "routing", "evaluation", "governance", "partners")


class Command(BaseCommand):
    help = "Load demo people, offers, cases and register data (idempotent)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run outside development mode; new demo users get random passwords, shown once.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        development = settings.DEVELOPMENT_MODE
        if not development and not options["allow_production"]:
            raise CommandError(
                "seed_demo creates a superuser and demo logins, so it runs only in development "
                "(PORTAL_DEV=true or DEBUG=true). To load the demo into this database anyway, run "
                "it with --allow-production: new demo users then get random passwords."
            )
        sync_roles()
        with transaction.atomic():
            passwords = self._users(random_passwords=not development)
        created = len(passwords)
        self.stdout.write(f"demo users: {created} new, {len(DEMO_USERS) - created} existing")
        if passwords and not development:
            self.stdout.write("Passwords of the new demo users (shown only this once):")
            for username, password in passwords.items():
                self.stdout.write(f"  {username:<28} {password}")
        for app in DEMO_APPS:
            try:
                module = import_module(f"{app}.demo")
            except ModuleNotFoundError:
                continue
            module.load(stdout=self.stdout)

    def _users(self, *, random_passwords: bool) -> dict[str, str]:
        """Create the missing demo users; their user names and passwords."""
        created: dict[str, str] = {}
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
            password = secrets.token_urlsafe(18) if random_passwords else DEMO_PASSWORD
            user.set_password(password)
            user.save()
            if role is not None:
                user.groups.add(Group.objects.get(name=role))
            created[username] = password
        return created
