"""The offers API: GET /api/offers/ (search with facet counts), GET/PUT/PATCH one offer, POST.

Reading is public: published and archived offers. Drafts are visible only to editors whose
organisation owns or operates them. Writing needs an editor (the ``offers.add_offer`` /
``offers.change_offer`` permission) acting for an organisation that owns or operates the offer,
as in the admin; the fields are the import format's (owner/operator/themes as slugs,
regions/municipalities as codes). Writes go through ``offers.services.offer_save``, which
refreshes the search index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet, TextChoices
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.jsonbody import BoundedJSONParser, check_body_size
from core.parsing import blank_parameters
from offers.catalogue_format import ALL_FIELDS, industry_groups_problems
from offers.forms import FLAG_VALUES, OfferSearchForm
from offers.models import (
    CompanySize,
    Industry,
    Level,
    Municipality,
    Offer,
    Organisation,
    Phase,
    Price,
    Region,
    Theme,
)
from offers.public_cache import serve_public
from offers.search import FACETS, MAX_QUERY_LENGTH, SearchResult, prepare_search, run_search
from offers.services import OfferError, offer_save, user_can_edit

UNKNOWN_MESSAGES = {
    "theme": gettext_lazy("Ukendt tema: %(values)s."),
    "operator": gettext_lazy("Ukendt operatør: %(values)s."),
    "region": gettext_lazy("Ukendt regionskode: %(values)s."),
    "municipality": gettext_lazy("Ukendt kommunekode: %(values)s."),
}


# --- Serializers --------------------------------------------------------------------------------


def _choice_list(choices: type[TextChoices], **kwargs: Any) -> serializers.ListField:
    """A list of choice values, its enum written inline in the schema.

    The same vocabularies appear under other names in other apps' schemas (a guidance request
    has one ``phase``); inline enums keep drf-spectacular from naming one choice set twice.
    """

    @extend_schema_field({"type": "string", "enum": list(choices.values)})
    class ValueField(serializers.ChoiceField):
        pass

    return serializers.ListField(child=ValueField(choices=choices.choices), **kwargs)


class OfferSummarySerializer(serializers.Serializer):
    """One search result. Built by hand in ``to_representation``: 20 rows per page must cost
    microseconds, and every value comes from the search's own queries (no query per row)."""

    external_id = serializers.SlugField()
    title = serializers.CharField()
    summary = serializers.CharField()
    level = serializers.ChoiceField(choices=Level.choices)
    owner = serializers.SlugField(help_text="Ejerens kort navn (slug).")
    operator = serializers.SlugField(help_text="Operatørens kort navn (slug).")
    themes = serializers.ListField(child=serializers.SlugField())
    phases = _choice_list(Phase)
    company_sizes = _choice_list(CompanySize)
    industries = _choice_list(
        Industry, help_text="DB07-hovedafsnit; tom liste betyder alle brancher."
    )
    nationwide = serializers.BooleanField()
    regions = serializers.ListField(child=serializers.IntegerField())
    municipalities = serializers.ListField(child=serializers.IntegerField())
    price = serializers.ChoiceField(choices=Price.choices)
    application_deadline = serializers.DateField(allow_null=True)
    valid_from = serializers.DateField(allow_null=True)
    valid_to = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=Offer.Status.choices)
    url = serializers.URLField(allow_blank=True, help_text="Udbyderens egen side om tilbuddet.")
    is_open = serializers.BooleanField(help_text="Kan søges i dag (frist og gyldighed).")
    last_reviewed = serializers.DateField(allow_null=True)
    detail_url = serializers.URLField(help_text="Tilbuddet i API'et.")
    page_url = serializers.URLField(help_text="Tilbuddets side på portalen.")

    def to_representation(self, instance: Offer) -> dict[str, Any]:
        context = self.context
        today: dt.date = context["today"]
        theme_slugs: Mapping[int, str] = context["theme_slugs"]
        base: str = context["base_url"]
        return {
            "external_id": instance.external_id,
            "title": instance.title,
            "summary": instance.summary,
            "level": instance.level,
            "owner": instance.owner.slug,
            "operator": instance.operator.slug,
            "themes": [theme_slugs[i] for i in instance.theme_ids if i in theme_slugs],
            "phases": list(instance.phases),
            "company_sizes": list(instance.company_sizes),
            "industries": list(instance.industries),
            "nationwide": instance.nationwide,
            "regions": list(instance.regions),
            "municipalities": list(instance.municipalities),
            "price": instance.price,
            "application_deadline": _iso(instance.application_deadline),
            "valid_from": _iso(instance.valid_from),
            "valid_to": _iso(instance.valid_to),
            "status": instance.status,
            "url": instance.url,
            "is_open": instance.is_open_on(today),
            "last_reviewed": _iso(instance.last_reviewed),
            "detail_url": f"{base}/api/offers/{instance.external_id}/",
            "page_url": f"{base}{instance.get_absolute_url()}",
        }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="Værdien, som den skrives i søgeparameteren.")
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField(
        help_text="Tilbud med denne værdi, når alle de andre valgte filtre gælder."
    )


