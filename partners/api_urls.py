"""The partners' API, mounted under /api/partner/ (partners/api.py)."""

from django.urls import URLPattern, URLResolver, path

from partners import api

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "partner/guidance-requests/",
        api.PartnerGuidanceRequestCreateView.as_view(),
        name="partner-guidance-request-list",
    ),
    path(
        "partner/offers/",
        api.PartnerOfferViewSet.as_view({"get": "list"}),
        name="partner-offer-list",
    ),
    path(
        "partner/offers/<slug:external_id>/",
        api.PartnerOfferViewSet.as_view({"get": "retrieve"}),
        name="partner-offer-detail",
    ),
]
