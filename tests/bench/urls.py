"""The project's URLs and the bare page the benchmark compares them with."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare(request: HttpRequest) -> HttpResponse:
    """Nothing but the middleware (a signed-in session, CSRF, CSP, headers): the fastest any page can be."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), path("", include("crm.urls"))]

handler500 = "crm.views.server_error"
