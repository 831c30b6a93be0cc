"""API routes of the offers app, mounted under /api/."""

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import SimpleRouter

from offers import api, report_views

router = SimpleRouter()
router.register("offers", api.OfferViewSet, basename="offer")

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include(router.urls)),
]

# Catalogue reports (offers/report_views.py).
urlpatterns += [
    path(
        "reports/division-of-labour/",
        report_views.DivisionOfLabourView.as_view(),
        name="division-of-labour",
    ),
]
