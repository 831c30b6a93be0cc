"""Public pages of the routing app."""

from django.urls import URLPattern, URLResolver, path

from routing import views

app_name = "routing"
urlpatterns: list[URLPattern | URLResolver] = [
    path("vejledning/", views.guidance, name="guidance"),
    path("vejledning/vaeksthus/", views.hub_preview, name="hub_preview"),
    path("vejledning/cvr/", views.cvr_lookup, name="cvr_lookup"),
    path("vejledning/<str:token>/", views.status, name="status"),
    path("vejledning/<str:token>/kvittering/", views.confirmation, name="confirmation"),
    path("analyse/vejledning/", views.statistics, name="statistics"),
]
