from django.urls import path

from automation import views

urlpatterns = [
    path("", views.notification_list, name="notifications"),
    path("badge/", views.notification_badge, name="notification_badge"),
    path("settings/", views.notification_preference, name="notification_preference"),
    path("read/", views.notification_read_all, name="notifications_read_all"),
    path("<int:pk>/read/", views.notification_read, name="notification_read"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:pk>/", views.export_download, name="export_download"),
]
