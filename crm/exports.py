"""CSV and XLSX downloads of any list, with spreadsheet formulas neutralised.

In a CSV, a cell that starts with = + - or @ (or a tab or carriage return) would be run as a
formula by Excel or LibreOffice; it is prefixed with an apostrophe so it shows as the text it is.
An XLSX cell carries its type, so text is written as a text cell, which is never evaluated, and
keeps its exact value.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
    from openpyxl.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, headers: Sequence[StrOrPromise], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """Streams rows as CSV (UTF-8 with a BOM, so Excel reads Chinese correctly)."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow([str(h) for h in headers])
        for row in rows:
            yield writer.writerow([_csv_text(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


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
) -> HttpResponse | StreamingHttpResponse:
    if export_format == "xlsx":
        return xlsx_response(filename, headers, rows, sheet_title)
    return csv_response(filename, headers, rows)
