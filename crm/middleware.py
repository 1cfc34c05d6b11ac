"""Response headers every page of the CRM carries (static files are answered before this runs)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


def response_headers(get_response: Callable[[HttpRequest], HttpResponse]):
    """`Permissions-Policy` on every page; `Cache-Control: private, no-store` on a signed-in user's
    pages and downloads and on error pages, so that neither a shared cache nor the browser's history
    keeps a copy of what only that user may see."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        # An error page is checked first: when the database is down, asking who the user is fails again.
        if response.status_code >= 500 or request.user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response

    return middleware
