"""API plumbing shared by every app: error format and the root router."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from portal.outage import API_MESSAGE, is_outage, log_outage, retry_after_seconds


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus Django's ValidationError as a 400 with errors keyed by field, and a
    database outage as a 503 with a jittered Retry-After (``portal.outage``)."""
    if is_outage(exc):
        log_outage(exc)
        set_rollback()
        return Response(
            {"detail": API_MESSAGE},
            status=503,
            headers={"Retry-After": str(retry_after_seconds()), "Cache-Control": "no-store"},
        )
    if isinstance(exc, DjangoValidationError):
        exc = serializers.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    return drf_exception_handler(exc, context)
