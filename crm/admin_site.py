from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar, cast

from csp.decorators import csp_update
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.decorators import method_decorator
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm import fields
from crm.history import describe_reason
from crm.pagination import bounded_count

ViewT = TypeVar("ViewT", bound=Callable[..., HttpResponseBase])

# The admin keeps the site's Content-Security-Policy with one allowance on its history pages:
# simple-history's template has an inline style attribute, style="border-top: 0", allowed by its hash.
HISTORY_PAGE_CSP = {
    "style-src-attr": ["'unsafe-hashes'", "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='"]
}


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


class HistoryAdmin(SimpleHistoryAdmin):
    """simple-history's admin, whose history page shows each change reason in the reader's language
    (crm/history.py), names the system for changes nobody made by hand, and carries the one CSP
    allowance simple-history's template needs (HISTORY_PAGE_CSP)."""

    @method_decorator(csp_update(HISTORY_PAGE_CSP))
    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().history_view(request, object_id, extra_context)

    def set_history_delta_changes(
        self, request: HttpRequest, historical_records: Page, *args: Any, **kwargs: Any
    ) -> None:
        # The hook simple-history calls with the page's records before rendering them.
        super().set_history_delta_changes(request, historical_records, *args, **kwargs)
        for record in historical_records:
            record.history_change_reason = describe_reason(record.history_change_reason)


class BoundedFieldsAdmin(BaseModelAdmin):
    """For a ModelAdmin or an inline: its form fields carry the bounds of crm/fields.py."""

    def formfield_for_dbfield(
        self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        form_class = fields.form_class_for(db_field)
        if form_class in (fields.ModelChoiceField, fields.ModelMultipleChoiceField):
            kwargs.setdefault("form_class", form_class)
        return fields.bound(db_field, super().formfield_for_dbfield(db_field, request, **kwargs))


class CappedCountPaginator(Paginator):
    """The admin's pager over a table of millions of rows: like the app's lists (crm/pagination.py) it
    counts at most settings.LIST_COUNT_LIMIT + 1 rows, so its cost stays flat; past the limit the
    count is the limit, `count_is_capped` is true, and the pager offers the pages up to it."""

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        # The admin pages a QuerySet, never a list.
        return bounded_count(cast(QuerySet[Any], self.object_list), settings.LIST_COUNT_LIMIT)

    @cached_property
    def count(self) -> int:
        return self._counted[0]

    @property
    def count_is_capped(self) -> bool:
        return self._counted[1]


class LargeTableAdmin(admin.ModelAdmin):
    """A changelist over a table that grows to millions of rows (customers, orders, deals,
    communications, follow-ups), as fast as the app's own lists. Its pager counts only up to a limit;
    its search box runs the app's search selector for these rows (`search`), whose parts each use an
    index, instead of the admin's OR of LIKEs across joins, which reads the whole table
    (`search_fields` only makes the box appear, and the autocomplete of these records uses the same
    search). No facet counts, and subclasses set no `date_hierarchy`: its drill-down lists the years
    of every row."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a count of every filter choice over the whole table

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Any], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        # "Select all" names the capped count, so an action over more rows than that is refused.
        across = request.POST.get("select_across") == "1"
        if across and CappedCountPaginator(queryset, self.list_per_page).count_is_capped:
            limit = number_format(settings.LIST_COUNT_LIMIT, force_grouping=True)
            message = _(
                "More than %(limit)s rows are listed: narrow the list with the filters or the search to act "
                "on all of them, or select rows on this page. Nothing was changed."
            )
            self.message_user(request, message % {"limit": limit}, messages.WARNING)
            return None
        return super().response_action(request, queryset, *args, **kwargs)

    def search(self, queryset: QuerySet[Any], text: str) -> QuerySet[Any]:
        raise NotImplementedError(f"{type(self).__name__} must say how its rows are searched")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        text = search_term.strip()
        return (self.search(queryset, text) if text else queryset), False
