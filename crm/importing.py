"""Importing rows from CSV and XLSX files: reading the table, mapping its columns to fields, the report.

Each importer (customers, products) declares its fields as `Columns` and applies the rows itself,
through its app's services; this module holds what they share. The first row of a file names
the columns; each column maps to one field (or none), recognised from its header: the field's key,
its label in every language, or an alias.

CSV files are read as UTF-8 (with or without a BOM), else as GB18030; workbooks from their
first sheet.
"""

from __future__ import annotations

import csv
import gc
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

import openpyxl
from django.conf import settings
from django.db import models
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.fields import is_day_in_range

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

XLSX_SIGNATURE = b"PK\x03\x04"


class ImportFileError(Exception):
    """The file cannot be read as a table; the message tells the user why."""


class MappingError(Exception):
    """The column mapping cannot be used; the message tells the user why."""


class RowRejected(Exception):
    def __init__(self, *messages: StrOrPromise) -> None:
        super().__init__(*messages)
        self.messages = list(messages)


# The third threshold counts collections of the middle generation: a full collection is due only after
# this many (and once the surviving objects have grown by a quarter).
FULL_COLLECTION_NEVER = 2**31 - 1


@contextmanager
def full_collections_deferred() -> Iterator[None]:
    """Inside, Python's garbage collector makes no full collection (the young generations are still
    collected). An import holds every row it has read and every result until it ends, and each full
    collection walks all of them: 13 walks took 2.3 of the 21 s of a 100,000-row customer import."""
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], FULL_COLLECTION_NEVER)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


@dataclass(frozen=True)
class ImportField:
    key: str
    label: StrOrPromise
    aliases: tuple[str, ...] = ()


class Action(models.TextChoices):
    CREATE = "create", gettext_lazy("Create")
    UPDATE = "update", gettext_lazy("Update")
    REJECT = "reject", gettext_lazy("Reject")


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    cells: list[str]


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[Row]


@dataclass(frozen=True)
class Change:
    """What a row that updates a record changes: a field, its value before and after ("" for none)."""

    field: StrOrPromise
    old: str
    new: str


@dataclass
class RowResult:
    number: int
    action: Action
    name: str = ""
    record_id: int | None = None
    errors: list[StrOrPromise] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowResult]
    committed: bool

    def _count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created(self) -> int:
        return self._count(Action.CREATE)

    @property
    def updated(self) -> int:
        return self._count(Action.UPDATE)

    @property
    def rejected(self) -> int:
        return self._count(Action.REJECT)

    @property
    def rejected_rows(self) -> list[RowResult]:
        return [row for row in self.rows if row.action == Action.REJECT]

    @property
    def accepted_rows(self) -> list[RowResult]:
        return [row for row in self.rows if row.action != Action.REJECT]


class RunImport(Protocol):
    """An importer's run: checks (and with `commit`, saves) the table's rows as `actor` (None: the system)."""

    def __call__(
        self, *, actor: User | None, table: Table, mapping: Sequence[str], commit: bool
    ) -> ImportReport: ...


@dataclass(frozen=True)
class ImportOption:
    """A choice an importer offers, as a checkbox on its page and a flag of its command (`name` with
    dashes, e.g. --generate-sku): ticked, the rows are run by `run_import` instead of the usual run."""

    name: str
    label: StrOrPromise
    help_text: StrOrPromise
    run_import: RunImport


# Reading


def read_table(data: bytes) -> Table:
    """The table in a CSV or XLSX file's bytes; raises ImportFileError when it is neither."""
    records = _xlsx_records(data) if data.startswith(XLSX_SIGNATURE) else _csv_records(data)
    rows = [Row(number, [cell.strip() for cell in record]) for number, record in enumerate(records, start=1)]
    rows = [row for row in rows if any(row.cells)]
    if not rows:
        raise ImportFileError(_("The file is empty."))
    header, *rows = rows
    if not rows:
        raise ImportFileError(_("The file has a header row but no rows below it."))
    width = len(header.cells)
    return Table(header.cells, [Row(row.number, (row.cells + [""] * width)[:width]) for row in rows])


