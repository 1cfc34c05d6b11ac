"""What every list page does with its request: filter, sort by a key that has an index, cut a page."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms as django_forms
from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.db_router import read_database, replica_reads
from crm.exports import export_response
from crm.pagination import KeysetPage, paginate

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def filtered_and_sorted(
    request: HttpRequest, filterset: django_filters.FilterSet, sorts: Collection[str], default_sort: str
) -> tuple[QuerySet[Any], str]:
    """The filterset's rows (none when its input is invalid) and the sort key asked for, else the default."""
    sort = request.GET.get("sort", "")
    if sort not in sorts:
        sort = default_sort
    queryset = filterset.qs if filterset.is_valid() else filterset.qs.none()
    return queryset, sort


def keyset_page(
    request: HttpRequest, queryset: QuerySet[Any], ordering: Sequence[str], *, count_limit: int | None = None
) -> KeysetPage:
    """The page of `queryset` that the request's cursor and direction ask for (crm/pagination.py), its
    total counted up to `count_limit` (settings.LIST_COUNT_LIMIT unless given)."""
    return paginate(
        queryset,
        ordering,
        cursor=request.GET.get("cursor", ""),
        direction=request.GET.get("page", "first"),
        page_size=settings.LIST_PAGE_SIZE,
        count_limit=settings.LIST_COUNT_LIMIT if count_limit is None else count_limit,
    )


EXPORT_CHUNK_ROWS = 2000

# An export view answers a GET with the file (or, for a large list, the offer to write it in the
# background) and a POST by asking for that background export.
export_view = require_http_methods(["GET", "POST"])


def export_list(
    request: HttpRequest,
    filterset: django_filters.FilterSet,
    queryset: QuerySet[Any],
    ordering: Sequence[str],
    *,
    filename: str,
    headers: Sequence[str],
    row: Callable[[Any], Sequence[Any]],
    sheet_title: StrOrPromise,
) -> HttpResponse | StreamingHttpResponse:
    """A filtered list as the CSV or XLSX file the request's `format` asks for (see crm/exports.py).

    `headers` are untranslated (gettext_noop) and translated here; `row` turns an item into cells.
    While the filters are invalid the answer is a 400 that says why, not a file without rows.
    More than settings.EXPORT_BACKGROUND_ROWS rows (or a POST) are written by a worker instead, which
    makes this same request as the user (automation/exports.py); the page offers that.
    The rows are read EXPORT_CHUNK_ROWS at a time, so the queries do not grow with the rows.
    """
    from automation import exports as background

    if not filterset.is_valid():
        return _invalid_filters(filterset.form)
    with replica_reads():  # the rows are read as the file is sent: on the replica when there is one
        rows_read = queryset.order_by(*ordering).using(read_database())
        if background.runs_in_background(request, rows_read):
            return background.offer(request, filename=filename, title=str(sheet_title))
        items = rows_read.iterator(chunk_size=EXPORT_CHUNK_ROWS)
        rows: Iterable[Sequence[Any]] = (row(item) for item in items)
        if isinstance(request, background.ExportRequest):
            rows = request.counted(rows)
        return export_response(
            request.GET.get("format"),
            filename,
            [_(header) for header in headers],
            rows,
            sheet_title=str(sheet_title),
        )


def _invalid_filters(form: django_forms.Form) -> HttpResponseBadRequest:
    lines = [
        f"{form.fields[name].label if name in form.fields else name}: {message}"
        for name, messages in form.errors.items()
        for message in messages
    ]
    return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")
