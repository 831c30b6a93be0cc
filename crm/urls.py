"""Public pages of the crm app."""

from django.urls import URLPattern, URLResolver

app_name = "crm"
urlpatterns: list[URLPattern | URLResolver] = []