class FacetsSerializer(serializers.Serializer):
    theme = FacetValueSerializer(many=True)
    level = FacetValueSerializer(many=True)
    phase = FacetValueSerializer(many=True)
    size = FacetValueSerializer(many=True)
    industry = FacetValueSerializer(many=True)
    region = FacetValueSerializer(many=True)
    price = FacetValueSerializer(many=True)
    operator = FacetValueSerializer(many=True)
    municipality = FacetValueSerializer(
        many=True,
        help_text="Alle kommuner (værdien er kommunekoden). Et tilbud tæller for en kommune, når "
        "det gælder i hele landet, i kommunens region eller i kommunen.",
    )


# One object with the page of results and the facets, not a list of offers.
@extend_schema_serializer(many=False)
class OfferSearchResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = OfferSummarySerializer(many=True)
    facets = FacetsSerializer()


class CodeListField(serializers.ListField):
    """Region or municipality codes that must exist."""

    def __init__(self, model: type[Region] | type[Municipality], **kwargs: Any) -> None:
        self.model = model
        kwargs.setdefault("child", serializers.IntegerField(min_value=1))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[int]:
        codes: list[int] = sorted(set(super().to_internal_value(data)))
        known = set(self.model.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = [str(code) for code in codes if code not in known]
        if unknown:
            raise ValidationError(_("Ukendte koder: %(codes)s.") % {"codes": ", ".join(unknown)})
        return codes


class OfferSerializer(serializers.ModelSerializer):
    """One offer with every import-format field (plus the page's longer texts)."""

    owner = serializers.SlugRelatedField(slug_field="slug", queryset=Organisation.objects.all())
    operator = serializers.SlugRelatedField(slug_field="slug", queryset=Organisation.objects.all())
    themes = serializers.SlugRelatedField(
        slug_field="slug", queryset=Theme.objects.all(), many=True
    )
    phases = _choice_list(Phase, min_length=1)
    company_sizes = _choice_list(CompanySize, min_length=1)
    industries = _choice_list(
        Industry, required=False, help_text="DB07-hovedafsnit; tom liste betyder alle brancher."
    )
    industry_groups = serializers.ListField(
        child=serializers.CharField(max_length=2),
        required=False,
        help_text=(
            "DB07-hovedgrupper (to cifre, f.eks. 31) inden for `industries`; tom liste betyder "
            "alle grupper."
        ),
    )
    regions = CodeListField(Region, help_text="Regionskoder (1081–1085).")
    municipalities = CodeListField(Municipality, help_text="Kommunekoder, f.eks. 751.")
    cannot_combine_with = serializers.SlugRelatedField(
        slug_field="external_id",
        queryset=Offer.objects.all(),
        many=True,
        required=False,
        help_text="Tilbud (external_id), der ikke kan kombineres med dette.",
    )
    is_open = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = Offer
        # The import/export format (docs/interfaces.md), plus two read-only conveniences.
        fields = [*ALL_FIELDS, "is_open", "page_url"]
        # A simple field, so the services' messages reach the right key; the database
        # constraint still guards uniqueness.
        extra_kwargs: dict[str, dict[str, Any]] = {"external_id": {"validators": []}}
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if "industry_groups" in attrs:
            industries = attrs.get(
                "industries", self.instance.industries if self.instance is not None else []
            )
            problems = industry_groups_problems(attrs["industry_groups"], industries)
            if problems:
                raise serializers.ValidationError({"industry_groups": problems})
            attrs["industry_groups"] = sorted(set(attrs["industry_groups"]))
        return attrs

    def get_is_open(self, offer: Offer) -> bool:
        return offer.is_open_on(timezone.localdate())

    def get_page_url(self, offer: Offer) -> str:
        request = self.context.get("request")
        path = offer.get_absolute_url()
        return request.build_absolute_uri(path) if request else path

    def validate_external_id(self, value: str) -> str:
        if self.instance is not None and value != self.instance.external_id:
            raise ValidationError(_("Den eksterne id kan ikke ændres."))
        if self.instance is None and Offer.objects.filter(external_id=value).exists():
            raise ValidationError(_("Der findes allerede et tilbud med denne eksterne id."))
        return value


# --- Views --------------------------------------------------------------------------------------

# Parameters whose values come from a fixed list: an empty value is refused, not ignored.
CHOICE_PARAMETERS = ("level", "phase", "size", "industry", "price", "sort")
BLANK_MESSAGE = gettext_lazy("Angiv en værdi, eller udelad parameteren.")

_LIST_PARAMETERS = [
    OpenApiParameter(
        "q",
        {"type": "string", "maxLength": MAX_QUERY_LENGTH},
        description="Fritekst (højst 200 tegn). Dansk stemming, sammensatte ord og stavefejl "
        'håndteres; "citat", -udelad og or virker som i websøgning.',
        examples=[OpenApiExample("Eksport", value="eksportrådgivning")],
    ),
    *[
        OpenApiParameter(
            name,
            kind,
            many=True,
            explode=True,
            description=description + " Kan gentages: ELLER inden for parameteren, OG på tværs.",
            enum=enum,
        )
        for name, kind, description, enum in [
            ("theme", OpenApiTypes.STR, "Tema (slug), f.eks. export.", None),
            ("level", OpenApiTypes.STR, "Niveau.", Level.values),
            ("phase", OpenApiTypes.STR, "Virksomhedens fase.", Phase.values),
            ("size", OpenApiTypes.STR, "Virksomhedsstørrelse.", CompanySize.values),
            (
                "industry",
                OpenApiTypes.STR,
                "DB07-hovedafsnit (tilbud uden brancher gælder alle).",
                Industry.values,
            ),
            ("region", OpenApiTypes.INT, "Regionskode, f.eks. 1084.", None),
            ("municipality", OpenApiTypes.INT, "Kommunekode, f.eks. 751.", None),
            ("price", OpenApiTypes.STR, "Pris.", Price.values),
            ("operator", OpenApiTypes.STR, "Operatør (organisationens slug).", None),
        ]
    ],
    OpenApiParameter(
        "include_closed",
        OpenApiTypes.STR,
        enum=sorted(FLAG_VALUES),
        description="1 (eller true, ja): vis også offentliggjorte tilbud, der er lukket (frist "
        "eller gyldighed overskredet, eller arkiveret). 0 eller tom: kun åbne tilbud.",
    ),
    OpenApiParameter(
        "sort",
        OpenApiTypes.STR,
        enum=["relevance", "deadline", "newest"],
        description="Rækkefølge; relevance er standard. En tom værdi giver 400.",
    ),
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1},
        description="Side (20 tilbud pr. side). En side efter den sidste giver en tom "
        "results-liste (200), ikke 404.",
    ),
    OpenApiParameter(
        "If-None-Match",
        OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        description="ETag fra et tidligere svar: 304 uden indhold, hvis kataloget er uændret.",
    ),
]
# The body of a 400: each refused parameter with its messages (Danish).
_PARAMETER_ERRORS = {
    "type": "object",
    "description": "Fejl pr. parameter: parameterens navn og dens fejlbeskeder.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "minProperties": 1,
}

