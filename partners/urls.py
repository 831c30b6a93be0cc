"""The pages partners embed (partners/views.py)."""

from django.urls import URLPattern, URLResolver, path

from partners import views

app_name = "partners"
urlpatterns: list[URLPattern | URLResolver] = [
    path("indlejret/<slug:slug>/tilbud/", views.catalogue, name="catalogue"),
    path(
        "indlejret/<slug:slug>/tilbud/tema/<slug:theme>/",
        views.theme_catalogue,
        name="theme_catalogue",
    ),
    path("indlejret/<slug:slug>/vejledning/", views.guidance, name="guidance"),
    path(
        "indlejret/<slug:slug>/vejledning/<str:token>/kvittering/",
        views.confirmation,
        name="confirmation",
    ),
]
