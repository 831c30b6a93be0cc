"""Public pages of the offers app."""

from django.urls import URLPattern, URLResolver, path

from offers import report_views, views

app_name = "offers"
urlpatterns: list[URLPattern | URLResolver] = [
    path("tilbud/", views.search, name="search"),
    path("tilbud/<slug:external_id>/", views.detail, name="detail"),
]

# Catalogue reports (offers/report_views.py).
urlpatterns += [
    path("analyse/arbejdsdeling/", report_views.division_of_labour, name="division_of_labour"),
    path("klynger/", report_views.clusters, name="clusters"),
]