_SEARCH_EXAMPLE = OpenApiExample(
    "Søgning med facetter",
    response_only=True,
    value={
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "external_id": "eksportraadet-markedsafklaring",
                "title": "Markedsafklaring – få et konkret billede af jeres nye eksportmarked",
                "summary": "Eksportrådet undersøger, om der er efterspørgsel på markedet.",
                "level": "state",
                "owner": "eksportraadet",
                "operator": "eksportraadet",
                "themes": ["export"],
                "phases": ["growth", "established"],
                "company_sizes": ["micro", "small", "medium"],
                "industries": [],
                "nationwide": True,
                "regions": [],
                "municipalities": [],
                "price": "subsidised",
                "application_deadline": None,
                "valid_from": "2025-04-01",
                "valid_to": None,
                "status": "published",
                "url": "https://www.eksportraadet.dk/tilbud/markedsafklaring",
                "is_open": True,
                "last_reviewed": "2026-04-18",
                "detail_url": "https://erhvervsfremme.example/api/offers/eksportraadet-markedsafklaring/",
                "page_url": "https://erhvervsfremme.example/tilbud/eksportraadet-markedsafklaring/",
            }
        ],
        "facets": {
            "theme": [{"value": "export", "label": "Eksport", "count": 1}],
            "level": [{"value": "state", "label": "Stat", "count": 1}],
            "phase": [{"value": "growth", "label": "Vækst", "count": 1}],
            "size": [{"value": "small", "label": "10–49 ansatte", "count": 1}],
            "industry": [{"value": "C", "label": "Fremstillingsvirksomhed", "count": 1}],
            "region": [{"value": "1084", "label": "Region Hovedstaden", "count": 1}],
            "price": [{"value": "subsidised", "label": "Medfinansieret", "count": 1}],
            "operator": [{"value": "eksportraadet", "label": "Eksportrådet", "count": 1}],
            "municipality": [{"value": "630", "label": "Vejle Kommune", "count": 1}],
        },
    },
)

