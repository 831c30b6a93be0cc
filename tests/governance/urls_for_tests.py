"""A small URL configuration for the usage-counting tests: public and private URL parameters."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path


def page(request: HttpRequest, **kwargs: str) -> HttpResponse:
    return HttpResponse("<!DOCTYPE html><title>x</title><p>side</p>")


def search(request: HttpRequest) -> HttpResponse:
    request.search_result_count = 0 if request.GET.get("q") == "intet" else 3  # type: ignore[attr-defined]
    return HttpResponse("<!DOCTYPE html><title>søg</title>")


def data(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    path("tilbud/", search),
    path("tilbud/<slug:external_id>/", page),
    path("vejledning/<str:token>/", page),
    path("om/", page),
    path("data/", data),
    path("", include("governance.urls")),
]
