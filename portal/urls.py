from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal import health, views

admin.site.site_header = "Erhvervsfremmeportalen"
admin.site.site_title = "Erhvervsfremmeportalen"
admin.site.index_title = "Arbejdsplads"

api_patterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline one.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("", include("offers.api_urls")),
    path("", include("crm.api_urls")),
    path("", include("routing.api_urls")),
    path("", include("evaluation.api_urls")),
    path("", include("governance.api_urls")),
    path("", include("partners.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("om/", views.about, name="about"),
    path("privatliv/", views.privacy, name="privacy"),
    # Answered by portal.health.HealthCheckMiddleware before the host check; routed here too.
    path("healthz", health.ready, name="healthz"),
    path("healthz/ready", health.ready, name="healthz-ready"),
    path("healthz/live", health.live, name="healthz-live"),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain"),
    ),
    path("", include("offers.urls")),
    path("", include("crm.urls")),
    path("", include("routing.urls")),
    path("", include("evaluation.urls")),
    path("", include("governance.urls")),
    path("", include("partners.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include((api_patterns, "api"))),
]

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
