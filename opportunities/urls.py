from django.urls import path

from crm.views import section_placeholder

app_name = "opportunities"

urlpatterns = [
    path("", section_placeholder, {"section": "opportunities"}, name="index"),
]
