"""API routes of the evaluation app, mounted under /api/."""

from django.urls import URLPattern, URLResolver, path

from evaluation import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("effects/", api.EffectListView.as_view(), name="effects"),
]
