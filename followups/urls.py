from django.urls import path

from crm.views import section_placeholder

app_name = "followups"

urlpatterns = [
    path("", section_placeholder, {"section": "followups"}, name="index"),
]
