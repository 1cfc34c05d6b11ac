"""The customer import pages, for managers: upload a file, check the dry run and the mapping, import.

Between the dry run and the real run the file waits on disk under var/imports/, named after the
uploading user and a random token, so another user's token finds nothing. It is removed once
imported; files left behind by previews nobody confirmed are removed after a day. With several
app servers, var/imports/ must be storage they share.
"""

import time
import uuid
from contextlib import suppress
from datetime import timedelta
from functools import wraps
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from crm.roles import is_manager
from customers.importing import (
    IMPORT_FIELDS,
    ImportFileError,
    MappingError,
    check_mapping,
    detect_mapping,
    read_table,
    run_import,
)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_LIFETIME = timedelta(days=1)
PREVIEW_ROWS = 100  # accepted rows listed on the preview; rejected rows are always listed in full


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GB18030) or Excel .xlsx, at most 10 MB. The first row names the columns."),
    )

    def clean_file(self):
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
    """One select per column of the file: the field it fills, or none."""

    def __init__(self, headers, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— not imported —")), *((field.key, field.label) for field in IMPORT_FIELDS)]
        for index, (header, detected) in enumerate(zip(headers, detect_mapping(headers), strict=True)):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                choices=choices,
                required=False,
                initial=detected,
                label=header or _("Column %(number)s") % {"number": index + 1},
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def mapping(self):
        return [self.cleaned_data[name] for name in self.fields]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                check_mapping(self.mapping())
            except MappingError as error:
                raise ValidationError(str(error)) from None
        return cleaned


def managers_only(view):
    @wraps(view)
    def view_for_managers(request, *args, **kwargs):
        if not is_manager(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return view_for_managers


@managers_only
def import_upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        token = _store_upload(request.user, form.cleaned_data["file"])
        return redirect("customers:import_preview", token=token)
    return render(request, "customers/import_upload.html", {"form": form})


@managers_only
def import_preview(request, token):
    """GET: the dry run with the detected mapping. POST: again with the chosen mapping, or the real run."""
    path = _upload_path(request.user, token)
    try:
        table = read_table(path.read_bytes())
    except FileNotFoundError:
        messages.warning(
            request, _("That upload is no longer here (imported or expired). Upload the file again.")
        )
        return redirect("customers:import")
    form = MappingForm(table.headers, request.POST or None)
    if request.method != "POST":
        mapping = detect_mapping(table.headers)
    elif form.is_valid():
        mapping = form.mapping()
    else:
        return _render_preview(request, table, form, report=None)
    if "commit" in request.POST:
        report = run_import(request.user, table, mapping, commit=True)
        path.unlink(missing_ok=True)
        return render(request, "customers/import_done.html", _report_context(report))
    return _render_preview(request, table, form, run_import(request.user, table, mapping, commit=False))


def _render_preview(request, table, form, report):
    samples = table.rows[0].cells
    context = {"columns": list(zip(form, samples, strict=True)), "form": form, "report": report}
    if report:
        context |= _report_context(report)
    return render(request, "customers/import_preview.html", context)


def _report_context(report):
    accepted = report.accepted_rows
    return {
        "report": report,
        "accepted_shown": accepted[:PREVIEW_ROWS],
        "accepted_hidden": max(len(accepted) - PREVIEW_ROWS, 0),
    }


def _upload_dir():
    return Path(settings.BASE_DIR) / "var" / "imports"


def _upload_path(user, token):
    return _upload_dir() / f"{user.pk}-{token.hex}"


def _store_upload(user, data):
    directory = _upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale_uploads(directory)
    token = uuid.uuid4()
    _upload_path(user, token).write_bytes(data)
    return token


def _remove_stale_uploads(directory):
    cutoff = time.time() - UPLOAD_LIFETIME.total_seconds()
    for path in directory.iterdir():
        with suppress(FileNotFoundError):  # another process may remove it first
            if path.stat().st_mtime < cutoff:
                path.unlink()
