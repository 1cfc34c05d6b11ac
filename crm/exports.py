"""CSV and XLSX downloads of any list, with spreadsheet formulas neutralised.

In a CSV, a cell that starts with = + - or @ (or a tab or carriage return) would be run as a
formula by Excel or LibreOffice; it is prefixed with an apostrophe so it shows as the text it is.
An XLSX cell carries its type, so text is written as a text cell, which is never evaluated, and
keeps its exact value.
"""

from __future__ import annotations

import csv
import io
import itertools
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
    from openpyxl.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The CSV text (in characters) gathered before it is handed to the server.
CSV_CHUNK_CHARACTERS = 64 * 1024


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
) -> FileResponse | StreamingHttpResponse:
    """Rows as CSV (UTF-8 with a BOM, so Excel reads Chinese correctly), written as they are read.

    A file that fits in settings.EXPORT_BUFFER_BYTES is written whole before the response starts and
    sent with its length: an error on any row fails the request (a 500, no file). A larger one is
    streamed: the first EXPORT_BUFFER_BYTES, then the rest a chunk at a time as the rows come from
    the database, so memory stays flat however many rows there are. An error past the first chunk
    aborts the transfer: the server closes the connection without the end of its chunked body, so
    the browser reports a failed download instead of a file that ends early looking complete.
    """
    chunks = _csv_chunks(headers, rows)
    first, limit = bytearray(), settings.EXPORT_BUFFER_BYTES
    for chunk in chunks:
        first += chunk
        if len(first) > limit:
            response = StreamingHttpResponse(itertools.chain([bytes(first)], chunks), content_type=CSV_TYPE)
            response["Content-Disposition"] = content_disposition_header(True, f"{filename}.csv")
            return response
    return FileResponse(
        io.BytesIO(first),
        as_attachment=True,
        filename=f"{filename}.csv",
        content_type=CSV_TYPE,
    )


def _csv_chunks(headers: Sequence[StrOrPromise], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV file's bytes in chunks of about CSV_CHUNK_CHARACTERS, each written as its rows are read."""
    text = io.StringIO()
    writer = csv.writer(text)
    text.write("\ufeff")
    writer.writerow([str(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        if text.tell() >= CSV_CHUNK_CHARACTERS:
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
    yield text.getvalue().encode()


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
) -> HttpResponse | FileResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.append([str(h) for h in headers])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    # An XLSX file is a zip whose index comes last: it is built whole (openpyxl's write-only sheet
    # keeps its rows on disk), then sent from memory when small and from a temporary file when not.
    spool = tempfile.SpooledTemporaryFile(max_size=settings.EXPORT_BUFFER_BYTES)  # noqa: SIM115 - the response closes it
    workbook.save(spool)
    size = spool.tell()
    spool.seek(0)
    if size > settings.EXPORT_BUFFER_BYTES:
        return FileResponse(spool, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX_TYPE)
    with spool:
        response = HttpResponse(spool.read(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.xlsx")
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
