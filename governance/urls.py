"""Public governance pages and the analyst pages under /analyse/."""

from django.urls import URLPattern, URLResolver, path

from governance import views

app_name = "governance"
urlpatterns: list[URLPattern | URLResolver] = [
    path("feedback/", views.feedback, name="feedback"),
    path("analyse/feedback/", views.feedback_report, name="feedback_report"),
    path("analyse/feedback/eksport.csv", views.feedback_export, name="feedback_export"),
    path("analyse/brug/", views.usage_report, name="usage_report"),
]
