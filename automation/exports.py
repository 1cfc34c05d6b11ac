"""Background exports: a list export too large to send while the user waits is written by a worker.

What it promises:
- The file holds what the page's export would have sent: the worker runs the same export view, with
  the filters, sort and language of the request, as the user who asked (so through the same
  selectors and visibility, applied when the file is written). Rows are read in chunks and written
  to a temporary file as they come (crm/exports.py), so memory stays flat however many there are.
- The file lives in the private "exports" storage (settings.STORAGES), never under a public URL: only
  the download view hands it out, to the user who asked; anyone else gets a 404.
- The user hears of it in the notifications (with the download link), whether it worked or failed.
- A file is kept for settings.EXPORT_KEEP_HOURS, then the scheduler's `expire_exports` deletes it.
- Running the task twice writes the file once: a worker claims the export with a conditional UPDATE;
  one left running by a worker that died is taken up again after TASKS_RUNNING_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import resolve, reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from automation.models import BackgroundExport
from automation.notifications import notify
from crm.pagination import bounded_count

logger = logging.getLogger(__name__)

Status = BackgroundExport.Status


class ExportRequest(HttpRequest):
    """The request a worker makes of an export view on behalf of the user who asked: a GET with the
    stored filters, which the export answers with its file whatever its size, counting its rows."""

    def __init__(self, export: BackgroundExport) -> None:
        super().__init__()
        self.method = "GET"
        self.path = self.path_info = reverse(export.view_name)
        self.GET = QueryDict(export.query)
        self.user = export.user
        self.resolver_match = resolve(self.path)
        self.rows_written = 0

    def counted(self, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        for row in rows:
            self.rows_written += 1
            yield row


def runs_in_background(request: HttpRequest, rows: QuerySet[Any]) -> bool:
    """Whether this export request is answered by a background export instead of the file: a POST (the
    user asked for one), or a GET whose rows are more than EXPORT_BACKGROUND_ROWS, counted no further
    than that (crm/pagination.py). A worker's own request always gets the file."""
    if isinstance(request, ExportRequest):
        return False
    if request.method == "POST":
        return True
    return bounded_count(rows, settings.EXPORT_BACKGROUND_ROWS)[1]


def offer(request: HttpRequest, *, filename: str, title: str) -> HttpResponse:
    """A GET: the page that offers to write the file in the background (a POST to the same address);
    a POST: the export is requested, and the user is sent to their exports."""
    if request.method != "POST":
        referer = request.headers.get("referer", "")
        context = {
            "title": title,
            "format": _format(request).upper(),
            "limit": settings.EXPORT_BACKGROUND_ROWS,
            "keep_hours": settings.EXPORT_KEEP_HOURS,
            "back": referer if url_has_allowed_host_and_scheme(referer, {request.get_host()}) else "/",
        }
        return render(request, "automation/export_offer.html", context)
    assert request.resolver_match is not None  # an export view's request
    request_export(
        actor=request.user,  # type: ignore[arg-type]  # the middleware lets only signed-in users here
        view_name=request.resolver_match.view_name,
        query=request.GET.urlencode(),
        export_format=_format(request),
        filename=filename,
        title=title,
    )
    messages.success(
        request,
        _("Your export “%(title)s” is being written. You will find the download link here when it is ready.")
        % {"title": title},
    )
    return redirect("exports")


def _format(request: HttpRequest) -> str:
    formats = BackgroundExport.Format
    return formats.XLSX if request.GET.get("format") == "xlsx" else formats.CSV


@transaction.atomic
def request_export(
    *, actor: User, view_name: str, query: str, export_format: str, filename: str, title: str
) -> BackgroundExport:
    """Records the export and enqueues its task (with the row: only if the transaction commits)."""
    from automation.tasks import write_export

    export = BackgroundExport.objects.create(
        user=actor,
        view_name=view_name,
        query=query,
        format=export_format,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        filename=filename,
        title=title,
    )
    write_export.enqueue(export.pk)
    return export


def _claim(export_id: int, now: datetime) -> bool:
    stalled = now - timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT_SECONDS)
    waiting = Q(status=Status.PENDING) | Q(status=Status.RUNNING, started_at__lt=stalled)
    claimed = BackgroundExport.objects.filter(waiting, pk=export_id)
    return claimed.update(status=Status.RUNNING, started_at=now) == 1


