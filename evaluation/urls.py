"""Public pages of the evaluation app, and the analyst's page."""

from django.urls import URLPattern, URLResolver, path

from evaluation import views

app_name = "evaluation"
urlpatterns: list[URLPattern | URLResolver] = [
    path("effekter/", views.effects, name="effects"),
    path("effekter/<slug:external_id>/", views.offer_effects, name="offer"),
    path("analyse/effekter/", views.analysis, name="analysis"),
]
