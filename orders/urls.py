from django.urls import path

from crm.views import section_placeholder

app_name = "orders"

urlpatterns = [
    path("", section_placeholder, {"section": "orders"}, name="index"),
]
