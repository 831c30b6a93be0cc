"""Writes for partners' API keys: create, rotate, revoke. Keyword-only, one transaction each.

A key is ``efp_<prefix>_<secret>``; the caller shows the returned secret once and it is never
stored. Rotation makes a new key with the same name and scopes and lets the old one run until the
grace period ends (``PARTNER_API_KEY_ROTATION_GRACE_HOURS``), so the partner can deploy the new one
without downtime. Revocation is at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from core.time import COPENHAGEN, shift_months
from partners.models import KEY_PREFIX, ApiKey, Partner, Scope, secret_digest

logger = logging.getLogger(__name__)


class PartnerError(Exception):
    """A refused change, with a Danish message safe to show and the field at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    #: The whole key, to be shown once.
    plaintext: str


def default_expiry(now: dt.datetime) -> dt.datetime:
    """``PARTNER_API_KEY_MONTHS`` (18) months after ``now``, at the same Danish time of day."""
    local = now.astimezone(COPENHAGEN)
    day = shift_months(local.date(), settings.PARTNER_API_KEY_MONTHS)
    return local.replace(year=day.year, month=day.month, day=day.day)


def _new_plaintext() -> tuple[str, str, str]:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return prefix, secret, f"{KEY_PREFIX}_{prefix}_{secret}"


def _check_manager(partner: Partner, actor: Any) -> None:
    if actor is not None and not Partner.objects.managed_by(actor).filter(pk=partner.pk).exists():
        raise PartnerError(_("Du kan kun administrere din egen organisations nøgler."))


@transaction.atomic
def api_key_create(
    *,
    partner: Partner,
    name: str,
    scopes: Iterable[str],
    now: dt.datetime,
    actor: Any = None,
    expires_at: dt.datetime | None = None,
) -> IssuedKey:
    _check_manager(partner, actor)
    name = name.strip()
    if not name:
        raise PartnerError(_("Giv nøglen et navn."), field="name")
    chosen = sorted(set(scopes))
    if not chosen or any(scope not in Scope.values for scope in chosen):
        raise PartnerError(_("Vælg mindst én rettighed."), field="scopes")
    expires_at = expires_at or default_expiry(now)
    if expires_at <= now:
        raise PartnerError(_("Udløbsdatoen skal ligge i fremtiden."), field="expires_at")
    # The last day is the 18-month day itself, whatever the time of day chosen on it.
    if expires_at > default_expiry(now) + dt.timedelta(days=1):
        raise PartnerError(
            _("En nøgle kan højst gælde %(months)d måneder.")
            % {"months": settings.PARTNER_API_KEY_MONTHS},
            field="expires_at",
        )
    prefix, secret, plaintext = _new_plaintext()
    key = ApiKey.objects.create(
        partner=partner,
        name=name,
        prefix=prefix,
        secret_hash=secret_digest(secret),
        scopes=chosen,
        created_at=now,
        created_by=actor,
        expires_at=expires_at,
    )
    logger.info("API key %s created for partner %s", prefix, partner.slug)
    return IssuedKey(key=key, plaintext=plaintext)


@transaction.atomic
def api_key_rotate(*, key: ApiKey, now: dt.datetime, actor: Any = None) -> IssuedKey:
    """A new key like ``key``; the old one stops at the end of the grace period (or its own
    expiry, if sooner)."""
    locked = ApiKey.objects.select_for_update().get(pk=key.pk)
    _check_manager(locked.partner, actor)
    if locked.state_on(now) != "active":
        raise PartnerError(_("Nøglen er spærret eller udløbet og kan ikke fornys."))
    if locked.replaced_by_id is not None:
        raise PartnerError(_("Nøglen er allerede fornyet."))
    issued = api_key_create(
        partner=locked.partner, name=locked.name, scopes=locked.scopes, now=now, actor=actor
    )
    grace_end = now + dt.timedelta(hours=settings.PARTNER_API_KEY_ROTATION_GRACE_HOURS)
    locked.expires_at = min(locked.expires_at, grace_end)
    locked.replaced_by = issued.key
    locked.save(update_fields=["expires_at", "replaced_by"])
    logger.info("API key %s rotated to %s", locked.prefix, issued.key.prefix)
    return issued


@transaction.atomic
def api_key_revoke(*, key: ApiKey, now: dt.datetime, actor: Any = None) -> ApiKey:
    locked = ApiKey.objects.select_for_update().get(pk=key.pk)
    _check_manager(locked.partner, actor)
    if locked.revoked_at is None:
        locked.revoked_at = now
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        logger.info("API key %s revoked", locked.prefix)
    return locked


def api_key_find(plaintext: str) -> ApiKey | None:
    """The key whose prefix and secret match ``plaintext``, in any state; None otherwise."""
    parts = plaintext.split("_", 2)  # the secret may itself hold "_"
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    prefix, secret = parts[1], parts[2]
    if len(prefix) > 16 or len(secret) > 100:
        return None
    key = ApiKey.objects.select_related("partner").filter(prefix=prefix).first()
    if key is None or not secrets.compare_digest(key.secret_hash, secret_digest(secret)):
        return None
    return key
