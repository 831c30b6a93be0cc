"""The partners' API: the catalogue and guidance requests, with an API key (``/api/partner/``).

The same operations as the public ``/api/offers/`` and ``/api/guidance-requests/``, answered by the
same code, with three differences: a key is required (401) and must carry the operation's scope
(403); the rate limit is per key, not per address (429); and a guidance request is sent on a
company's behalf, so the partner must also confirm that the company was given the portal's
privacy notice (``privacy_notice_given``), which is recorded on the case with the partner and the
key. The integrator's guide is ``INTEGRATOR_GUIDE`` (shown at ``/api/docs/``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.request import Request

from crm.models import Case
from crm.services import CaseOrigin
from offers.api import OfferViewSet
from partners.authentication import ApiKeyAuthentication, ApiKeyThrottle, HasScope
from partners.models import ApiKey, Scope
from routing.api import (
    GuidanceRequestCreateView,
    GuidanceRequestInputSerializer,
    GuidanceRequestResultSerializer,
)

_KEY_ERRORS = {
    401: OpenApiResponse(
        description="API-nøglen mangler, er ukendt, udløbet eller spærret "
        "(`code`: key_missing, key_invalid, key_expired, key_revoked)."
    ),
    403: OpenApiResponse(description="Nøglen har ikke rettigheden (`code`: scope_missing)."),
    429: OpenApiResponse(description="For mange kald med denne nøgle; se Retry-After."),
}


class PartnerGuidanceRequestInputSerializer(GuidanceRequestInputSerializer):
    privacy_notice_given = serializers.BooleanField(
        help_text="Virksomheden har fået portalens oplysning om behandling af personoplysninger "
        "(/privatliv/) og har givet samtykke (consent) til, at I sender henvendelsen."
    )

    def validate_privacy_notice_given(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(
                _("Virksomheden skal have fået oplysningen om behandling af personoplysninger.")
            )
        return value

    def validate_consent(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(
                _("Virksomheden skal have givet samtykke, før I sender henvendelsen.")
            )
        return value


def _key(request: Request) -> ApiKey:
    key = request.auth
    assert isinstance(key, ApiKey)
    return key


class PartnerGuidanceRequestCreateView(GuidanceRequestCreateView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [ApiKeyThrottle]
    required_scope = Scope.GUIDANCE_SUBMIT
    input_serializer_class = PartnerGuidanceRequestInputSerializer

    def over_client_limit(self, request: Request) -> bool:
        return False  # limited per key by ApiKeyThrottle instead

    def stored_idempotency_key(self, request: Request, key: str | None) -> str | None:
        # Per partner: one partner's key never finds another partner's request.
        if not key:
            return None
        return f"partner-{_key(request).partner_id}:{hashlib.sha256(key.encode()).hexdigest()}"

    def submit_options(self, request: Request, validated: dict[str, Any]) -> dict[str, Any]:
        key = _key(request)
        return {
            "source": Case.Source.PARTNER_API,
            "origin": CaseOrigin(
                partner_id=key.partner_id,
                api_key_id=key.pk,
                details={
                    "partner": key.partner.slug,
                    "api_key": key.prefix,
                    "consent_on_behalf": True,
                    "privacy_notice_given": bool(validated.get("privacy_notice_given")),
                },
            ),
        }

    @extend_schema(
        operation_id="partner_guidance_requests_create",
        summary="Send en henvendelse for en virksomhed (partner-API)",
        description=(
            "Som `POST /api/guidance-requests/`, men med en API-nøgle med rettigheden "
            "`guidance:submit`, på vegne af en virksomhed, der har givet samtykke "
            "(`consent: true`) og fået oplysningen om behandling af personoplysninger "
            "(`privacy_notice_given: true`). Sagen får partneren og nøglen som kilde. "
            "`Idempotency-Key` gælder pr. partner."
        ),
        request=PartnerGuidanceRequestInputSerializer,
        responses={
            201: GuidanceRequestResultSerializer,
            400: OpenApiResponse(description="Fejl pr. felt."),
            **_KEY_ERRORS,
        },
        tags=["partner"],
    )
    def post(self, request: Request) -> Any:
        return super().post(request)


@extend_schema_view(
    list=extend_schema(
        operation_id="partner_offers_list",
        summary="Søg i kataloget (partner-API)",
        description="Som `GET /api/offers/`, med en API-nøgle med rettigheden `catalogue:read`.",
        responses={**_KEY_ERRORS},
        tags=["partner"],
    ),
    retrieve=extend_schema(
        operation_id="partner_offers_retrieve",
        summary="Ét tilbud (partner-API)",
        description="Som `GET /api/offers/{external_id}/`, med rettigheden `catalogue:read`.",
        responses={**_KEY_ERRORS},
        tags=["partner"],
    ),
)
class PartnerOfferViewSet(OfferViewSet):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [ApiKeyThrottle]
    required_scope = Scope.CATALOGUE_READ
    http_method_names = ["get", "head", "options"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Never from the public copy: every call is checked against its key first.
        return viewsets.GenericViewSet.dispatch(self, request, *args, **kwargs)
