"""A database outage answers 503 with ``Retry-After``, not 500.

When PostgreSQL does not answer (restart, failover, network), every request that needs it fails
with ``OperationalError``/``InterfaceError``. That is not a bug in the request: clients should
retry, and monitoring should see "unavailable", not a flood of server errors. Pages get the
standalone Danish 503 page (``portal.views.service_unavailable``), the API ``{"detail": ...}``.

``Retry-After`` is jittered (``RETRY_AFTER_MIN`` to ``RETRY_AFTER_MAX`` seconds) so that clients do
not all come back in the same second after the database does.

Three hooks share ``outage_response``: ``DatabaseOutageMiddleware`` for exceptions from views,
the DRF exception handler (``portal.api``) for API views, and the 500 handler
(``portal.views.server_error``) for the rest (a middleware that reads the session, say).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

import psycopg
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

log = logging.getLogger(__name__)

OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
# Most outages are a restart or a failover of seconds: clients should be back soon after the
# database, spread over ten seconds rather than all in its first second.
RETRY_AFTER_MIN = 3
RETRY_AFTER_MAX = 13
API_MESSAGE = "Portalen kan ikke svare lige nu på grund af en midlertidig fejl. Prøv igen om lidt."


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def retry_after_seconds() -> int:
    return RETRY_AFTER_MIN + secrets.randbelow(RETRY_AFTER_MAX - RETRY_AFTER_MIN + 1)


def log_outage(exc: BaseException) -> None:
    # The class and first line only: enough to see an outage, no SQL or parameters in the log.
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    log.error("database unavailable, answered 503: %s: %s", type(exc).__name__, first_line)


def outage_response(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": API_MESSAGE}, status=503)
    else:
        from portal.views import service_unavailable

        response = service_unavailable(request, outage=True)
    response["Retry-After"] = str(retry_after_seconds())
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_outage(exception):
            return None
        log_outage(exception)
        return outage_response(request)
