"""The import pages every importer shares, for managers: upload a file, check the dry run and the
column mapping, import.

Between the dry run and the real run the file waits on disk under var/imports/, named after the
importer, the uploading user and a random token, so another user's token finds nothing. It is
removed once imported; files left behind by previews nobody confirmed are removed after a day.
With several app servers, var/imports/ must be storage they share.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.http import AuthenticatedRequest
from crm.importing import (
    Columns,
    ImportFileError,
    ImportOption,
    ImportReport,
    MappingError,
    RunImport,
    Table,
    read_table,
)
from crm.roles import is_manager

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_LIFETIME = timedelta(days=1)
PREVIEW_ROWS = 100  # accepted rows listed on the preview; rejected rows are always listed in full


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GB18030) or Excel .xlsx, at most 10 MB. The first row names the columns."),
    )

    def clean_file(self) -> bytes:
        """The file's bytes, once they are known to hold a table."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 10 MB. Split it into smaller files."))
        data = upload.read()
        try:
            read_table(data)
        except ImportFileError as error:
            raise ValidationError(str(error)) from None
        return data


class MappingForm(forms.Form):
    """One select per column of the file: the field it fills, or none; and the importer's option, if any."""

    def __init__(
        self,
        columns: Columns,
        headers: Sequence[str],
        *args: Any,
        option: ImportOption | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.columns, self.option = columns, option
        choices = [("", _("— not imported —")), *((field.key, field.label) for field in columns.fields)]
        for index, (header, detected) in enumerate(zip(headers, columns.detect(headers), strict=True)):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                choices=choices,
                required=False,
                initial=detected,
                label=header or _("Column %(number)s") % {"number": index + 1},
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

        if option is not None:
            self.fields["option"] = forms.BooleanField(
                label=option.label, help_text=option.help_text, required=False
            )

    def mapping(self) -> list[str]:
        return [self.cleaned_data[name] for name in self.fields if name.startswith("column_")]

    def run_import(self, default: RunImport) -> RunImport:
        """The option's run when it is ticked, else `default`."""
        if self.option is not None and self.cleaned_data.get("option"):
            return self.option.run_import
        return default

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if not self.errors:
            try:
                self.columns.check(self.mapping())
            except MappingError as error:
                raise ValidationError(str(error)) from None
        return cleaned


View = Callable[..., HttpResponse]


def managers_only(view: View) -> View:
    @wraps(view)
    def view_for_managers(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_manager(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return view_for_managers


@dataclass
class ImportPages:
    """The pages of one importer."""

    kind: str  # names the uploads of this importer
    columns: Columns
    run_import: RunImport
    title: StrOrPromise  # e.g. "Import customers"
    list_title: StrOrPromise  # the breadcrumb and button back to the list
    list_url: str  # a URL name
    upload_url: str  # a URL name
    preview_url: str  # a URL name, taking the token
    help_template: str  # how the rows are applied, shown beside the upload form
    record_label: StrOrPromise  # the report's column naming the record, e.g. "Customer"
    option: ImportOption | None = None

    def upload(self, request: AuthenticatedRequest) -> HttpResponse:
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            token = _store_upload(self.kind, request.user, form.cleaned_data["file"])
            return redirect(self.preview_url, token=token)
        return render(request, "imports/upload.html", self._context(form=form))

    def preview(self, request: AuthenticatedRequest, token: uuid.UUID) -> HttpResponse:
        """GET: the dry run with the detected mapping. POST: again with the chosen mapping, or for real."""
        path = _upload_path(self.kind, request.user, token)
        try:
            table = read_table(path.read_bytes())
        except FileNotFoundError:
            messages.warning(
                request, _("That upload is no longer here (imported or expired). Upload the file again.")
            )
            return redirect(self.upload_url)
        form = MappingForm(self.columns, table.headers, request.POST or None, option=self.option)
        if request.method != "POST":
            mapping, run_import = self.columns.detect(table.headers), self.run_import
        elif form.is_valid():
            mapping, run_import = form.mapping(), form.run_import(self.run_import)
        else:
            return self._render_preview(request, table, form, report=None)
        commit = "commit" in request.POST
        try:
            report = run_import(actor=request.user, table=table, mapping=mapping, commit=commit)
        except MappingError as error:  # e.g. no column for a field every row needs: said once
            return self._render_preview(request, table, form, report=None, mapping_error=str(error))
        if commit:
            path.unlink(missing_ok=True)
            return render(request, "imports/done.html", self._context(**_report_context(report)))
        return self._render_preview(request, table, form, report)

    def views(self) -> tuple[View, View]:
        """The upload and preview views, for the urls."""
        return managers_only(self.upload), managers_only(self.preview)

    def _render_preview(
        self,
        request: AuthenticatedRequest,
        table: Table,
        form: MappingForm,
        report: ImportReport | None,
        mapping_error: str = "",
    ) -> HttpResponse:
        samples = table.rows[0].cells
        column_fields = [field for field in form if field.name.startswith("column_")]
        context = {
            "columns": list(zip(column_fields, samples, strict=True)),
            "form": form,
            "report": report,
            "mapping_error": mapping_error,
        }
        if report:
            context |= _report_context(report)
        return render(request, "imports/preview.html", self._context(**context))

    def _context(self, **context: Any) -> dict[str, Any]:
        return {
            "import_title": self.title,
            "list_title": self.list_title,
            "list_url": reverse(self.list_url),
            "upload_url": reverse(self.upload_url),
            "help_template": self.help_template,
            "record_label": self.record_label,
            **context,
        }


def _report_context(report: ImportReport) -> dict[str, Any]:
    accepted = report.accepted_rows
    return {
        "report": report,
        "accepted_shown": accepted[:PREVIEW_ROWS],
        "accepted_hidden": max(len(accepted) - PREVIEW_ROWS, 0),
    }


def _upload_dir() -> Path:
    return Path(settings.BASE_DIR) / "var" / "imports"


def _upload_path(kind: str, user: User, token: uuid.UUID) -> Path:
    return _upload_dir() / f"{kind}-{user.pk}-{token.hex}"


def _store_upload(kind: str, user: User, data: bytes) -> uuid.UUID:
    directory = _upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale_uploads(directory)
    token = uuid.uuid4()
    _upload_path(kind, user, token).write_bytes(data)
    return token


def _remove_stale_uploads(directory: Path) -> None:
    cutoff = time.time() - UPLOAD_LIFETIME.total_seconds()
    for path in directory.iterdir():
        with suppress(FileNotFoundError):  # another process may remove it first
            if path.stat().st_mtime < cutoff:
                path.unlink()