def storage() -> Storage:
    return storages["exports"]


def write(export_id: int) -> str:
    """Writes the export's file (the task's body); returns the export's status afterwards."""
    if not _claim(export_id, timezone.now()):
        return "skipped"  # written or being written by another worker, or gone
    export = BackgroundExport.objects.select_related("user").get(pk=export_id)
    with translation.override(export.language):
        try:
            name, rows, size = _write_file(export)
        except Exception:
            logger.exception("Background export %s failed", export.pk)
            _finish(export, status=Status.FAILED)
            raise
        _finish(export, status=Status.READY, file=name, rows=rows, size=size)
    return export.status


def _write_file(export: BackgroundExport) -> tuple[str, int, int]:
    if not export.user.is_active:
        raise PermissionError(f"{export.user} is no longer active")
    request = ExportRequest(export)
    view = request.resolver_match
    assert view is not None
    response = view.func(request, *view.args, **view.kwargs)
    if response.status_code != 200 or "attachment" not in response.get("Content-Disposition", ""):
        raise ValueError(f"the export answered {response.status_code}: {_text(response)[:200]}")
    with tempfile.TemporaryFile() as spool:
        for chunk in _chunks(response):
            spool.write(chunk)
        size = spool.tell()
        name = storage().save(f"{export.pk}/{export.filename}.{export.format}", File(spool))
    return name, request.rows_written, size


def _chunks(response: HttpResponseBase) -> Iterable[bytes]:
    """The response's bytes. Its file (an XLSX's spool) is closed afterwards, but not the response
    itself: that would announce the end of a request, whose handler closes the database connection."""
    try:
        yield from response.streaming_content if response.streaming else [response.content]  # type: ignore[attr-defined]
    finally:
        if isinstance(response, FileResponse) and response.file_to_stream is not None:
            response.file_to_stream.close()


def _text(response: HttpResponseBase) -> str:
    return response.content.decode(errors="replace") if not response.streaming else ""  # type: ignore[attr-defined]


@transaction.atomic
def _finish(export: BackgroundExport, *, status: str, file: str = "", rows: int = 0, size: int = 0) -> None:
    now = timezone.now()
    export.status, export.finished_at = status, now
    if status == Status.READY:
        export.file, export.rows, export.size = file, rows, size
        export.expires_at = now + timedelta(hours=settings.EXPORT_KEEP_HOURS)
        expires = timezone.localtime(export.expires_at).strftime("%Y-%m-%d %H:%M")

        def message() -> str:
            text = _(
                "Your export “%(title)s” (%(rows)s rows, %(format)s) is ready to download until %(expires)s."
            )
            return text % {
                "title": export.title,
                "rows": rows,
                "format": export.get_format_display(),
                "expires": expires,
            }

        url = reverse("export_download", args=[export.pk])
    else:

        def message() -> str:
            text = _("Your export “%(title)s” could not be written. Please try again or narrow the filters.")
            return text % {"title": export.title}

        url = ""
    export.save(update_fields=["status", "finished_at", "file", "rows", "size", "expires_at"])
    notify(user=export.user, message=message, url=url)


def for_user(user: User) -> QuerySet[BackgroundExport]:
    return BackgroundExport.objects.filter(user=user)


def download(export: BackgroundExport) -> File[bytes]:
    """The export's file, opened; the caller (a response) closes it."""
    return storage().open(export.file, "rb")


def download_name(export: BackgroundExport) -> str:
    return f"{export.filename}-{timezone.localtime(export.created_at):%Y%m%d-%H%M}.{export.format}"


def expire_exports(now: datetime | None = None) -> int:
    """Deletes the files of exports past their time and marks them expired; returns how many."""
    now = now or timezone.now()
    expired = 0
    due = BackgroundExport.objects.filter(status=Status.READY, expires_at__lte=now)
    for export in due.only("pk", "file")[:1000]:
        storage().delete(export.file)
        expired += BackgroundExport.objects.filter(pk=export.pk, status=Status.READY).update(
            status=Status.EXPIRED, file=""
        )
    return expired


def response_for_expired(request: HttpRequest) -> HttpResponse:
    messages.warning(request, _("That export's file has expired. Export the list again to get a new one."))
    return redirect("exports")
