from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext_lazy as _

ViewT = TypeVar("ViewT", bound=Callable[..., HttpResponseBase])


class CRMAdminSite(admin.AdminSite):
    """The admin for managers and ops: signed-in users without access get 403, not a second login."""

    site_header = _("CRM administration")
    site_title = _("CRM administration")
    index_title = _("Administration")

    def admin_view(self, view: ViewT, cacheable: bool = False) -> ViewT:
        wrapped = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied
            return wrapped(request, *args, **kwargs)

        # The guard takes and returns what the view does, so it stands for the view.
        return cast(ViewT, update_wrapper(guarded, wrapped))

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.user.is_authenticated and not self.has_permission(request):
            raise PermissionDenied
        if not request.user.is_authenticated:
            return redirect_to_login(request.GET.get("next") or request.get_full_path())
        return super().login(request, extra_context)
