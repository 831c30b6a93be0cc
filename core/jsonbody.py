"""JSON request bodies of the API, read with two limits: size and nesting.

Django answers a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with a bare HTML 400 page, and only
where ``request.body`` is read; DRF's ``JSONParser`` may read the stream whole, and Python's JSON
decoder answers a document nested some ten thousand levels deep with a ``RecursionError`` that
nothing catches: a 500. So the API views call ``check_body_size`` before ``request.data`` (413
with a Danish message, from ``Content-Length``, before anything is read), and parse with
``BoundedJSONParser``: it reads at most one byte more than the limit and answers too deep a
document with 400.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

DEFAULT_MAX_BYTES = 2_621_440  # Django's default DATA_UPLOAD_MAX_MEMORY_SIZE


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("Forespørgslen er for stor.")
    default_code = "request_too_large"


def max_body_bytes() -> int:
    limit = getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None)
    return int(limit) if limit else DEFAULT_MAX_BYTES


def too_large_message(limit: int) -> str:
    return str(gettext_lazy("Forespørgslen er for stor (højst %(kb)d kB).") % {"kb": limit // 1024})


def too_deep_message() -> str:
    return str(gettext_lazy("JSON-dokumentet er indlejret for dybt."))


def declared_length(meta: Any) -> int | None:
    """The request's ``Content-Length`` as a number, or None when absent or not a number."""
    text = str(meta.get("CONTENT_LENGTH") or "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def check_body_size(request: Any) -> None:
    """Refuse a request whose declared body is over the limit, with 413 and a message.

    Called by the API views before they touch ``request.data``: otherwise Django's own check on
    ``request.body`` answers with a bare HTML 400 page.
    """
    limit = max_body_bytes()
    length = declared_length(request.META)
    if length is not None and length > limit:
        raise RequestTooLarge(too_large_message(limit))


class BoundedJSONParser(JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = max_body_bytes()
        request = (parser_context or {}).get("request")
        length = declared_length(request.META) if request is not None else None
        if length is not None and length > limit:
            raise RequestTooLarge(too_large_message(limit))
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge(too_large_message(limit))
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise ParseError(too_deep_message()) from None
