from django.urls import path

from automation import views

app_name = "automation"

urlpatterns = [
    path("", views.rule_list, name="rules"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:pk>/", views.rule_edit, name="rule"),
    path("rules/<int:pk>/enable/", views.rule_enable, name="rule_enable"),
    path("outbox/", views.outbox_list, name="outbox"),
    path("outbox/<int:pk>/", views.outbox_detail, name="outbox_detail"),
    path("outbox/<int:pk>/retry/", views.outbox_retry, name="outbox_retry"),
]
