from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/password-link/", views.user_password_link, name="user_password_link"),
    path("users/<int:pk>/reactivate/", views.user_reactivate, name="user_reactivate"),
    path("teams/", views.team_list, name="teams"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:pk>/", views.team_edit, name="team_edit"),
]
