from django.urls import path

from crm.views import section_placeholder

app_name = "customers"

urlpatterns = [
    path("", section_placeholder, {"section": "customers"}, name="index"),
]
