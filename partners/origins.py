"""Web origins a partner registers, and the page an embedded form was shown on. Pure: no Django.

An origin is ``scheme://host[:port]`` in lower case, without path, as browsers send it and as
``frame-ancestors`` takes it. HTTPS only, except for loopback addresses (a developer's machine).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

PAGE_MAX_LENGTH = 500
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> str | None:
    """The origin of an absolute http(s) URL, normalised; None for anything else."""
    if not url or len(url) > 2000 or any(ord(c) < 33 or c in "\"'<>\\" for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if scheme == "http" and not _is_loopback(host):
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def normalise_origin(value: str) -> str | None:
    """A registered origin as typed (``https://www.kommune.dk``), normalised; None if it is not
    an origin (a path, a query or a wildcard is refused: the partner names each site)."""
    value = value.strip().rstrip("/")
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.path or parts.query or parts.fragment or "*" in value:
        return None
    return origin_of(value)


def embedding_page(*, kilde: str | None, referer: str | None, registered: Iterable[str]) -> str:
    """The page the embed was shown on, when its origin is one the partner registered; else "".

    ``kilde`` (the embed code's parameter, or the form's hidden field) wins over the Referer (which
    browsers cut to the origin by default). Query and fragment are dropped: they may hold personal
    data, and the page is what the statistics need.
    """
    allowed = set(registered)
    for candidate in (kilde, referer):
        if not candidate:
            continue
        origin = origin_of(candidate)
        if origin is not None and origin in allowed:
            parts = urlsplit(candidate)
            return (origin + (parts.path or "/"))[:PAGE_MAX_LENGTH]
    return ""
