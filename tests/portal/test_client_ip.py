"""Behind the TLS proxy every visitor is its own client: rate limits, the login lockout and HTTPS
follow the address and scheme the trusted proxy reports, and no one else can forge them."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from core.clientip import client_ip
from governance.models import PageFeedback
from portal import settings as portal_settings

PROXY = "10.0.0.2"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "fd00::/8"]
    return settings


def _ip(remote_addr: str, forwarded: str | None = None) -> str:
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(request)


@pytest.mark.parametrize(
    ("remote_addr", "forwarded", "expected"),
    [
        # The proxy appended the client; what the client wrote to the left is not read.
        (PROXY, "198.51.100.7", "198.51.100.7"),
        (PROXY, "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        # Two of our proxies in a row are skipped.
        (PROXY, "198.51.100.7, 10.0.0.9", "198.51.100.7"),
        (PROXY, "2001:db8::5, fd00::1", "2001:db8::5"),
        (PROXY, "[2001:db8::5]:4711", "2001:db8::5"),
        (PROXY, "198.51.100.7:4711", "198.51.100.7"),
        (PROXY, "::ffff:198.51.100.7", "198.51.100.7"),
        # Nothing forwarded, or only our own proxies: the left-most of ours.
        (PROXY, None, PROXY),
        (PROXY, "", PROXY),
        (PROXY, "10.0.0.9", "10.0.0.9"),
        # Garbage ends the walk at the last trusted hop; never an address the client wrote.
        (PROXY, "198.51.100.7, not-an-address", PROXY),
        (PROXY, "198.51.100.7, 10.0.0.9, unknown", PROXY),
        (PROXY, "198.51.100.7\x00", PROXY),
        (PROXY, ",,,,", PROXY),
        (PROXY, "1" * 100_000, PROXY),
        # A huge chain is read only from the right.
        (PROXY, ", ".join(["6.6.6.6"] * 5000 + ["198.51.100.7"]), "198.51.100.7"),
        (PROXY, ", ".join(["198.51.100.7"] + ["10.0.0.9"] * 40), "10.0.0.9"),
        # A peer that is not our proxy is the client, whatever it claims.
        ("198.51.100.99", "198.51.100.7", "198.51.100.99"),
        ("10.0.1.2", "198.51.100.7", "10.0.1.2"),
        # No usable peer address (a unix socket): a placeholder that can still be keyed on.
        ("", "198.51.100.7", "0.0.0.0"),  # noqa: S104
        ("garbage", None, "0.0.0.0"),  # noqa: S104
    ],
)
def test_it_takes_the_right_most_address_that_is_not_a_trusted_proxy(
    behind_proxy, remote_addr, forwarded, expected
):
    assert _ip(remote_addr, forwarded) == expected


def test_it_trusts_no_forwarded_address_when_no_proxy_is_configured(settings):
    settings.TRUSTED_PROXIES = []
    assert _ip(PROXY, "198.51.100.7") == PROXY
    assert _ip("127.0.0.1", "198.51.100.7") == "127.0.0.1"


def test_trusted_proxies_are_checked_at_start_up(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", " 10.0.0.0/8 , 192.0.2.7,fd00::/8 ")
    assert portal_settings.env_networks("TRUSTED_PROXIES") == [
        "10.0.0.0/8",
        "192.0.2.7/32",
        "fd00::/8",
    ]
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, the-load-balancer")
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES must list IP addresses"):
        portal_settings.env_networks("TRUSTED_PROXIES")
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert portal_settings.env_networks("TRUSTED_PROXIES") == []


@pytest.fixture
def rate_limits(settings):
    settings.RATELIMIT_ENABLE = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


def _feedback(client, forwarded: str, remote_addr: str = PROXY):
    return client.post(
        "/feedback/",
        {"path": "/om/", "answer": "yes"},
        REMOTE_ADDR=remote_addr,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_rate_limits_count_each_client_behind_the_proxy_on_its_own(
    client, db, behind_proxy, rate_limits
):
    for _ in range(10):
        assert _feedback(client, "198.51.100.1").status_code == 303
    assert _feedback(client, "198.51.100.1").status_code == 429
    # Another company behind the same proxy is not blocked by the first one.
    assert _feedback(client, "198.51.100.2").status_code == 303
    # Nor can the first one escape by writing another address in front of the proxy's.
    assert _feedback(client, "203.0.113.5, 198.51.100.1").status_code == 429
    assert PageFeedback.objects.count() == 11


def test_a_client_cannot_escape_its_rate_limit_with_a_forged_header(
    client, db, behind_proxy, rate_limits
):
    for n in range(10):
        response = _feedback(client, f"203.0.113.{n}", remote_addr="198.51.100.50")
        assert response.status_code == 303
    assert _feedback(client, "203.0.113.99", remote_addr="198.51.100.50").status_code == 429


def _login(client, forwarded: str, password: str):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "raadgiver", "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_the_login_lockout_locks_the_guessing_client_not_everyone_behind_the_proxy(
    client, make_user, behind_proxy, settings
):
    settings.AXES_ENABLED = True
    make_user("raadgiver", organisation="vaeksthus-syddanmark", role="Rådgiver")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "198.51.100.66", "wrong-password")
    assert _login(client, "198.51.100.66", "a-long-test-password").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}

    # The adviser at her own desk, behind the same proxy, still logs in.
    response = _login(client, "198.51.100.20", "a-long-test-password")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_https_is_believed_only_from_a_trusted_proxy(client, db, behind_proxy, settings):
    settings.SECURE_SSL_REDIRECT = True
    from_proxy = client.get("/om/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https")
    forged = client.get("/om/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_PROTO="https")

    assert from_proxy.status_code == 200
    assert forged.status_code == 301
    assert forged["Location"].startswith("https://")
