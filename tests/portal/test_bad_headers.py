"""Odd request headers get a 400, a 401/403 or a normal answer, never a server error."""

from __future__ import annotations

import base64

import pytest
from axes.models import AccessAttempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def lockout_on(settings):
    # The lockout stores user names, user agents and addresses: where NUL used to hurt.
    settings.AXES_ENABLED = True
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    return settings


def _basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


@pytest.mark.parametrize(
    "authorization",
    [
        _basic(b"ad\x00min:secret"),
        _basic(b"admin:se\x00cret"),
        _basic(b"\xff\xfe:\x00"),
        "Basic !!!not-base64!!!",
        "Basic " + "A" * 10_000,
        "Basic",
        "Bearer \u00e6\u00f8\u00e5",
    ],
)
def test_the_api_ignores_any_authorization_header_it_does_not_use(
    client, lockout_on, authorization
):
    listing = client.get("/api/offers/", HTTP_AUTHORIZATION=authorization)
    submit = client.post(
        "/api/guidance-requests/",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization,
    )
    write = client.post(
        "/api/offers/", {}, content_type="application/json", HTTP_AUTHORIZATION=authorization
    )

    assert listing.status_code == 200
    assert submit.status_code == 400  # the empty request, field by field
    assert "municipality" in submit.json()
    assert write.status_code in {401, 403}
    assert not AccessAttempt.objects.exists()


def test_http_basic_is_not_an_api_login(client, make_user, lockout_on):
    make_user("redaktoer", organisation="region-midtjylland", role="Redaktør")
    response = client.post(
        "/api/offers/",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=_basic(b"redaktoer:a-long-test-password"),
    )
    assert response.status_code in {401, 403}


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("HTTP_USER_AGENT", "Mozilla\x00/5.0"),
        ("HTTP_ACCEPT", "text/html\x00"),
        ("HTTP_X_FORWARDED_FOR", "198.51.100.7\x00"),
        ("HTTP_REFERER", "https://example.dk/\r\nSet-Cookie: x=1"),
        ("HTTP_ACCEPT_LANGUAGE", "da\x1b[31m"),
    ],
)
def test_a_header_with_control_characters_is_a_bad_request(client, lockout_on, header, value):
    login = client.post(
        "/admin/login/",
        {"username": "someone", "password": "wrong"},
        REMOTE_ADDR="10.0.0.2",
        **{header: value},
    )
    page = client.get("/tilbud/", **{header: value})
    api = client.get("/api/offers/", **{header: value})

    assert login.status_code == 400
    assert page.status_code == 400
    assert api.status_code == 400
    assert api.json() == {"detail": "Ugyldig forespørgsel: en header indeholder kontroltegn."}
    assert not AccessAttempt.objects.exists()


def test_a_tab_and_non_ascii_in_headers_are_fine(client, lockout_on):
    response = client.get("/tilbud/", HTTP_USER_AGENT="Mozilla/5.0\t(Æblerød)")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "forwarded",
    ["1" * 100_000, "," * 10_000, "198.51.100.7, " * 3000, "[::1", "[]:80", "::::", "999.1.1.1"],
)
def test_a_huge_or_malformed_forwarded_for_gets_a_normal_answer(client, lockout_on, forwarded):
    for remote_addr in ("10.0.0.2", "198.51.100.9"):
        page = client.get("/tilbud/", REMOTE_ADDR=remote_addr, HTTP_X_FORWARDED_FOR=forwarded)
        login = client.post(
            "/admin/login/",
            {"username": "someone", "password": "wrong"},
            REMOTE_ADDR=remote_addr,
            HTTP_X_FORWARDED_FOR=forwarded,
        )
        assert page.status_code == 200
        assert login.status_code == 200  # the form again, with its error
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) <= {
        "10.0.0.2",
        "198.51.100.9",
        "198.51.100.7",
    }


def test_a_nul_in_the_login_name_is_a_form_error(client, lockout_on):
    response = client.post("/admin/login/", {"username": "ad\x00min", "password": "wrong"})
    assert response.status_code == 200
