"""Public pages of the crm app."""

from django.urls import URLPattern, URLResolver, path

from crm import views

app_name = "crm"
urlpatterns: list[URLPattern | URLResolver] = [
    path("tilfredshed/<str:token>/", views.survey, name="survey"),
]
