"""GET /api/effects/: published effects per offer, or rolled up per operator, level, theme, region.

Public and read-only. Only results of completed runs are returned (see
``EffectEstimate.objects.published``); each row names the run it comes from. What a run stores
already follows the disclosure rule (``evaluation/disclosure.py``); the counts of each row are
shown through it as well, so no count below ``EFFECT_MIN_TREATED`` is ever returned.
"""

from __future__ import annotations

from typing import Any, Final

from django.conf import settings
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.parsing import blank_parameters, without_nul
from evaluation import disclosure
from evaluation.estimators import INDICATORS
from evaluation.models import PUBLISHED_RESULT_FIELDS, EffectEstimate, EffectRollup
from offers.models import Level, Offer

UNITS: Final = {
    "employment": "fte",
    "revenue": "dkk",
    "value_added": "dkk",
    "export": "dkk",
    "productivity": "dkk_per_fte",
}
ROLLUP_PARAMETERS: Final = ("operator", "level", "theme", "region")
LEVELS: Final = tuple(Level.values)


def _choice(values: list[str], **kwargs: Any) -> serializers.ChoiceField:
    """A choice field whose enum is written inline in the schema.

    Other apps' schemas have fields named ``status`` and ``level`` with other values; inline
    enums keep drf-spectacular from naming different choice sets alike.
    """

    @extend_schema_field({"type": "string", "enum": values})
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=values, **kwargs)


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    finished_at = serializers.DateTimeField(allow_null=True)


class EffectSerializer(serializers.Serializer):
    """One indicator's effect for one offer (``dimension`` "offer") or one roll-up group."""

    dimension = _choice(
        ["offer", *ROLLUP_PARAMETERS],
        help_text="offer, eller den dimension, der er samlet på (operator, level, theme, region).",
    )
    key = serializers.CharField(
        help_text="Tilbuddets external_id, eller gruppens korte navn (level, theme, operator) "
        "eller regionskode."
    )
    name = serializers.CharField(help_text="Tilbuddets titel eller gruppens navn.")
    indicator = _choice(list(INDICATORS))
    unit = _choice(
        ["fte", "dkk", "dkk_per_fte"],
        help_text="fte: fuldtidsansatte; dkk: kroner; "
        "dkk_per_fte: værditilvækst pr. fuldtidsansat.",
    )
    status = _choice(
        ["ok", "too_few", "no_data"],
        help_text="ok: målt; too_few: for få deltagere til at vise et tal; "
        "no_data: intet at måle (se reason).",
    )
    reason = serializers.CharField(help_text="Hvorfor der ikke er et tal; tom ved ok.")
    estimate = serializers.FloatField(
        allow_null=True,
        help_text="Gennemsnitlig effekt pr. deltager på ændringen fra året før deltagelsen til "
        "to år efter (matchet difference-in-differences).",
    )
    std_error = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True, help_text="95 %-konfidensinterval, nedre.")
    ci_high = serializers.FloatField(allow_null=True, help_text="95 %-konfidensinterval, øvre.")
    n_treated = serializers.IntegerField(
        allow_null=True,
        help_text="Deltagere i skønnet; null uden et tal (status too_few eller no_data), så "
        "intet antal under grænsen for offentliggørelse vises.",
    )
    n_control = serializers.IntegerField(
        allow_null=True,
        help_text="Forskellige sammenligningsvirksomheder brugt; null uden et tal.",
    )
    n_unmatched = serializers.IntegerField(
        allow_null=True,
        help_text="Offentliggøres ikke (altid null): deltagere uden en sammenlignelig "
        "virksomhed kan være en gruppe under grænsen for offentliggørelse.",
    )
    n_cohorts = serializers.IntegerField(help_text="Deltagelsesår lagt sammen.")
    naive_estimate = serializers.FloatField(
        allow_null=True,
        help_text="Deltagernes gennemsnitlige ændring minus alle ikke-deltageres (uden matching).",
    )
    method = serializers.CharField()
    baseline_offset = serializers.IntegerField(
        help_text="Udgangsåret i forhold til deltagelsesåret (-1)."
    )
    outcome_offset = serializers.IntegerField(
        help_text="Resultatåret i forhold til deltagelsesåret (+2)."
    )
    extra = serializers.FloatField(
        allow_null=True,
        help_text="Effekt gange deltagere, f.eks. ekstra fuldtidsjob; null for produktivitet.",
    )
    extra_ci_low = serializers.FloatField(allow_null=True)
    extra_ci_high = serializers.FloatField(allow_null=True)
    run = RunSerializer()


_EXAMPLE: Final = {
    "dimension": "offer",
    "key": "eksportraadet-markedsafklaring",
    "name": "Markedsafklaring – få et konkret billede af jeres nye eksportmarked",
    "indicator": "employment",
    "unit": "fte",
    "status": "ok",
    "reason": "",
    "estimate": 1.84,
    "std_error": 0.41,
    "ci_low": 1.04,
    "ci_high": 2.64,
    "n_treated": 212,
    "n_control": 597,
    "n_unmatched": None,
    "n_cohorts": 4,
    "naive_estimate": 3.12,
    "method": "nn-matching-did-ai-bc",
    "baseline_offset": -1,
    "outcome_offset": 2,
    "extra": 390.1,
    "extra_ci_low": 220.5,
    "extra_ci_high": 559.7,
    "run": {"id": 17, "finished_at": "2026-11-22T02:41:07+01:00"},
}


