"""A customer's timeline: everything that happened with the customer, from every app, newest first.

Each app registers its sources when it is ready (see customers/timeline.py). A source yields one
kind of entry (a communication, a need raised, an order event…): for a customer, its newest
entries before a cursor, from one query. A page asks every source for one page, merges the
answers newest first and keeps one page, so it costs one query per source whatever the data;
sources that read the same table (a need raised and resolved, a follow-up scheduled and done)
share one query.

Entries are ordered by (time, kind, pk), all descending; the cursor is the last entry shown,
so entries at the same instant are neither skipped nor repeated from one page to the next.
A source's template renders one entry; it gets `entry` and its row as `item`.

The caller passes a customer the user may see: every entry of a visible customer is visible.
"""

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import BooleanField, Model, Q, QuerySet
from django.db.models.expressions import RawSQL

from crm.fields import MAX_ID, is_day_in_range

PAGE_SIZE = 20
quote_name = connection.ops.quote_name
# The htmx event a response triggers when it changed what the timeline shows: the timeline reloads.
CHANGED_EVENT = "timeline-changed"


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    pk: int
    template: str
    item: Any

    @property
    def key(self) -> tuple[datetime, str, int]:
        return (self.at, self.kind, self.pk)


@dataclass(frozen=True)
class Cursor:
    """The last entry of a page: the next page holds the entries that come after it."""

    at: datetime
    kind: str
    pk: int

    def encode(self) -> str:
        raw = json.dumps([self.at.isoformat(), self.kind, self.pk])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Self | None:
        """The cursor `text` encodes, or None when it is empty or not a cursor."""
        if not text:
            return None
        try:
            at, kind, pk = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            cursor = cls(datetime.fromisoformat(at), str(kind), int(pk))
        except (ValueError, TypeError):
            return None
        valid = cursor.at.tzinfo and is_day_in_range(cursor.at) and 0 <= cursor.pk <= MAX_ID
        return cursor if valid else None

    def older(self, kind: str, time_field: str, pk_field: str = "pk") -> Q:
        """The rows of a source of `kind` that come after this cursor, newest first."""
        if kind < self.kind:
            return Q(**{f"{time_field}__lte": self.at})
        if kind > self.kind:
            return Q(**{f"{time_field}__lt": self.at})
        return Q(**{f"{time_field}__lt": self.at}) | Q(**{time_field: self.at, f"{pk_field}__lt": self.pk})


class Source:
    """Entries of one kind: the rows of `queryset` that belong to the customer, at `time_field`.

    `customer_path` leads from a row to the customer's id (e.g. "customer" or "order__customer");
    rows whose time is empty are not on the timeline.
    """

    def __init__(
        self,
        kind: str,
        template: str,
        queryset: QuerySet[Any],
        time_field: str,
        customer_path: str = "customer",
    ) -> None:
        self.kind, self.template, self.queryset = kind, template, queryset
        self.time_field, self.customer_path = time_field, customer_path

    def window(self, customer: Model, cursor: Cursor | None, limit: int) -> QuerySet:
        """The rows of one page, as a queryset."""
        rows = self.queryset.filter(**{self.customer_path: customer.pk, f"{self.time_field}__isnull": False})
        if cursor:
            rows = rows.filter(cursor.older(self.kind, self.time_field))
        return rows.order_by(f"-{self.time_field}", "-pk")[:limit]

    def rows(self, customer: Model, cursor: Cursor | None, limit: int) -> list[Any]:
        return list(self.window(customer, cursor, limit))

    def entry(self, row: Any) -> Entry:
        return Entry(getattr(row, self.time_field), self.kind, row.pk, self.template, row)

    def entries(self, customer: Model, cursor: Cursor | None, limit: int) -> list[Entry]:
        return [self.entry(row) for row in self.rows(customer, cursor, limit)]


_sources: dict[str, Source] = {}


def register(source: Source) -> None:
    """Adds a source to every customer's timeline; each kind is registered once."""
    if _sources.get(source.kind, source) is not source:
        raise ImproperlyConfigured(f"Two timeline sources are registered as {source.kind!r}.")
    _sources[source.kind] = source


def sources() -> list[Source]:
    return list(_sources.values())


@dataclass
class TimelinePage:
    entries: list[Entry]
    next_cursor: str

    @property
    def has_more(self) -> bool:
        return bool(self.next_cursor)


def _related_paths(tree: dict[str, Any] | bool, prefix: str = "") -> Iterator[str]:
    """The select_related() paths of a query's select_related tree."""
    if isinstance(tree, dict):
        for name, below in tree.items():
            yield f"{prefix}{name}"
            yield from _related_paths(below, f"{prefix}{name}__")


def _read_together(group: list[Source], customer: Model, cursor: Cursor | None, limit: int) -> list[Entry]:
    """The entries of sources that read one table, from one query: the rows of every source's window,
    each flagged with the windows it is in. The windows' SQL is joined here rather than by the ORM,
    whose composing of the union and flags cost more than the query."""
    model = group[0].queryset.model
    table, pk = quote_name(model._meta.db_table), quote_name(model._meta.pk.column)
    windows = [
        source.window(customer, cursor, limit).values(model._meta.pk.attname).query.sql_with_params()
        for source in group
    ]
    members = " UNION ALL ".join(f"SELECT shown.{pk} FROM ({sql}) shown" for sql, _params in windows)
    flags = {
        f"in_window_{index}": RawSQL(
            f"{table}.{pk} IN (SELECT shown.{pk} FROM ({sql}) shown)", params, output_field=BooleanField()
        )
        for index, (sql, params) in enumerate(windows)
    }
    paths = {path for source in group for path in _related_paths(source.queryset.query.select_related)}
    rows = list(
        model._default_manager.select_related(*paths)
        .filter(pk__in=RawSQL(members, tuple(param for _sql, params in windows for param in params)))
        .annotate(**flags)
        .order_by()
    )
    return [
        source.entry(row)
        for index, source in enumerate(group)
        for row in rows
        if getattr(row, f"in_window_{index}")
    ]


def _groups(registered: list[Source]) -> list[list[Source]]:
    """The sources, those of the plain kind that read the same table together."""
    groups: dict[object, list[Source]] = {}
    for source in registered:
        shared = type(source) is Source
        groups.setdefault(source.queryset.model if shared else source, []).append(source)
    return list(groups.values())


def _entries(group: list[Source], customer: Model, cursor: Cursor | None, limit: int) -> list[Entry]:
    if len(group) == 1:
        return group[0].entries(customer, cursor, limit)
    return _read_together(group, customer, cursor, limit)


def customer_timeline(customer: Model, cursor: str = "", page_size: int = PAGE_SIZE) -> TimelinePage:
    """One page of the customer's timeline, newest first, starting after `cursor` (an encoded Cursor)."""
    after = Cursor.decode(cursor)
    candidates = [
        entry for group in _groups(sources()) for entry in _entries(group, customer, after, page_size + 1)
    ]
    candidates.sort(key=lambda entry: entry.key, reverse=True)
    entries = candidates[:page_size]
    more = len(candidates) > page_size
    next_cursor = Cursor(*entries[-1].key).encode() if more else ""
    return TimelinePage(entries=entries, next_cursor=next_cursor)
