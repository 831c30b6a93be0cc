"""Health checks for load balancers, container engines and monitoring.

- ``/healthz/live``: the process answers (liveness). No database, no broker: restarting a web
  process does not bring PostgreSQL back.
- ``/healthz/ready`` and ``/healthz`` (the stable URL): the database answers (readiness), 200 or
  503. The broker is reported in ``checks.broker`` but does not fail the check: guidance requests
  and the rest of the site work without Redis, and the e-mail outbox sends after it recovers.

``HealthCheckMiddleware`` answers these paths before the host check (``ALLOWED_HOSTS``), the
HTTPS redirect (also exempted in ``SECURE_REDIRECT_EXEMPT``) and the maintenance switch: a health
check speaks plain HTTP to the process by its container address, whatever the public host name.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.maintenance import maintenance_on


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def broker_ok() -> bool:
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        return bool(client.ping())
    except Exception:
        return False


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """The process answers: 200, always."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """200 while the database answers, 503 when it does not; the broker is reported alongside."""
    database, broker = database_ok(), broker_ok()
    if not database:
        status = "unavailable"
    elif not broker:
        status = "degraded"
    else:
        status = "ok"
    body = {
        "status": status,
        "checks": {
            "database": "ok" if database else "unavailable",
            "broker": "ok" if broker else "unavailable",
        },
        "maintenance": maintenance_on(),
    }
    return JsonResponse(body, status=200 if database else 503)


HEALTH_VIEWS: dict[str, Callable[[HttpRequest], HttpResponseBase]] = {
    "/healthz": ready,
    "/healthz/ready": ready,
    "/healthz/live": live,
}


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        view = HEALTH_VIEWS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        return view(request)
