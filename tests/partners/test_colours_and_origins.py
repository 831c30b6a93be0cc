"""The pure rules: accent colour contrast and registered origins."""

from __future__ import annotations

import pytest

from partners.colours import contrast_with_white
from partners.origins import embedding_page, normalise_origin, origin_of


def test_it_measures_contrast_against_white_as_wcag_does() -> None:
    assert contrast_with_white("#000000") == pytest.approx(21.0)
    assert contrast_with_white("#ffffff") == pytest.approx(1.0)
    # DKFDS blue passes 4.5:1, a light green does not.
    assert (contrast_with_white("#0059b3") or 0) > 4.5
    assert (contrast_with_white("#4caf50") or 0) < 4.5
    assert contrast_with_white("blue") is None


def test_it_normalises_origins_and_refuses_paths_wildcards_and_plain_http() -> None:
    assert normalise_origin("HTTPS://www.Vejle.dk/") == "https://www.vejle.dk"
    assert normalise_origin("https://www.vejle.dk:443") == "https://www.vejle.dk"
    assert normalise_origin("https://www.vejle.dk:8443") == "https://www.vejle.dk:8443"
    assert normalise_origin("http://127.0.0.1:8765") == "http://127.0.0.1:8765"
    assert normalise_origin("http://www.vejle.dk") is None
    assert normalise_origin("https://www.vejle.dk/erhverv") is None
    assert normalise_origin("https://*.vejle.dk") is None
    assert normalise_origin("javascript:alert(1)") is None
    assert origin_of("https://user:pw@www.vejle.dk/") is None


def test_the_page_is_kept_only_on_a_registered_origin_and_without_its_query() -> None:
    registered = ["https://www.vejle.dk"]
    assert (
        embedding_page(
            kilde="https://www.vejle.dk/erhverv/raadgivning?cpr=1#top",
            referer=None,
            registered=registered,
        )
        == "https://www.vejle.dk/erhverv/raadgivning"
    )
    assert embedding_page(kilde="https://evil.example/x", referer=None, registered=registered) == ""
    # The Referer (cut to the origin by default) is the fallback.
    assert (
        embedding_page(kilde="", referer="https://www.vejle.dk/", registered=registered)
        == "https://www.vejle.dk/"
    )
