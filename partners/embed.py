"""The headers that let one partner's registered origins frame a page, and nobody else.

Every page of the portal refuses framing (``frame-ancestors 'none'`` and ``X-Frame-Options:
DENY`` in settings). An embedded page answers with the site's policy except ``frame-ancestors``,
which lists the partner's registered origins, and without ``X-Frame-Options`` (it only knows DENY
and SAMEORIGIN, and would contradict the list; browsers that know CSP ignore it anyway when
``frame-ancestors`` is present). An accent colour is an inline style whose SHA-256 is allowed by
``style-src``, so no other inline style is.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from django.conf import settings
from django.http import HttpResponseBase

from partners.models import Partner


def accent_css(partner: Partner) -> str:
    return f".embed{{--embed-accent:{partner.accent_colour}}}" if partner.accent_colour else ""


def _style_hash(css: str) -> str:
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def csp_for(partner: Partner) -> dict[str, Any]:
    configured: dict[str, Any] = settings.SECURE_CSP
    policy: dict[str, Any] = {name: list(values) for name, values in configured.items()}
    # No origin registered: still refused everywhere (an empty list would mean no restriction).
    policy["frame-ancestors"] = list(partner.origins) or ["'none'"]
    css = accent_css(partner)
    if css:
        policy["style-src"] = [*policy.get("style-src", []), _style_hash(css)]
    return policy


def allow_framing(response: HttpResponseBase, partner: Partner) -> HttpResponseBase:
    response._csp_config = csp_for(partner)  # type: ignore[attr-defined]
    response.xframe_options_exempt = True  # type: ignore[attr-defined]
    return response
