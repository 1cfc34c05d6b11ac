from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from crm import views
from crm.api import pages as api_pages
from crm.forms import LoginForm

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("reports/", include("crm.report_urls")),
    path("search/", views.search, name="search"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # The link a new user gets by e-mail to set their password (accounts.services.password_link).
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("accounts/", include("accounts.urls")),
    path("accounts/api-tokens/", api_pages.api_tokens, name="api_tokens"),
    path("accounts/api-tokens/<str:key>/revoke/", api_pages.api_token_revoke, name="api_token_revoke"),
    # The language can be chosen on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("customers/", include("customers.urls")),
    path("opportunities/", include("opportunities.urls")),
    path("orders/", include("orders.urls")),
    path("followups/", include("followups.urls")),
    path("automation/", include("automation.urls")),
    path("api/", include("crm.api.urls")),
    path("notifications/", include("automation.notification_urls")),
    path("admin/", admin.site.urls),
]

handler500 = "crm.views.server_error"
