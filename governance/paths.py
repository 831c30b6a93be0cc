"""The page path that statistics and feedback keep: never a secret from the URL.

Pure apart from URL resolution. URL parameters that name public things (an offer, a region) stay
in the path; any other parameter — a private status token, a signed confirmation or unsubscribe
link — is replaced by its name, so no secret and no unbounded set of paths is ever stored.
"""

from __future__ import annotations

import re

from django.urls import Resolver404, ResolverMatch, resolve

PUBLIC_URL_PARAMETERS = frozenset({"external_id", "region_slug", "slug"})

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def public_path(path: str, match: ResolverMatch | None) -> str:
    """``path`` as it may be stored, given the URL pattern it resolved to (if any)."""
    if match is None:
        return path
    parameters = set(match.kwargs) | ({"*"} if match.args else set())
    if parameters <= PUBLIC_URL_PARAMETERS:
        return path
    return "/" + _CONVERTER.sub(r"<\1>", str(match.route))


def public_path_of(path: str) -> str:
    """Like ``public_path``, resolving ``path`` first (for paths not from the current request)."""
    try:
        match = resolve(path)
    except Resolver404:
        return path
    return public_path(path, match)
