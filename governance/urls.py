"""Public governance pages and the analyst pages under /analyse/."""

from django.urls import URLPattern, URLResolver, path

from governance import views
from governance.analysis_index import analysis_index
from governance.referral_report import referral_report_view

app_name = "governance"
urlpatterns: list[URLPattern | URLResolver] = [
    path("feedback/", views.feedback, name="feedback"),
    path("erhvervssamarbejder/", views.business_regions, name="business_regions"),
    path("vaekstaftaler/", views.growth_agreements_index, name="growth_index"),
    path(
        "vaekstaftaler/<slug:region_slug>/",
        views.growth_agreements_region,
        name="growth_region",
    ),
    path("analyse/", analysis_index, name="analysis_index"),
    path("analyse/feedback/", views.feedback_report, name="feedback_report"),
    path("analyse/feedback/eksport.csv", views.feedback_export, name="feedback_export"),
    path("analyse/brug/", views.usage_report, name="usage_report"),
    path(
        "analyse/servicestandarder/",
        views.service_standards_report,
        name="service_standards_report",
    ),
    path("analyse/udvikling/", views.development_report, name="development_report"),
    path("analyse/henvisninger/", referral_report_view, name="referral_report"),
    path("servicestandarder/", views.service_standards_public, name="service_standards"),
    path("gemte-soegninger/", views.saved_search_create, name="saved_search_create"),
    path("gemte-soegninger/sendt/", views.saved_search_sent, name="saved_search_sent"),
    path(
        "gemte-soegninger/bekraeft/<str:token>/",
        views.saved_search_confirm,
        name="saved_search_confirm",
    ),
    path(
        "gemte-soegninger/afmeld/<str:token>/",
        views.saved_search_unsubscribe,
        name="saved_search_unsubscribe",
    ),
]
