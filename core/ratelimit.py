"""Rate limits per client on public forms and the API, and the answer when one is hit."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited


def over_limit(request: HttpRequest, *, group: str, rate: str, method: str = "POST") -> bool:
    """Count this request against its client's limit in ``group``; True when it is one too many.

    The client is ``core.clientip.client_ip`` (``RATELIMIT_IP_META_KEY``): behind our proxies the
    visitor's address, not the proxy's, with IPv6 counted per /64 as django-ratelimit does.
    """
    return is_ratelimited(request, group=group, key="ip", rate=rate, method=method, increment=True)


def _message() -> str:
    return _(
        "Du har sendt for mange forespørgsler på kort tid. Vent et par minutter, og prøv igen."
    )


def ratelimited_json() -> JsonResponse:
    """The 429 of a JSON endpoint outside the API (one a page's script calls)."""
    return JsonResponse({"detail": _message()}, status=429)


def ratelimited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Shown when a public form or the API is used too often by one client (429)."""
    message = _message()
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "429.html", {"message": message}, status=429)
