"""Headers for a page reached by a private link (a status token, a signed survey link)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def private_page(view: View | None = None, *, referrer_policy: str = "no-referrer") -> Any:
    """Not indexed, not cached, and the address (the key) sent to no other site.

    ``referrer_policy="same-origin"`` for a page whose own form must post back: Chromium sends
    ``Origin: null`` from a ``no-referrer`` page, which Django's CSRF check rightly refuses.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response["X-Robots-Tag"] = "noindex, nofollow"
            response["Cache-Control"] = "private, no-store"
            response["Referrer-Policy"] = referrer_policy
            return response

        return wrapped

    return decorate(view) if view is not None else decorate
