"""Request headers made safe before anything else reads them.

- A header value with a control character (NUL, a line break, ...) answers 400. HTTP forbids
  them, and a NUL written to PostgreSQL (the login lockout stores the user agent) is a server
  error, not the client's problem.
- ``X-Forwarded-Proto`` decides whether a request counts as HTTPS (``SECURE_PROXY_SSL_HEADER``),
  so it is believed only from a trusted proxy (``TRUSTED_PROXIES``); from anyone else it is
  dropped, as is ``X-Forwarded-For`` (``core.clientip`` ignores it from them anyway).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.translation import gettext

from core.clientip import peer_is_trusted
from portal.db import public_request

# C0 controls except horizontal tab, and DEL (RFC 9110, field values).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_FOR")
BAD_HEADER_MESSAGE = "Ugyldig forespørgsel: en header indeholder kontroltegn."


def has_control_characters(meta: dict[str, object]) -> bool:
    return any(
        name.startswith("HTTP_") and isinstance(value, str) and _CONTROL.search(value)
        for name, value in meta.items()
    )


class RequestHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if has_control_characters(request.META):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": BAD_HEADER_MESSAGE}, status=400)
            return HttpResponse(
                BAD_HEADER_MESSAGE, status=400, content_type="text/plain; charset=utf-8"
            )
        if not peer_is_trusted(request):
            for name in FORWARDED_HEADERS:
                request.META.pop(name, None)
        return self.get_response(request)


class ApiNotFoundMiddleware:
    """An /api/ address that matches nothing answers the API's JSON error, not an HTML page.

    Views under /api/ answer their own 404s in JSON; this covers the addresses no route matches,
    which Django answers with the 404 page (or, in development, its debug page).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path_info.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse({"detail": gettext("Ikke fundet.")}, status=404)
        return response


class PublicBindingMiddleware:
    """Marks a request of the public site while the view and the middleware below run
    (``portal.db``: its statements are bound server-side when ``DB_SERVER_SIDE_BINDING=public``;
    what runs when the response is closed, such as the page-view count, binds client-side).

    Not public: the admin and the analysts' pages under ``/analyse/``, whose aggregates over
    uneven data would suffer most from a generic plan. Paths are compared without the script
    prefix (``path_info``), so a portal served under a sub-path classes them the same.
    """

    #: Paths (``path_info``) whose statements bind client-side.
    STAFF_PREFIXES = ("/admin/", "/analyse/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        token = public_request.set(not request.path_info.startswith(self.STAFF_PREFIXES))
        try:
            return self.get_response(request)
        finally:
            public_request.reset(token)