def _indicator_order() -> Case:
    return Case(
        *[When(indicator=name, then=Value(i)) for i, name in enumerate(INDICATORS)],
        output_field=IntegerField(),
    )


def effect_row(item: EffectEstimate | EffectRollup) -> dict[str, Any]:
    """The API's view of one stored effect: counts as the disclosure rule lets them be shown."""
    if isinstance(item, EffectEstimate):
        dimension, key, name = "offer", item.offer.external_id, item.offer.title
        reason = item.reason
    else:
        dimension, key, name = item.dimension, item.key, item.label
        reason = ""
    return {
        "dimension": dimension,
        "key": key,
        "name": name,
        "unit": UNITS[item.indicator],
        "reason": reason,
        "run": {"id": item.run_id, "finished_at": item.run.finished_at},
        **{name: getattr(item, name) for name in PUBLISHED_RESULT_FIELDS},
        **disclosure.public_counts(
            item.status, item.n_treated, item.n_control, min_treated=settings.EFFECT_MIN_TREATED
        ),
    }


def _values(request: Request, name: str) -> list[str]:
    values = (without_nul(value).strip() for value in request.query_params.getlist(name))
    return [value for value in values if value]


@extend_schema(
    summary="Målte effekter pr. tilbud eller samlet",
    description=(
        "Offentliggjorte effekter af tilbuddene på deltagernes beskæftigelse, omsætning, "
        "værditilvækst, eksport og produktivitet: ændringen fra året før deltagelsen (udgangsår, "
        "offset -1) til to år efter (offset +2), sammenlignet med matchede virksomheder, der ikke "
        "deltog i noget tilbud (matchet difference-in-differences, 95 %-konfidensinterval). "
        "Med `offer`: én række pr. indikator for hvert tilbud. Med `operator`, `level`, `theme` "
        "eller `region`: tilbuddenes effekter samlet pr. gruppe. Hver parameter kan gentages. "
        "Uden parametre: alle målte tilbud."
    ),
    parameters=[
        OpenApiParameter("offer", str, many=True, description="Et tilbuds external_id."),
        OpenApiParameter("operator", str, many=True, description="En operatørs korte navn."),
        OpenApiParameter("level", str, many=True, enum=list(LEVELS)),
        OpenApiParameter("theme", str, many=True, description="Et temas korte navn."),
        OpenApiParameter("region", str, many=True, description="En regionskode, f.eks. 1082."),
        OpenApiParameter("indicator", str, many=True, enum=list(INDICATORS)),
    ],
    examples=[
        OpenApiExample(
            "Et tilbuds effekt på beskæftigelsen",
            # drf-spectacular wraps it in the paginated list.
            value=_EXAMPLE,
            response_only=True,
        )
    ],
)
class EffectListView(generics.ListAPIView):
    serializer_class = EffectSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Any]:
        request = self.request
        offers = _values(request, "offer")
        groups = {name: _values(request, name) for name in ROLLUP_PARAMETERS}
        indicators = _values(request, "indicator")
        unknown_indicators = sorted(set(indicators) - set(INDICATORS))
        if unknown_indicators:
            raise ValidationError(
                {
                    "indicator": [
                        _("Ukendt indikator: %(values)s.")
                        % {"values": ", ".join(unknown_indicators)}
                    ]
                }
            )
        blank = blank_parameters(request.query_params.getlist, ("level", "indicator"))
        if blank:
            raise ValidationError(
                {name: [_("Angiv en værdi, eller udelad parameteren.")] for name in blank}
            )
        unknown_levels = sorted(set(groups["level"]) - set(LEVELS))
        if unknown_levels:
            raise ValidationError(
                {"level": [_("Ukendt niveau: %(values)s.") % {"values": ", ".join(unknown_levels)}]}
            )
        if offers and any(groups.values()):
            raise ValidationError(
                {
                    "offer": [
                        _(
                            "Brug enten offer eller en af operator, level, theme og region, "
                            "ikke begge."
                        )
                    ]
                }
            )
        if any(groups.values()):
            rollups = EffectRollup.objects.published().select_related("run")
            if indicators:
                rollups = rollups.filter(indicator__in=indicators)
            selected = EffectRollup.objects.none()
            for dimension, keys in groups.items():
                if keys:
                    selected = selected | rollups.filter(dimension=dimension, key__in=keys)
            return selected.select_related("run").order_by(
                "dimension", "label", "key", _indicator_order()
            )
        public = [Offer.Status.PUBLISHED, Offer.Status.ARCHIVED]
        estimates = (
            EffectEstimate.objects.published()
            .pooled()
            .filter(offer__status__in=public)
            .select_related("offer", "run")
        )
        if offers:
            known = set(
                Offer.objects.filter(external_id__in=offers, status__in=public).values_list(
                    "external_id", flat=True
                )
            )
            missing = [value for value in offers if value not in known]
            if missing:
                raise ValidationError(
                    {"offer": [_("Ukendt tilbud: %(values)s.") % {"values": ", ".join(missing)}]}
                )
            estimates = estimates.filter(offer__external_id__in=offers)
        if indicators:
            estimates = estimates.filter(indicator__in=indicators)
        return estimates.order_by("offer__title", "offer__external_id", _indicator_order())

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = [effect_row(item) for item in page or []]
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)
