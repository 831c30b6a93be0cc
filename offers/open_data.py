"""The published catalogue as open data: ``/data/hsds/`` (docs/interfaces.md, "Open data").

A data package (``datapackage.json``) with the portal's licence and the Open Referral HSDS
schema of each table, and the tables themselves, of the published offers only. The addresses
are stable; the texts are Danish whatever the visitor's language, so one address is one file.
"""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET

from offers.hsds import HSDS_COLUMNS, hsds_csv, hsds_datapackage, hsds_tables
from offers.models import Offer
from offers.public_cache import public_cached


@require_GET
@public_cached
def datapackage(request: HttpRequest) -> HttpResponse:
    base = request.build_absolute_uri(reverse("offers:hsds_datapackage")).rsplit("/", 1)[0]
    body = json.dumps(hsds_datapackage(base_url=base + "/"), ensure_ascii=False, indent=2)
    return HttpResponse(body, content_type="application/json; charset=utf-8")


@require_GET
@public_cached
def table(request: HttpRequest, name: str) -> HttpResponse:
    filename = f"{name}.csv"
    if filename not in HSDS_COLUMNS:
        raise Http404
    with translation.override("da"):
        rows = hsds_tables(Offer.objects.published())[filename]
        body = hsds_csv(filename, rows)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
