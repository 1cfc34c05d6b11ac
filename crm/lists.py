"""What every list page does with its request: filter, sort by a key that has an index, cut a page."""

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _

from crm.exports import export_response
from crm.pagination import paginate


def filtered_and_sorted(request, filterset, sorts, default_sort):
    """The filterset's rows (none when its input is invalid) and the sort key asked for, else the default."""
    sort = request.GET.get("sort") if request.GET.get("sort") in sorts else default_sort
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    return queryset, sort


def keyset_page(request, queryset, ordering):
    """The page of `queryset` that the request's cursor and direction ask for (crm/pagination.py)."""
    return paginate(
        queryset,
        ordering,
        cursor=request.GET.get("cursor", ""),
        direction=request.GET.get("page", "first"),
        page_size=settings.LIST_PAGE_SIZE,
    )


def export_list(request, filterset, queryset, ordering, *, filename, headers, row, sheet_title):
    """A filtered list as the CSV or XLSX file the request's `format` asks for (see crm/exports.py).

    `headers` are untranslated (gettext_noop) and translated here; `row` turns an item into cells.
    While the filters are invalid the answer is a 400 that says why, not a file without rows.
    """
    if not filterset.is_valid():
        return _invalid_filters(filterset.form)
    rows = (row(item) for item in queryset.order_by(*ordering).iterator(chunk_size=2000))
    return export_response(
        request.GET.get("format"), filename, [_(header) for header in headers], rows, sheet_title=sheet_title
    )


def _invalid_filters(form):
    lines = [
        f"{form.fields[name].label if name in form.fields else name}: {message}"
        for name, messages in form.errors.items()
        for message in messages
    ]
    return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")
