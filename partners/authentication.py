"""API keys on the API: ``Authorization: Bearer efp_<prefix>_<secret>``.

401 for a missing, unknown, expired or revoked key, each with its own code (``key_missing``,
``key_invalid``, ``key_expired``, ``key_revoked``); 403 for a key without the operation's scope
(``scope_missing``); 429 per key (``ApiKeyThrottle``, ``PARTNER_API_KEY_RATE``). The request's
``auth`` is the ``ApiKey``; its ``user`` is anonymous, so no session and no CSRF are involved.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions, throttling
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from partners.models import ApiKey
from partners.services import api_key_find

# last_used_at is written at most this often per key, so a busy key costs no write per call.
LAST_USED_RESOLUTION_SECONDS = 300


class KeyRefused(exceptions.AuthenticationFailed):
    def __init__(self, detail: Any, code: str) -> None:
        super().__init__(detail=detail, code=code)


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiKey]:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            raise exceptions.NotAuthenticated(
                _("API-nøgle mangler: send Authorization: Bearer <nøgle>."), code="key_missing"
            )
        if len(header) != 2:
            raise KeyRefused(_("Ugyldig API-nøgle."), code="key_invalid")
        try:
            plaintext = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise KeyRefused(_("Ugyldig API-nøgle."), code="key_invalid") from None
        key = api_key_find(plaintext)
        if key is None:
            raise KeyRefused(_("Ugyldig API-nøgle."), code="key_invalid")
        now = timezone.now()
        state = key.state_on(now)
        if state == "revoked":
            raise KeyRefused(_("API-nøglen er spærret."), code="key_revoked")
        if state == "expired":
            raise KeyRefused(
                _("API-nøglen er udløbet. Lav en ny i administrationen."), code="key_expired"
            )
        if not key.partner.active:
            raise KeyRefused(_("Partneren er ikke aktiv."), code="partner_inactive")
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > (
            LAST_USED_RESOLUTION_SECONDS
        ):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class HasScope(permissions.BasePermission):
    """The key carries the view's ``required_scope``."""

    message = _("API-nøglen har ikke rettighed til dette.")
    code = "scope_missing"

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        return isinstance(key, ApiKey) and key.has_scope(view.required_scope)


class ApiKeyThrottle(throttling.SimpleRateThrottle):
    """Requests per key (not per address: a partner's servers share few addresses)."""

    scope = "partner_key"

    def get_rate(self) -> str:
        return str(settings.PARTNER_API_KEY_RATE)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = request.auth
        if not isinstance(key, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": key.pk}
