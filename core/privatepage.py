"""Headers for a page reached by a private link (a status token, a signed survey link)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def private_page(view: View | None = None, *, referrer_policy: str = "same-origin") -> Any:
    """Not indexed, not cached, and the address (the key) sent to no other site.

    "same-origin", not "no-referrer": every page has a form that posts back to the portal (the
    language switch, the feedback, the survey), and from a "no-referrer" page Chromium sends
    ``Origin: null``, which Django's CSRF check rightly refuses. Our own logs mask the token
    (routing.logfilters).
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
