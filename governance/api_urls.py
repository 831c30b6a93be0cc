"""API routes of the governance app, mounted under /api/ (none yet: its pages are rendered)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
