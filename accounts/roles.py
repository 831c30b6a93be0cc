"""The working roles and what each may do.

Each domain app lists its own permissions in ``<app>/roles.py`` as ``PERMISSIONS = {role: [...]}``
with ``"app_label.codename"`` strings; ``sync_roles`` (run after every ``migrate``) makes the groups
match exactly, so a permission added in code reaches every database without a data migration.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.contrib.auth.models import Group, Permission

from accounts.models import User

ROLES = (User.Role.ADVISER, User.Role.EDITOR, User.Role.ANALYST, User.Role.OPERATOR)
APPS_WITH_ROLES = ("offers", "crm", "routing", "evaluation", "governance", "portal")


def role_permissions() -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {str(role): set() for role in ROLES}
    for app in APPS_WITH_ROLES:
        try:
            module = import_module(f"{app}.roles")
        except ModuleNotFoundError:
            continue
        for role, perms in getattr(module, "PERMISSIONS", {}).items():
            wanted[str(role)].update(perms)
    return wanted


def sync_roles(**_: Any) -> None:
    for role, perms in role_permissions().items():
        group, _created = Group.objects.get_or_create(name=role)
        found = []
        for perm in sorted(perms):
            app_label, codename = perm.split(".", 1)
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                found.append(permission)
        group.permissions.set(found)
