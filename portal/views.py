from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from offers.models import Offer
from offers.public_cache import public_cached
from portal.outage import is_outage, log_outage, outage_response
from portal.situations import SITUATIONS


@require_GET
@public_cached
def home(request: HttpRequest) -> HttpResponse:
    """The front page puts the search first."""
    context: dict[str, Any] = {
        "situations": SITUATIONS,
        # The same offers the search shows by default: published and open today.
        "offer_count": Offer.objects.published().open_on(timezone.localdate()).count(),
        "first_response_days": settings.FIRST_RESPONSE_WORKING_DAYS,
    }
    return render(request, "portal/home.html", context)


@require_GET
def about(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/about.html",
        {
            "first_response_days": settings.FIRST_RESPONSE_WORKING_DAYS,
            "contact_email": settings.PORTAL_CONTACT_EMAIL,
            "accessibility_email": settings.PORTAL_ACCESSIBILITY_EMAIL,
            "accessibility_statement_date": settings.ACCESSIBILITY_STATEMENT_DATE,
            "accessibility_statement_url": settings.ACCESSIBILITY_STATEMENT_URL,
            "accessibility_complaint_url": settings.ACCESSIBILITY_COMPLAINT_URL,
        },
    )


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/privacy.html",
        {"retention_months": settings.CONTACT_RETENTION_MONTHS},
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # A database outage raised outside a view (a middleware reading the session, say) reaches
    # this handler too: it is a 503 with Retry-After, not a server error.
    exc = sys.exc_info()[1]
    if is_outage(exc):
        assert exc is not None
        log_outage(exc)
        return outage_response(request)
    # Rendered without a request context: the error may come from the database or a processor.
    from django.template import loader

    template = loader.get_template("500.html")
    return HttpResponse(template.render(), status=500)


def service_unavailable(request: HttpRequest, *, outage: bool = False) -> HttpResponse:
    """The 503 page, standalone like the 500 page so it renders while the database or the rest
    of the application is down: the maintenance text, or with ``outage`` the text for a database
    that does not answer (``portal.outage`` sets a shorter, jittered ``Retry-After``)."""
    from django.template import loader

    response = HttpResponse(loader.get_template("503.html").render({"outage": outage}), status=503)
    response["Retry-After"] = "300"
    return response
