"""CSV and XLSX downloads of any list, with spreadsheet formulas neutralised.

In a CSV, a cell that starts with = + - or @ (or a tab or carriage return) would be run as a
formula by Excel or LibreOffice; it is prefixed with an apostrophe so it shows as the text it is.
An XLSX cell carries its type, so text is written as a text cell, which is never evaluated, and
keeps its exact value.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
    from openpyxl.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEMORY_BYTES = 8 * 1024 * 1024


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return f"'{value}"
    return value


def _plain(value: Any) -> Any:
    """A value as a spreadsheet holds it: local naive datetimes, numbers, or text."""
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if value is None:
        return ""
    return value if isinstance(value, int | float | Decimal | date) else str(value)


def csv_response(
    filename: str, headers: Sequence[StrOrPromise], rows: Iterable[Sequence[Any]]
) -> FileResponse:
    """Rows as CSV (UTF-8 with a BOM, so Excel reads Chinese correctly).

    The whole file is written before the response starts (in memory, on disk past CSV_MEMORY_BYTES)
    and sent with its length: an error on any row fails the request, so a download can never end
    early looking complete, as a stream cut by an error would.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=CSV_MEMORY_BYTES)  # noqa: SIM115 - the response closes it
    text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow([str(h) for h in headers])
    writer.writerows([_csv_text(v) for v in row] for row in rows)
    text.flush()
    text.detach()
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=f"{filename}.csv", content_type="text/csv; charset=utf-8"
    )


def _csv_text(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return neutralise(value)


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> Cell:
    cell = WriteOnlyCell(sheet, value=_plain(value))
    if isinstance(cell.value, str):
        cell.data_type = "s"  # text, even when it starts with "="
    return cell


def xlsx_response(
    filename: str, headers: Sequence[StrOrPromise], rows: Iterable[Sequence[Any]], sheet_title: str = "Export"
) -> HttpResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.append([str(h) for h in headers])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def export_response(
    export_format: str | None,
    filename: str,
    headers: Sequence[StrOrPromise],
    rows: Iterable[Sequence[Any]],
    sheet_title: str = "Export",
) -> HttpResponse | FileResponse:
    if export_format == "xlsx":
        return xlsx_response(filename, headers, rows, sheet_title)
    return csv_response(filename, headers, rows)
