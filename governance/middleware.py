"""Usage statistics without tracking: page views per page and day, counted on the server.

Nothing about the visitor is read or kept — no cookie, no IP address, no user agent; only which
public page was shown and on which day. Counting happens after the page is sent and never breaks a
page; the counts are added up in the process and written a few seconds' worth at a time
(``governance.services.CountBuffer``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.http import HttpRequest, HttpResponseBase
from django.urls import ResolverMatch

from governance import services
from governance.paths import public_path

# Pages that are not public, or not pages.
EXCLUDED_PREFIXES = (
    "/admin/",
    "/api/",
    "/static/",
    "/media/",
    "/healthz",
    "/analyse/",
    "/i18n/",
    "/feedback/",
    "/robots.txt",
)


def counted_path(request: HttpRequest, match: ResolverMatch | None) -> str | None:
    """The path a view of this page is counted under, or None when it is not counted."""
    path = request.path
    if path.startswith(EXCLUDED_PREFIXES):
        return None
    if match is None or match.namespace == "admin":
        return None
    # Private tokens and signed links never reach the statistics (see governance.paths).
    return public_path(path, match)


def is_countable_response(request: HttpRequest, response: HttpResponseBase) -> bool:
    if request.method != "GET" or response.status_code != 200:
        return False
    if request.headers.get("Sec-Purpose", "").startswith("prefetch"):
        return False
    if "tilbagemelding" in request.GET:
        # The same page shown again after feedback was sent: not a new visit.
        return False
    return str(response.get("Content-Type", "")).startswith("text/html")


class PageViewMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        counts: list[Callable[[], object]] = []
        if is_countable_response(request, response):
            path = counted_path(request, getattr(request, "resolver_match", None))
            if path is not None:
                counts.append(partial(services.page_view_record, path=path))
        result_count = getattr(request, "search_result_count", None)
        if isinstance(result_count, int) and request.method == "GET":
            counts.append(partial(services.search_record, request.GET.get("q", ""), result_count))
        if counts:
            _count_after_sending(response, counts)
        return response


def _count_after_sending(response: HttpResponseBase, counts: list[Callable[[], object]]) -> None:
    """Count when the server closes the response, after the page has been sent to the browser.

    The WSGI server calls ``close()`` once it has written the body, so the visitor never waits
    for the statistics; the counts run before Django's own close, which ends the request.
    """
    close = response.close

    def count_then_close() -> None:
        try:
            for count in counts:
                count()
        finally:
            close()

    setattr(response, "close", count_then_close)  # noqa: B010 - assigning a method needs setattr
