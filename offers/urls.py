"""Public pages of the offers app."""

from django.urls import URLPattern, URLResolver, path

from offers import open_data, report_views, views

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

# Open data (offers/open_data.py): the published catalogue as an Open Referral HSDS data package.
urlpatterns += [
    path("data/hsds/", open_data.datapackage, name="hsds"),
    path("data/hsds/datapackage.json", open_data.datapackage, name="hsds_datapackage"),
    path("data/hsds/<slug:name>.csv", open_data.table, name="hsds_table"),
]
