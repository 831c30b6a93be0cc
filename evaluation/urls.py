"""Public pages of the evaluation app."""

from django.urls import URLPattern, URLResolver

app_name = "evaluation"
urlpatterns: list[URLPattern | URLResolver] = []
