"""/api/v1/ (each app's api/urls.py), the OpenAPI schema at /api/schema/ and its docs at /api/docs/.

The API authenticates inside its views (a token or the session), so its views are exempt from the
LoginRequiredMiddleware's redirect: an unauthenticated request answers 401, not a login page.
"""

from importlib import import_module

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crm.api import schema  # noqa: F401  (registers the token scheme with drf-spectacular)

RESOURCES = [
    "customers.api.urls",
    "orders.api.urls",
    "opportunities.api.urls",
    "followups.api.urls",
    "crm.api.users",
    "crm.api.reports",
]


def _open(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = login_not_required(pattern.callback)
    return patterns


def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other address under /api/: the API's 404, in JSON like every answer of the API (it writes
    nothing, so it needs no CSRF token)."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


v1: list[URLPattern | URLResolver] = []
for module in RESOURCES:
    v1 += _open(list(import_module(module).urlpatterns))

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "docs/",
        login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    re_path(r"^(?P<path>.*)$", csrf_exempt(login_not_required(not_found))),
]
