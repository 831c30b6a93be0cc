"""Hand-edited links and odd characters get a normal answer, never a server error."""

import pytest

from core.parsing import parse_int, without_nul


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("0042", 42),
        ("²", None),
        ("٣", None),
        ("-1", None),
        ("", None),
        ("1" * 10, None),
    ],
)
def test_parse_int_accepts_only_ascii_digits(text, expected):
    assert parse_int(text) == expected


def test_without_nul_drops_nul_characters():
    assert without_nul("a\x00b") == "ab"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/tilbud/?region=%C2%B2", 200),
        ("/tilbud/?municipality=%C2%B2&page=%C2%B2", 200),
        ("/api/offers/?municipality=%C2%B2", 400),
        ("/vejledning/?offer=a%00b", 200),
        ("/api/effects/?offer=a%00b", 400),
        ("/api/effects/?theme=a%00b", 200),
    ],
)
def test_odd_query_strings_get_a_normal_answer(client, db, url, status):
    assert client.get(url).status_code == status


def test_the_hub_preview_answers_an_odd_municipality_with_404(client, db):
    response = client.get("/vejledning/vaeksthus/?municipality=%C2%B2")
    assert response.status_code == 404
    assert response.json() == {"detail": "Ukendt kommune."}