def _not_a_table() -> ImportFileError:
    return ImportFileError(_("This is neither a CSV file (UTF-8 or GB18030) nor an Excel .xlsx workbook."))


def _csv_records(data: bytes) -> list[list[str]]:
    if b"\x00" in data:  # binary, or UTF-16 text, which Excel writes as "Unicode text"
        raise _not_a_table()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise _not_a_table() from None
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise ImportFileError(_("The CSV file cannot be read: %(error)s") % {"error": error}) from None


def _xlsx_records(data: bytes) -> list[list[str]]:
    try:
        # data_only: a formula cell gives the value Excel last computed, which is what the user sees.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            # Some programs write wrong sheet dimensions, which read-only mode would trust.
            sheet.reset_dimensions()
            return [[_cell_text(value) for value in values] for values in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    except Exception:  # a damaged workbook fails in many ways inside openpyxl and zipfile
        raise ImportFileError(
            _("This Excel workbook cannot be read. Save it again as .xlsx or CSV and retry.")
        ) from None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # phone numbers typed into Excel arrive as numbers
    return str(value)


# Mapping


def _header_key(text: str) -> str:
    return re.sub(r"[\s_\-*:：]+", "", text).casefold()


class Columns:
    """The fields an importer takes, and how a file's columns map to them."""

    def __init__(self, fields: Iterable[ImportField]) -> None:
        self.fields = tuple(fields)
        self.by_key = {import_field.key: import_field for import_field in self.fields}

    def _header_index(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for import_field in self.fields:
            names = [import_field.key, *import_field.aliases]
            for language, _name in settings.LANGUAGES:
                with translation.override(language):
                    names.append(str(import_field.label))
            for name in names:
                index.setdefault(_header_key(name), import_field.key)
        return index

    def detect(self, headers: Sequence[str]) -> list[str]:
        """The field key each column maps to ("" for none), recognised from its header; each field once."""
        index, taken, mapping = self._header_index(), set[str](), list[str]()
        for header in headers:
            key = index.get(_header_key(header), "")
            mapping.append("" if key in taken else key)
            taken.add(key)
        return mapping

    def override(
        self, headers: Sequence[str], mapping: Sequence[str], overrides: Mapping[str, str]
    ) -> list[str]:
        """Apply {header: field key} overrides ("" skips a column); a field named moves to its new column."""
        for header, key in overrides.items():
            if header not in headers:
                raise MappingError(
                    _("There is no column “%(column)s”. The columns are: %(columns)s.")
                    % {"column": header, "columns": ", ".join(headers)}
                )
            if key and key not in self.by_key:
                raise MappingError(
                    _("“%(field)s” is not a field that can be imported. The fields are: %(fields)s.")
                    % {"field": key, "fields": ", ".join(self.by_key)}
                )
        moved = {key for key in overrides.values() if key}
        overridden = [
            overrides.get(header, "" if key in moved else key)
            for header, key in zip(headers, mapping, strict=True)
        ]
        self.check(overridden)
        return overridden

    def check(self, mapping: Sequence[str]) -> None:
        counts = Counter(key for key in mapping if key)
        repeated = [str(self.by_key[key].label) for key, count in counts.items() if count > 1]
        if repeated:
            raise MappingError(
                _("Each field can come from one column only; several columns are mapped to: %(fields)s.")
                % {"fields": ", ".join(repeated)}
            )

    def message(self, key: str, text: StrOrPromise) -> StrOrPromise:
        """`text` led by the label of the field it is about."""
        if key not in self.by_key:  # not about one field
            return text
        return _("%(field)s: %(message)s") % {"field": self.by_key[key].label, "message": text}

    def values(self, row: Row, mapping: Sequence[str]) -> dict[str, str]:
        """The row's filled cells, by field key."""
        return {key: cell for key, cell in zip(mapping, row.cells, strict=True) if key and cell}


def require_columns(
    columns: Columns, headers: Sequence[str], mapping: Sequence[str], keys: Iterable[str | tuple[str, ...]]
) -> None:
    """Raises one MappingError when no column maps to some of the required fields `keys` (a tuple: one
    of them will do), naming them and the file's columns, instead of rejecting every row for the same
    reason."""
    missing = []
    for key in keys:
        alternatives = (key,) if isinstance(key, str) else key
        if not set(alternatives) & set(mapping):
            missing.append(_(" or ").join(str(columns.by_key[name].label) for name in alternatives))
    if missing:
        raise MappingError(
            _("No column is imported as %(fields)s, which every row needs. The columns are: %(columns)s.")
            % {"fields": "; ".join(missing), "columns": ", ".join(header or "—" for header in headers)}
        )


# Cells


def parse_day(columns: Columns, key: str, text: str) -> date:
    """The day a cell holds (2025-03-31, or the start of a time); RowRejected at the field otherwise."""
    text = text.strip()
    try:
        day = parse_date(text[:10]) if len(text) >= 10 else None
    except ValueError:  # well formed, but no day of the calendar (2025-13-02)
        day = None
    if day is None or not is_day_in_range(day):
        raise RowRejected(
            columns.message(key, _("“%(value)s” is not a date such as 2025-03-31.") % {"value": text})
        )
    return day


def parse_instant(columns: Columns, key: str, text: str) -> datetime:
    """The time a cell holds (2025-03-31 14:00, in the site's time zone unless it says) or a day (its
    start); RowRejected at the field otherwise."""
    text = text.strip()
    try:
        moment = parse_datetime(text) if len(text) > 10 else None
    except ValueError:
        moment = None
    if moment is None:
        moment = datetime.combine(parse_day(columns, key, text), time.min)
    elif not is_day_in_range(moment):
        raise RowRejected(
            columns.message(key, _("“%(value)s” is not a date such as 2025-03-31.") % {"value": text})
        )
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def parse_amount(columns: Columns, key: str, text: str) -> Decimal:
    """An amount as spreadsheets write it (thousands separators, ¥); RowRejected at the field otherwise."""
    try:
        amount = Decimal(text.replace(",", "").replace("¥", "").replace("￥", "").strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise RowRejected(columns.message(key, _("“%(value)s” is not an amount.") % {"value": text}))
    return amount


# Choices


def _choice_key(text: str) -> str:
    return "".join(text.split()).casefold()


def choice_names(choices: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """(value, label) choices as the names of a ChoiceLookup: each value named by itself and its label."""
    return [pair for value, label in choices for pair in ((value, value), (value, label))]


class ChoiceLookup:
    """Choices found by a cell's text: the stored value or any of its names, each read in every
    language, whatever its case and spaces ("Trade show", "trade  SHOW", "exhibition" and "展会" alike).

    `names` are (value, name) pairs, the first pair naming a text winning; `allowed` are the names a
    rejection lists, read in the reader's language.
    """

    def __init__(self, names: Iterable[tuple[Any, Any]], allowed: Iterable[Any]) -> None:
        self.allowed = list(allowed)
        self.by_key: dict[str, Any] = {}
        for value, name in names:
            for language, _name in settings.LANGUAGES:
                with translation.override(language):
                    self.by_key.setdefault(_choice_key(str(name)), value)

    @classmethod
    def of_field(cls, db_field: models.Field[Any, Any]) -> ChoiceLookup:
        """A choice field's values (as stored, in text) by themselves and by their labels."""
        choices = [(str(value), label) for value, label in db_field.flatchoices if value != ""]
        return cls(choice_names(choices), allowed=[label for _value, label in choices])

    def value(self, text: str) -> Any:
        """The value `text` names; raises RowRejected listing the allowed names (in the current
        language) when it names none."""
        try:
            return self.by_key[_choice_key(text)]
        except KeyError:
            message = _("“%(value)s” is not one of the allowed values: %(values)s.")
            labels = ", ".join(str(name) for name in self.allowed)
            raise RowRejected(message % {"value": text, "values": labels}) from None

    def cell(self, columns: Columns, key: str, text: str) -> Any:
        """`value(text)` for the column `key`: a rejection is led by the field's label."""
        try:
            return self.value(text)
        except RowRejected as rejection:
            raise RowRejected(*(columns.message(key, message) for message in rejection.messages)) from None
