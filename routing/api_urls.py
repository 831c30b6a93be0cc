"""API routes of the routing app, mounted under /api/."""

from django.urls import URLPattern, URLResolver, path

from routing import api

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "guidance-requests/",
        api.GuidanceRequestCreateView.as_view(),
        name="guidance-request-list",
    ),
    path(
        "guidance-requests/<str:token>/",
        api.GuidanceRequestDetailView.as_view(),
        name="guidance-request-detail",
    ),
    path(
        "statistics/guidance/",
        api.GuidanceStatisticsView.as_view(),
        name="guidance-statistics",
    ),
]