_BAD_REQUEST_EXAMPLE = OpenApiExample(
    "Ukendt filterværdi",
    response_only=True,
    status_codes=["400"],
    value={"theme": ["Ukendt tema: eksprt."], "page": ["Sidetallet skal være et helt tal fra 1."]},
)

_WRITE_EXAMPLE = OpenApiExample(
    "Nyt tilbud",
    request_only=True,
    value={
        "external_id": "vaeksthus-midtjylland-digital-start",
        "title": "Digital start – sparring om jeres første digitale skridt",
        "summary": "To møder med en digitaliseringskonsulent og en konkret handlingsplan.",
        "level": "region",
        "owner": "region-midtjylland",
        "operator": "vaeksthus-midtjylland",
        "themes": ["digitalisation"],
        "phases": ["startup", "growth"],
        "company_sizes": ["micro", "small"],
        "industries": [],
        "nationwide": True,
        "regions": [],
        "municipalities": [],
        "price": "free",
        "status": "draft",
    },
)


class CanEditOffers(permissions.BasePermission):
    """Anyone may read; writing needs an editor's model permission (scope is checked per offer)."""

    message = gettext_lazy("Kun redaktører kan oprette og ændre tilbud.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        codename = "offers.add_offer" if request.method == "POST" else "offers.change_offer"
        return bool(user.has_perm(codename))


@extend_schema_view(
    list=extend_schema(
        summary="Søg i tilbud",
        description="Samme søgning som /tilbud/: fritekst, filtre og facetter med antal. Lukkede "
        "tilbud er skjult, medmindre include_closed=1. Ukendte filterværdier giver 400.",
        parameters=_LIST_PARAMETERS,
        responses={
            200: OfferSearchResponseSerializer,
            304: OpenApiResponse(
                description="Uændret siden svaret med den ETag, der blev sendt i If-None-Match "
                "(kun for anonyme klienter; svaret har intet indhold)."
            ),
            400: OpenApiResponse(response=_PARAMETER_ERRORS, description="Fejl pr. parameter."),
        },
        examples=[_SEARCH_EXAMPLE, _BAD_REQUEST_EXAMPLE],
        # A page past the last one answers an empty list, so no 404 (portal/openapi.py).
        extensions={"x-empty-past-last-page": True},
    ),
    retrieve=extend_schema(summary="Ét tilbud med alle felter"),
    create=extend_schema(
        summary="Opret et tilbud (redaktører)",
        examples=[_WRITE_EXAMPLE],
        responses={201: OfferSerializer, 400: OpenApiResponse(description="Fejl pr. felt.")},
    ),
    update=extend_schema(summary="Erstat et tilbud (redaktører)"),
    partial_update=extend_schema(summary="Ret felter i et tilbud (redaktører)"),
)
class OfferViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = OfferSerializer
    # IsAuthenticatedOrReadOnly first: reading needs no login, and the schema says so.
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, CanEditOffers]
    lookup_field = "external_id"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filter_backends: list[Any] = []
    pagination_class = None
    # JSON only (the import format); a body over the size limit is refused before it is read,
    # and too deep nesting answers 400 instead of a RecursionError.
    parser_classes = [BoundedJSONParser]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Anonymous reads are kept under the catalogue's version (offers/public_cache.py).
        parent = super().dispatch
        if request.method == "GET":
            return serve_public(request, lambda: parent(request, *args, **kwargs))
        return parent(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method not in permissions.SAFE_METHODS:
            check_body_size(request)

    def get_queryset(self) -> QuerySet[Offer]:
        visible = Q(status__in=[Offer.Status.PUBLISHED, Offer.Status.ARCHIVED])
        editable = Offer.objects.editable_by(self.request.user).values("pk")
        return (
            Offer.objects.filter(visible | Q(pk__in=editable))
            .select_related("owner", "operator")
            .prefetch_related("themes", "cannot_combine_with")
            .defer("search_text", "search_vector")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        blank = blank_parameters(request.query_params.getlist, CHOICE_PARAMETERS)
        if blank:
            raise ValidationError({name: [str(BLANK_MESSAGE)] for name in blank})
        form = OfferSearchForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(
                {name: [str(e) for e in errors] for name, errors in form.errors.items()}
            )
        search, prepared, unknown = prepare_search(form.search())
        if unknown:
            raise ValidationError(
                {
                    name: [str(UNKNOWN_MESSAGES[name]) % {"values": ", ".join(values)}]
                    for name, values in unknown.items()
                }
            )
        today = timezone.localdate()
        result = run_search(search, today=today, clamp_page=False, prepared=(search, prepared, {}))
        return Response(self._search_body(request, result, today))

    def _search_body(
        self, request: Request, result: SearchResult, today: dt.date
    ) -> dict[str, Any]:
        base_url = request.build_absolute_uri("/").rstrip("/")
        search = result.search

        def link(page: int) -> str:
            query = search.on_page(page).querystring()
            return f"{base_url}{request.path}" + (f"?{query}" if query else "")

        summary = OfferSummarySerializer(
            context={
                "today": today,
                "base_url": base_url,
                "theme_slugs": {pk: slug for pk, (slug, _label) in result.theme_labels.items()},
            }
        )
        previous_page = min(search.page - 1, result.num_pages)
        return {
            "count": result.total,
            "next": link(search.page + 1) if search.page < result.num_pages else None,
            "previous": link(previous_page) if previous_page >= 1 else None,
            "results": [summary.to_representation(offer) for offer in result.offers],
            "facets": {
                name: [
                    {"value": v.value, "label": v.label, "count": v.count}
                    for v in result.facets[name]
                ]
                for name in FACETS
            },
        }

    def perform_create(self, serializer: serializers.BaseSerializer[Offer]) -> None:
        data = dict(serializer.validated_data)
        user = self.request.user
        owner, operator = data.get("owner"), data.get("operator")
        if not user_can_edit(
            user=user,
            owner_id=owner.pk if owner else None,
            operator_id=operator.pk if operator else None,
        ):
            raise PermissionDenied(
                _("Du kan kun oprette tilbud, som din organisation ejer eller driver.")
            )
        serializer.instance = self._save(data=data)

    def perform_update(self, serializer: serializers.BaseSerializer[Offer]) -> None:
        offer = serializer.instance
        assert offer is not None
        if not Offer.objects.editable_by(self.request.user).filter(pk=offer.pk).exists():
            raise PermissionDenied(
                _("Du kan kun ændre tilbud, som din organisation ejer eller driver.")
            )
        data = dict(serializer.validated_data)
        data.pop("external_id", None)
        serializer.instance = self._save(offer=offer, data=data)

    def _save(self, *, data: dict[str, Any], offer: Offer | None = None) -> Offer:
        try:
            saved = offer_save(user=self.request.user, offer=offer, data=data)
        except OfferError as error:
            raise ValidationError(error.errors or {"non_field_errors": [error.message]}) from error
        # Fresh from the database: the response shows what was stored, themes included.
        return self.get_queryset().get(pk=saved.pk)

    def get_object(self) -> Offer:
        try:
            return super().get_object()
        except Http404:
            raise NotFound(_("Tilbuddet findes ikke.")) from None
