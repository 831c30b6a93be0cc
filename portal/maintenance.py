"""The maintenance switch: while it is on, every page and API call answers 503 with the standalone
maintenance page (or a JSON body under ``/api/``) and ``Retry-After``, so a migration or a restore
can run without visitors writing half-finished requests.

On when ``MAINTENANCE_MODE`` is true, or while the file ``MAINTENANCE_FILE`` (default
``var/maintenance``) exists: ``touch var/maintenance`` switches it on without a restart in every
web process that sees that file (on several machines or containers, put it on a shared volume or
use the setting), ``rm var/maintenance`` off again. Celery workers and beat are not stopped by it:
stop them too before a restore. ``/healthz`` (and ``/healthz/live``, ``/healthz/ready``) keeps
answering (``portal.health`` answers before this middleware), so a load
balancer can tell a process in maintenance from a dead one; static files are served before this
middleware runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

RETRY_AFTER_SECONDS = 300
EXEMPT_PATHS = ("/healthz",)
API_MESSAGE = "Portalen er lukket for vedligeholdelse. Prøv igen om lidt."


def maintenance_on() -> bool:
    """Whether the switch is on now (the setting, or the flag file)."""
    if settings.MAINTENANCE_MODE:
        return True
    flag = settings.MAINTENANCE_FILE
    return bool(flag) and Path(flag).exists()


class MaintenanceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # path_info: the path inside the application, also when it is served under a prefix.
        if not maintenance_on() or request.path_info.startswith(EXEMPT_PATHS):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": API_MESSAGE}, status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        else:
            from portal.views import service_unavailable

            response = service_unavailable(request)
        response["Cache-Control"] = "no-store"
        return response
