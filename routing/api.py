"""The guidance-request API: POST /api/guidance-requests/, GET .../{token}/, statistics.

Input is checked twice on purpose: the serializer checks JSON types (a list where a list belongs)
and documents the fields in OpenAPI; ``routing.forms.GuidanceRequestForm`` then applies the same
rules and Danish messages as the page, so both channels accept and refuse the same requests.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.jsonbody import BoundedJSONParser, check_body_size
from core.parsing import parse_int
from core.ratelimit import over_limit, ratelimited
from crm import services as crm_services
from crm.selectors import case_public_timeline
from offers.fields import EMPLOYEES_MAX
from offers.models import Industry, Phase
from routing import forms
from routing.models import GuidanceRequest
from routing.presentation import hub_contact, public_status
from routing.services import (
    IdempotencyConflict,
    RoutingError,
    guidance_request_submit,
    promised_response_by,
)
from routing.statistics import guidance_statistics
from routing.views import SUBMIT_RATE

IDEMPOTENCY_KEY_MAX_LENGTH = 200
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


class GuidanceRequestInputSerializer(serializers.Serializer):
    cvr = serializers.CharField(
        max_length=forms.CVR_MAX_LENGTH, required=False, allow_blank=True, allow_null=True
    )
    company_name = serializers.CharField(
        max_length=forms.NAME_MAX_LENGTH, required=False, allow_blank=True
    )
    municipality = serializers.IntegerField(help_text="Kommunekode, f.eks. 630 (Vejle).")
    needs = serializers.CharField(max_length=forms.NEEDS_MAX_LENGTH, allow_blank=True)
    themes = serializers.ListField(
        child=serializers.SlugField(max_length=50), required=False, max_length=20
    )
    phase = serializers.ChoiceField(
        choices=Phase.choices, required=False, allow_blank=True, allow_null=True
    )
    employees = serializers.IntegerField(
        min_value=0, max_value=EMPLOYEES_MAX, required=False, allow_null=True
    )
    industry = serializers.ChoiceField(
        choices=Industry.choices,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="DB07-hovedafsnit A–U.",
    )
    industry_group = serializers.CharField(
        max_length=2,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="DB07-hovedgruppe: branchekodens to første cifre, f.eks. 31 (valgfri).",
    )
    contact_name = serializers.CharField(max_length=forms.NAME_MAX_LENGTH, allow_blank=True)
    contact_email = serializers.CharField(max_length=forms.EMAIL_MAX_LENGTH, allow_blank=True)
    contact_phone = serializers.CharField(
        max_length=forms.PHONE_MAX_LENGTH, required=False, allow_blank=True
    )
    consent = serializers.BooleanField(
        help_text=(
            "true: personen har fået privatlivspolitikken (/privatliv/). Vejledning er en "
            "offentlig opgave (databeskyttelsesforordningens art. 6, stk. 1, litra e, og "
            "databeskyttelsesloven); feltet er en bekræftelse af, at personen er oplyst, ikke et "
            "samtykke."
        )
    )


class HubSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()
    address = serializers.CharField()
    website = serializers.URLField()


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    values = serializers.ListField(child=serializers.CharField())


class AlternativeSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    title = serializers.CharField()


class MatchSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    title = serializers.CharField()
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())
    explanation = ReasonSerializer(
        many=True, help_text="The reasons as data (code and values; docs/matching.md)."
    )
    alternatives = AlternativeSerializer(
        many=True, help_text="Offers that cannot be combined with this one: choose one."
    )


class GuidanceRequestResultSerializer(serializers.Serializer):
    reference = serializers.CharField()
    token = serializers.CharField()
    status_url = serializers.URLField()
    hub = HubSerializer()
    expected_response_by = serializers.DateField()
    matches = MatchSerializer(many=True)


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    text = serializers.CharField()


class GuidanceRequestStatusSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    hub = HubSerializer()
    expected_response_by = serializers.DateField()
    received_at = serializers.DateTimeField()
    timeline = TimelineEntrySerializer(many=True)


EXAMPLE_REQUEST = {
    "cvr": "13585628",
    "company_name": "Vejle Maskinfabrik ApS",
    "municipality": 630,
    "needs": "Vi vil gerne begynde at eksportere vores maskiner til Tyskland.",
    "themes": ["export"],
    "phase": "growth",
    "employees": 25,
    "industry": "C",
    "contact_name": "Mette Hansen",
    "contact_email": "mette@vejle-maskinfabrik.dk",
    "contact_phone": "+45 12 34 56 78",
    "consent": True,
}
EXAMPLE_RESULT = {
    "reference": "EF-2026-000123",
    "token": "kD3v0m1Hq2y9v6Jm8b4pXw5nR7tZsA1cE0fG2hI3jK4",
    "status_url": "https://erhvervsfremme.dk/vejledning/kD3v0m1Hq2y9v6Jm8b4pXw5nR7tZsA1cE0fG2hI3jK4/",
    "hub": {
        "slug": "vaeksthus-syddanmark",
        "name": "Væksthus Syddanmark",
        "email": "kontakt@vaeksthus-syddanmark.dk",
        "phone": "+45 76 10 10 00",
        "address": "Vesterballevej 5, 7000 Fredericia",
        "website": "https://www.vaeksthus-syddanmark.dk",
    },
    "expected_response_by": "2026-12-01",
    "matches": [
        {
            "external_id": "eksportraadet-eksportstart",
            "title": "Eksportstart – rådgivning til virksomheder, der vil eksportere",
            "score": 82.5,
            "reasons": [
                "Svarer på det, du skriver: »begynde at eksportere« og »Tyskland«",
                "Handler om eksport og første skridt",
                "Matcher dit behov: eksport",
                "Tilbuddet: Rådgivning til virksomheder, der vil eksportere for første gang.",
                "For virksomheder med 10–49 ansatte",
            ],
            "explanation": [
                {"code": "need_words", "values": ["begynde at eksportere", "Tyskland"]},
                {"code": "topics", "values": ["export", "first_steps"]},
                {"code": "themes", "values": ["export"]},
                {
                    "code": "summary",
                    "values": ["Rådgivning til virksomheder, der vil eksportere for første gang."],
                },
                {"code": "size", "values": ["small"]},
            ],
            "alternatives": [
                {
                    "external_id": "erhvervsstyrelsen-eksportklar",
                    "title": "Eksportklar: sparring om jeres første skridt på eksportmarkederne",
                }
            ],
        }
    ],
}


def guidance_result(guidance_request: GuidanceRequest, request: HttpRequest) -> dict[str, Any]:
    """The 201 body; rebuilt from the stored request, so a retry gets the same body."""
    return {
        "reference": guidance_request.case.reference,
        "token": guidance_request.token,
        "status_url": request.build_absolute_uri(guidance_request.get_absolute_url()),
        # The hub that has the case now: an adviser may have handed it to another since it was
        # routed (``GuidanceRequest.hub`` keeps where routing sent it).
        "hub": hub_contact(guidance_request.case.hub),
        "expected_response_by": promised_response_by(guidance_request).isoformat(),
        "matches": [
            {
                "external_id": m["external_id"],
                "title": m["title"],
                "score": m["score"],
                "reasons": m["reasons"],
                # Requests stored before these existed have none.
                "explanation": m.get("explanation", []),
                "alternatives": m.get("alternatives", []),
            }
            for m in guidance_request.matches
        ],
    }


def _form_data(validated: dict[str, Any]) -> dict[str, Any]:
    """Serializer output as form data (None becomes an empty field)."""
    data = {key: ("" if value is None else value) for key, value in validated.items()}
    data["themes"] = list(validated.get("themes") or [])
    return data


class GuidanceRequestCreateView(APIView):
    # Anonymous by design; no session authentication, so no CSRF token is expected either.
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    # JSON only, as documented: a form-encoded body cannot say null or a list of themes. Bounded:
    # a body over the size limit is refused before it is read, too deep nesting answers 400.
    parser_classes = [BoundedJSONParser]

    input_serializer_class: type[serializers.Serializer] = GuidanceRequestInputSerializer

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        check_body_size(request)

    # Hooks for the partners' API (partners/api.py), which authenticates by key instead.
    def over_client_limit(self, request: Request) -> bool:
        return over_limit(request._request, group="routing:api", rate=SUBMIT_RATE)

    def stored_idempotency_key(self, request: Request, key: str | None) -> str | None:
        return key

    def submit_options(self, request: Request, validated: dict[str, Any]) -> dict[str, Any]:
        """Extra keyword arguments for ``guidance_request_submit`` (``source``, ``origin``)."""
        return {}

    @extend_schema(
        operation_id="guidance_requests_create",
        summary="Bed om vejledning",
        description=(
            "Opretter en sag hos det rette Væksthus med de tilbud, der passer. Send en "
            "`Idempotency-Key`-header (printbar ASCII, højst 200 tegn), så et nyt forsøg er "
            "ufarligt: samme nøgle med samme indhold giver det første svar (201) i stedet for en "
            "ny sag; samme nøgle med andet indhold giver 409. Fejl (400) står pr. felt, på dansk. "
            "Begrænset pr. klientadresse (429). Virksomheden får en kvittering på e-mail med "
            "sagsnummer og statuslink."
        ),
        request=GuidanceRequestInputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="En entydig nøgle pr. henvendelse, f.eks. et UUID.",
            )
        ],
        responses={
            201: GuidanceRequestResultSerializer,
            400: OpenApiResponse(
                description="Fejl pr. felt.",
                examples=[
                    OpenApiExample(
                        "Ugyldigt CVR-nummer",
                        value={
                            "cvr": [
                                "CVR-nummeret 12345678 findes ikke. Tjek, at du har skrevet "
                                "det rigtigt. Eller lad feltet stå tomt."
                            ]
                        },
                        response_only=True,
                        status_codes=["400"],
                    )
                ],
            ),
            409: OpenApiResponse(
                description="Idempotency-Key er allerede brugt til en anden henvendelse."
            ),
            429: OpenApiResponse(description="For mange henvendelser fra denne adresse."),
        },
        examples=[
            OpenApiExample("Henvendelse", value=EXAMPLE_REQUEST, request_only=True),
            OpenApiExample(
                "Oprettet", value=EXAMPLE_RESULT, response_only=True, status_codes=["201"]
            ),
        ],
        tags=["guidance"],
    )
    def post(self, request: Request) -> Response:
        if self.over_client_limit(request):
            return ratelimited(request._request)  # type: ignore[return-value]
        key = request.headers.get("Idempotency-Key")
        if key is not None and not _IDEMPOTENCY_KEY.match(key):
            return Response(
                {
                    "idempotency_key": [
                        _("Idempotency-Key skal være 1–200 synlige ASCII-tegn uden mellemrum.")
                    ]
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        serializer = self.input_serializer_class(data=request.data)
        if not serializer.is_valid():
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        form = forms.GuidanceRequestForm(data=_form_data(serializer.validated_data))
        extra = self.submit_options(request, serializer.validated_data)
        if not form.is_valid():
            errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            guidance_request = guidance_request_submit(
                submission=form.submission(),
                channel=GuidanceRequest.Channel.API,
                idempotency_key=self.stored_idempotency_key(request, key),
                **extra,
            )
        except IdempotencyConflict as error:
            return Response({"idempotency_key": [error.message]}, status=status.HTTP_409_CONFLICT)
        except RoutingError as error:
            return Response(
                {error.field or "non_field_errors": [error.message]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(
            guidance_result(guidance_request, request._request), status=status.HTTP_201_CREATED
        )


class GuidanceRequestDetailView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="guidance_requests_retrieve",
        summary="Status for en henvendelse",
        description=(
            "Status, Væksthuset og den offentlige del af sagens forløb, for det private token, "
            "der blev givet, da henvendelsen blev sendt."
        ),
        responses={200: GuidanceRequestStatusSerializer, 404: OpenApiResponse()},
        examples=[
            OpenApiExample(
                "Status",
                value={
                    "reference": "EF-2026-000123",
                    "status": "assigned",
                    "status_label": "En rådgiver har taget din sag",
                    "hub": EXAMPLE_RESULT["hub"],
                    "expected_response_by": "2026-12-01",
                    "received_at": "2026-11-27T10:15:00+01:00",
                    "timeline": [
                        {
                            "at": "2026-11-27T10:15:00+01:00",
                            "text": "Henvendelsen er modtaget af Væksthus Syddanmark.",
                        },
                        {
                            "at": "2026-11-27T13:02:00+01:00",
                            "text": "En rådgiver har taget din sag.",
                        },
                    ],
                },
                response_only=True,
            )
        ],
        tags=["guidance"],
    )
    def get(self, request: Request, token: str) -> Response:
        guidance_request = GuidanceRequest.objects.with_case().by_token(token)
        if guidance_request is None:
            return Response({"detail": _("Ikke fundet.")}, status=status.HTTP_404_NOT_FOUND)
        case = guidance_request.case
        body = {
            "reference": case.reference,
            "status": case.status,
            "status_label": str(public_status(case.status)),
            "hub": hub_contact(case.hub),
            "expected_response_by": crm_services.expected_response_by(case).isoformat(),
            "received_at": timezone.localtime(guidance_request.created_at).isoformat(),
            # A repeat request's token does not open the case's history (routing.repeats).
            "timeline": [
                {"at": timezone.localtime(entry.at).isoformat(), "text": entry.text}
                for entry in (case_public_timeline(case) if guidance_request.repeat is None else [])
            ],
        }
        response = Response(body)
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response


class IsAnalyst(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_superuser or user.is_analyst))


class GuidanceStatisticsView(APIView):
    permission_classes = [IsAnalyst]

    @extend_schema(
        operation_id="statistics_guidance",
        summary="Statistik over henvendelser",
        description=(
            "Henvendelser pr. måned, region og tema, og svartider pr. Væksthus (median i timer "
            "til første svar; andel besvaret inden for de lovede arbejdsdage). For analytikere."
        ),
        parameters=[
            OpenApiParameter(
                "year", OpenApiTypes.INT, description="Kun henvendelser modtaget i dette år."
            )
        ],
        responses={
            200: inline_serializer(
                "GuidanceStatistics",
                {
                    "year": serializers.IntegerField(allow_null=True),
                    "total": serializers.IntegerField(),
                    "response_working_days": serializers.IntegerField(),
                    "by_month": serializers.ListField(child=serializers.DictField()),
                    "by_region": serializers.ListField(child=serializers.DictField()),
                    "by_theme": serializers.ListField(child=serializers.DictField()),
                    "hubs": serializers.ListField(child=serializers.DictField()),
                    "by_source": serializers.ListField(
                        child=serializers.DictField(),
                        help_text="Pr. kilde og partner; count er null (suppressed) under "
                        "STATISTICS_MIN_COUNT.",
                    ),
                },
            )
        },
        examples=[
            OpenApiExample(
                "Statistik",
                value={
                    "year": 2026,
                    "total": 3,
                    "response_working_days": 2,
                    "by_month": [{"month": "2026-11", "count": 3}],
                    "by_region": [{"region": 1083, "name": "Region Syddanmark", "count": 3}],
                    "by_theme": [{"theme": "export", "name": "Eksport", "count": 2}],
                    "hubs": [
                        {
                            "hub": "vaeksthus-syddanmark",
                            "name": "Væksthus Syddanmark",
                            "requests": 3,
                            "responded": 2,
                            "median_response_hours": 5.5,
                            "within_promise_share": 0.5,
                        }
                    ],
                },
                response_only=True,
            )
        ],
        tags=["statistics"],
    )
    def get(self, request: Request) -> Response:
        year_param = request.query_params.get("year", "")
        year = None
        if year_param:
            year_number = parse_int(year_param, max_digits=4)
            if year_number is None or not 2000 <= year_number <= 2100:
                return Response(
                    {"year": [_("Skriv et årstal, f.eks. 2026.")]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            year = year_number
        figures = guidance_statistics(year=year, today=timezone.localdate())
        return Response(
            {
                "year": year,
                "total": figures.total,
                "response_working_days": settings.FIRST_RESPONSE_WORKING_DAYS,
                "by_month": figures.by_month,
                "by_region": figures.by_region,
                "by_theme": figures.by_theme,
                "by_source": figures.by_source,
                "hubs": [
                    {
                        "hub": hub.slug,
                        "name": hub.name,
                        "requests": hub.requests,
                        "responded": hub.responded,
                        "median_response_hours": hub.median_response_hours,
                        "within_promise_share": (
                            round(hub.within_promise_share, 3)
                            if hub.within_promise_share is not None
                            else None
                        ),
                    }
                    for hub in figures.hubs
                ],
            }
        )
