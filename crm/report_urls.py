from django.urls import path

from crm import report_views

app_name = "reports"
urlpatterns = [
    path("", report_views.index, name="index"),
    *(path(f"{key}/", report_views.report, {"key": key}, name=key) for key in report_views.PAGES),
]
