"""GET /api/effects/: published effects per offer, or rolled up per operator, level, theme, region.

Public and read-only. Only results of completed runs are returned (see
``EffectEstimate.objects.published``); each row names the run it comes from.
"""

from __future__ import annotations

from typing import Any, Final

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

from evaluation.estimators import INDICATORS
from evaluation.models import EffectEstimate, EffectRollup
from offers.models import Offer
from portal.parsing import without_nul

UNITS: Final = {
    "employment": "fte",
    "revenue": "dkk",
    "value_added": "dkk",
    "export": "dkk",
    "productivity": "dkk_per_fte",
}
ROLLUP_PARAMETERS: Final = ("operator", "level", "theme", "region")


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
        help_text="offer, or the roll-up dimension (operator, level, theme, region).",
    )
    key = serializers.CharField(
        help_text="The offer's external_id, or the group's slug (level, theme, operator) or "
        "region code."
    )
    name = serializers.CharField(help_text="The offer's title or the group's name.")
    indicator = _choice(list(INDICATORS))
    unit = _choice(
        ["fte", "dkk", "dkk_per_fte"],
        help_text="fte: full-time employees; dkk: Danish kroner; dkk_per_fte: value added per FTE.",
    )
    status = _choice(
        ["ok", "too_few", "no_data"],
        help_text="ok: measured; too_few: too few participants to publish a number; "
        "no_data: nothing to measure (see reason).",
    )
    reason = serializers.CharField(help_text="Why there is no number, in Danish; empty when ok.")
    estimate = serializers.FloatField(
        allow_null=True,
        help_text="Average effect per participant on the change from the year before "
        "participation to two years after (matched difference-in-differences).",
    )
    std_error = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True, help_text="95 % confidence interval, lower.")
    ci_high = serializers.FloatField(allow_null=True, help_text="95 % confidence interval, upper.")
    n_treated = serializers.IntegerField(help_text="Participants in the estimate.")
    n_control = serializers.IntegerField(help_text="Distinct comparison companies used.")
    n_unmatched = serializers.IntegerField(
        help_text="Participants with data but no comparable company, left out."
    )
    n_cohorts = serializers.IntegerField(help_text="Participation years pooled.")
    naive_estimate = serializers.FloatField(
        allow_null=True,
        help_text="Participants' average change minus all non-participants' (no matching).",
    )
    method = serializers.CharField()
    baseline_offset = serializers.IntegerField(
        help_text="Baseline year relative to the participation year (-1)."
    )
    outcome_offset = serializers.IntegerField(
        help_text="Outcome year relative to the participation year (+2)."
    )
    extra = serializers.FloatField(
        allow_null=True,
        help_text="Effect times participants, e.g. extra full-time jobs; null for productivity.",
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
    "n_unmatched": 3,
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
    """The API's view of one stored effect (also used by the pages)."""
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
        **{
            name: getattr(item, name)
            for name in (
                "indicator",
                "status",
                "estimate",
                "std_error",
                "ci_low",
                "ci_high",
                "n_treated",
                "n_control",
                "n_unmatched",
                "n_cohorts",
                "naive_estimate",
                "method",
                "baseline_offset",
                "outcome_offset",
                "extra",
                "extra_ci_low",
                "extra_ci_high",
            )
        },
    }


def _values(request: Request, name: str) -> list[str]:
    values = (without_nul(value).strip() for value in request.query_params.getlist(name))
    return [value for value in values if value]


@extend_schema(
    summary="Målte effekter pr. tilbud eller samlet",
    description=(
        "Published effects of offers on their participants' employment, revenue, value added, "
        "export and productivity: the change from the year before participation (baseline, "
        "offset -1) to two years after (offset +2), compared with matched companies that took "
        "part in no offer (matched difference-in-differences, 95 % confidence interval). "
        "With `offer`: one row per indicator for each offer. With `operator`, `level`, `theme` "
        "or `region`: the offers' effects rolled up per group. Each parameter is repeatable. "
        "Without parameters: every measured offer."
    ),
    parameters=[
        OpenApiParameter("offer", str, many=True, description="An offer's external_id."),
        OpenApiParameter("operator", str, many=True, description="An operator's slug."),
        OpenApiParameter("level", str, many=True, enum=["state", "region", "municipality"]),
        OpenApiParameter("theme", str, many=True, description="A theme's slug."),
        OpenApiParameter("region", str, many=True, description="A region code, e.g. 1082."),
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
