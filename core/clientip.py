"""The address of the client behind the proxies we trust.

Behind a TLS-terminating proxy ``REMOTE_ADDR`` is the proxy's address for every visitor, so rate
limits and the login lockout would count the whole country as one client. The proxy appends the
address it was connected from to ``X-Forwarded-For``; everything to the left of that was written
by the client and may be forged. So:

- the header is read only when the direct peer (``REMOTE_ADDR``) is a trusted proxy
  (``settings.TRUSTED_PROXIES``, CIDRs; empty trusts no one);
- walking it from the right, trusted proxies are skipped and the first address that is not one
  is the client;
- an entry that is not an address, or a chain longer than ``MAX_HOPS``, ends the walk: the last
  trusted hop seen is answered, never something the client wrote.

The answer is always a valid address in canonical form (``0.0.0.0`` when the peer has none, as
on a unix socket), so callers can key on it and store it.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# More hops than any real proxy chain; a longer header is read only this far from the right.
MAX_HOPS = 16
UNKNOWN = "0.0.0.0"  # noqa: S104 - an address placeholder, not a bind address.


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def trusted_networks() -> tuple[IPNetwork, ...]:
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:80``), else None."""
    text = text.strip()
    if not text or len(text) > 64:
        return None
    if text.startswith("["):
        text, bracket, port = text[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return None
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: IPAddress | None) -> bool:
    return address is not None and any(address in network for network in trusted_networks())


def peer_is_trusted(request: HttpRequest) -> bool:
    """Whether the direct peer is one of our proxies (so its forwarded headers count)."""
    return is_trusted_proxy(parse_address(request.META.get("REMOTE_ADDR") or ""))


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or from a trusted proxy its ``X-Forwarded-For``."""
    peer = parse_address(request.META.get("REMOTE_ADDR") or "")
    if peer is None:
        return UNKNOWN
    if not is_trusted_proxy(peer):
        return str(peer)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR") or ""
    hops = forwarded.rsplit(",", MAX_HOPS)
    if len(hops) > MAX_HOPS:
        hops = hops[1:]  # the remainder left of the last MAX_HOPS entries is not read.
    client = peer
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        client = address
        if not is_trusted_proxy(address):
            break
    return str(client)
