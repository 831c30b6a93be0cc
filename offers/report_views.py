"""Pages and API for catalogue reports: division of labour, overlap and national clusters."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from offers.models import Level, Offer, Organisation, StrengthPosition
from offers.reports import division_of_labour as build_report

OVERLAP_GROUPS_ON_PAGE = 50


def may_read_reports(user: Any) -> bool:
    return bool(user.is_superuser or user.is_analyst or user.is_editor)


@require_GET
@login_required
def division_of_labour(request: HttpRequest) -> HttpResponse:
    """The analyst page: level mismatches, overlaps, regional restrictions, consolidation."""
    if not may_read_reports(request.user):
        raise PermissionDenied
    report = build_report()
    levels = list(Level.values)
    by_theme: dict[str, dict[str, Any]] = {}
    cells: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for row in report["consolidation"]:
        by_theme.setdefault(
            row["theme"],
            {"label": row["theme_label"], "responsible_level": row["responsible_level"]},
        )
        cells[row["theme"]][row["level"]] = {"offers": row["offers"], "operators": row["operators"]}
    consolidation = [
        {
            **info,
            "responsible_label": Level(info["responsible_level"]).label,
            "cells": [
                {"level": level, **cells[theme].get(level, {"offers": 0, "operators": 0})}
                for level in levels
            ],
        }
        for theme, info in by_theme.items()
    ]
    shown = report["overlaps"][:OVERLAP_GROUPS_ON_PAGE]
    # Each offer by its (Danish) title and operator: the external ids are the API's keys, not
    # something an analyst reads.
    shown_offers = {
        external_id: (title, operator_name)
        for external_id, title, operator_name in Offer.objects.filter(
            external_id__in={external_id for group in shown for external_id in group["offers"]}
        ).values_list("external_id", "title", "operator__name")
    }
    level_labels = dict(Level.choices)
    context = {
        "report": report,
        # The report keeps its day as ISO text (the API's field); the page writes it as a date.
        "report_day": dt.date.fromisoformat(report["date"]),
        "mismatches": [
            {**item, "level_label": level_labels[item["level"]]}
            for item in report["level_mismatches"]
        ],
        "levels": [Level(level).label for level in levels],
        "consolidation": consolidation,
        "overlaps": [
            {
                **group,
                "links": [
                    {
                        "external_id": external_id,
                        "title": shown_offers.get(external_id, (external_id, ""))[0],
                        "operator_name": shown_offers.get(external_id, (external_id, ""))[1],
                    }
                    for external_id in group["offers"]
                ],
            }
            for group in shown
        ],
        "overlaps_hidden": max(0, len(report["overlaps"]) - OVERLAP_GROUPS_ON_PAGE),
    }
    return render(request, "offers/reports/division_of_labour.html", context)


@require_GET
def clusters(request: HttpRequest) -> HttpResponse:
    """Public page: each strength position with its publicly funded national cluster."""
    today = timezone.localdate()
    positions = StrengthPosition.objects.prefetch_related(
        Prefetch(
            "clusters",
            queryset=Organisation.objects.filter(publicly_funded=True).prefetch_related(
                Prefetch(
                    "owned_offers",
                    queryset=Offer.objects.published().open_on(today).order_by("title"),
                    to_attr="open_offers",
                )
            ),
            to_attr="funded_clusters",
        )
    )
    return render(request, "offers/clusters.html", {"positions": positions})


# --- API ---------------------------------------------------------------------------------------


class _ThemeLevelSerializer(serializers.Serializer):
    theme = serializers.CharField()
    responsible_level = serializers.ChoiceField(choices=Level.choices)


class _LevelMismatchSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    title = serializers.CharField()
    level = serializers.ChoiceField(choices=Level.choices)
    owner = serializers.CharField(help_text="Owner organisation slug.")
    operator = serializers.CharField(help_text="Operator organisation slug.")
    themes = _ThemeLevelSerializer(many=True)
    expected_levels = serializers.ListField(child=serializers.ChoiceField(choices=Level.choices))
    reason = serializers.CharField()


class _OverlapPairSerializer(serializers.Serializer):
    offers = serializers.ListField(child=serializers.CharField(), help_text="Two external ids.")
    score = serializers.FloatField(help_text="Weighted Jaccard similarity, 0–1.")
    reasons = serializers.ListField(child=serializers.CharField())


class _OverlapGroupSerializer(serializers.Serializer):
    theme = serializers.CharField()
    theme_label = serializers.CharField()
    score = serializers.FloatField(help_text="Mean score of the overlapping pairs, 0–1.")
    offers = serializers.ListField(child=serializers.CharField())
    operators = serializers.ListField(child=serializers.CharField())
    pair_count = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())
    pairs = _OverlapPairSerializer(many=True, help_text="The best-scoring pairs (at most 10).")


class _RegionalSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    title = serializers.CharField()
    owner = serializers.CharField()
    regions = serializers.ListField(child=serializers.IntegerField())
    municipalities = serializers.ListField(child=serializers.IntegerField())
    reason = serializers.CharField()


class _ConsolidationSerializer(serializers.Serializer):
    theme = serializers.CharField()
    theme_label = serializers.CharField()
    responsible_level = serializers.ChoiceField(choices=Level.choices)
    level = serializers.ChoiceField(choices=Level.choices)
    offers = serializers.IntegerField()
    operators = serializers.IntegerField()


class DivisionOfLabourSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The day whose open catalogue was analysed.")
    level_mismatches = _LevelMismatchSerializer(many=True)
    overlaps = _OverlapGroupSerializer(many=True)
    regional_not_nationwide = _RegionalSerializer(many=True)
    consolidation = _ConsolidationSerializer(many=True)


_EXAMPLE = {
    "date": "2026-11-27",
    "level_mismatches": [
        {
            "external_id": "kommune-561-eksportnetvaerk-offshore",
            "title": "Eksportnetværk for offshore-leverandører",
            "level": "municipality",
            "owner": "kommune-561",
            "operator": "kommune-561",
            "themes": [{"theme": "export", "responsible_level": "state"}],
            "expected_levels": ["state"],
            "reason": "Tilbuddet er på kommune niveau, men «Eksport» hører under stat.",
        }
    ],
    "overlaps": [
        {
            "theme": "digitalisation",
            "theme_label": "Digitalisering og automatisering",
            "score": 0.82,
            "offers": ["erhvervsstyrelsen-smv-digital", "region-syddanmark-digitalt-loeft"],
            "operators": ["erhvervsstyrelsen", "vaeksthus-syddanmark"],
            "pair_count": 1,
            "reasons": ["2 tilbud om «Digitalisering og automatisering» fra 2 operatører."],
            "pairs": [
                {
                    "offers": ["erhvervsstyrelsen-smv-digital", "region-syddanmark-digitalt-loeft"],
                    "score": 0.82,
                    "reasons": ["Samme tema: Digitalisering og automatisering."],
                }
            ],
        }
    ],
    "regional_not_nationwide": [
        {
            "external_id": "region-sjaelland-bestyrelsesnetvaerk",
            "title": "Bestyrelsesnetværk",
            "owner": "region-sjaelland",
            "regions": [1085],
            "municipalities": [],
            "reason": "Et regionalt tilbud, der kun gælder i Region Sjælland, ikke i hele landet.",
        }
    ],
    "consolidation": [
        {
            "theme": "export",
            "theme_label": "Eksport",
            "responsible_level": "state",
            "level": "state",
            "offers": 14,
            "operators": 3,
        }
    ],
}


class DivisionOfLabourView(APIView):
    """Division of labour and overlap in today's open catalogue (public catalogue data)."""

    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="reports_division_of_labour",
        summary="Division of labour and overlap",
        description=(
            "Offers whose level matches none of their themes' responsible levels, groups of "
            "overlapping offers with a score and reasons, regional offers not open nationwide, "
            "and offers and operators per theme and level. Computed on the published offers "
            "open today; offers are named by external_id."
        ),
        responses=DivisionOfLabourSerializer,
        examples=[OpenApiExample("Report", value=_EXAMPLE, response_only=True)],
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        return Response(build_report())
