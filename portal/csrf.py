"""CSRF protection that a public page needs no per-visitor token for.

A cross-site request forgery is a browser sending a form for another site. The browser says where
a request comes from in two headers no page can set: ``Sec-Fetch-Site`` (every current browser)
and ``Origin`` (on every POST since well before that). A POST whose ``Sec-Fetch-Site`` is
``same-origin``, or which has no ``Sec-Fetch-Site`` but an ``Origin`` equal to the portal's own,
was sent by one of the portal's own pages, and is accepted without a token. Every other unsafe
request goes through Django's token check unchanged: cross-site, same-site (another subdomain),
``none``, an ``Origin`` of ``null`` or of another site, or a browser that sends neither header.

That lets the forms on the public pages (the language switch, "Fandt du det, du ledte efter?",
"Gem søgning") carry no token, so the pages are the same for every visitor and can be kept by the
portal and by a shared cache (``offers.public_cache``). Forms of logged-in pages keep their token
(the admin's, for one), which still works through Django's check; so does the API's, which DRF
checks itself for session-authenticated requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase


def own_origin(request: HttpRequest) -> str | None:
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    return f"{'https' if request.is_secure() else 'http'}://{host}"


def sent_by_own_page(request: HttpRequest) -> bool:
    """True when the browser says the request comes from one of the portal's own pages."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None and origin != own_origin(request):
        return False
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    return origin is not None


class FetchMetadataCsrfMiddleware:
    """Placed just before Django's ``CsrfViewMiddleware``: a POST our own page sent is marked as
    checked, which Django's check honours; every other request it leaves to Django's check."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        callback: Callable[..., HttpResponseBase],
        callback_args: tuple[Any, ...],
        callback_kwargs: dict[str, Any],
    ) -> None:
        unsafe = request.method not in ("GET", "HEAD", "OPTIONS", "TRACE")
        if unsafe and sent_by_own_page(request):
            # The attribute Django's check sets once a request has passed it.
            request.csrf_processing_done = True  # type: ignore[attr-defined]
