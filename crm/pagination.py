"""Keyset pagination: every page, the last one included, costs one indexed range scan.

A page is addressed by a cursor, the sort-key values of the row it starts after (or before),
so no page needs an OFFSET over the rows in front of it. The ordering must end with a unique
field (the primary key) so that rows with equal sort values are neither skipped nor repeated.
A cursor comes from the address: its values are checked against their columns' bounds
(crm/fields.py) before they reach a query, and a cursor that fails is ignored (the first page).

The total shown beside the pager is counted only up to a limit (settings.LIST_COUNT_LIMIT): the
count runs over at most limit + 1 rows, so its cost stays flat however much the list holds, and
past the limit the page says "1,000+" instead of an exact number. Next and previous never need it.
"""

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections
from django.db.models import Model, Q, QuerySet

from crm.fields import is_value_in_bounds
from crm.models import VisibleQuerySet, model_field

FIRST, NEXT, PREVIOUS, LAST = "first", "next", "prev", "last"


@dataclass
class KeysetPage:
    items: list[Any]
    has_next: bool
    has_previous: bool
    next_cursor: str
    previous_cursor: str
    total: int
    total_is_capped: bool = False

    @property
    def is_paginated(self) -> bool:
        return self.has_next or self.has_previous


def _encode(row: Model, fields: Sequence[str]) -> str:
    values = [getattr(row, name.lstrip("-")) for name in fields]
    raw = json.dumps([_plain(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _plain(value: Any) -> Any:
    """A sort-key value as JSON holds it: dates in ISO format, decimals as exact strings."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else value


def _decode(cursor: str, model: type[Model], fields: Sequence[str]) -> list[Any] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(fields):
            return None
        columns = [model_field(model, name.lstrip("-")) for name in fields]
        decoded = [column.to_python(v) for column, v in zip(columns, values, strict=True)]
    except (ValueError, TypeError, OverflowError, ValidationError):
        return None
    in_bounds = all(is_value_in_bounds(column, v) for column, v in zip(columns, decoded, strict=True))
    return decoded if in_bounds else None


def _after(fields: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows that come after `values` in the order `fields` (a lexicographic comparison)."""
    clauses = []
    for depth, name in enumerate(fields):
        column = name.lstrip("-")
        equal = {f.lstrip("-"): v for f, v in zip(fields[:depth], values[:depth], strict=True)}
        lookup = "lt" if name.startswith("-") else "gt"
        clauses.append(Q(**equal, **{f"{column}__{lookup}": values[depth]}))
    return reduce(or_, clauses)


def _reverse(fields: Sequence[str]) -> list[str]:
    return [name[1:] if name.startswith("-") else f"-{name}" for name in fields]


def bounded_count(queryset: QuerySet[Any], limit: int) -> tuple[int, bool]:
    """How many rows `queryset` holds, counting no further than `limit` (one query over at most
    limit + 1 rows); the second value says the true count is above the limit.

    Rows a user sees through their own owner column or another path (an order its owner sees, or
    one on a customer of theirs) are first counted through that column alone, on its index: when
    those already pass the limit, so do the rows, and the count of them all is never run."""
    owned = queryset.owned_in_own_columns() if isinstance(queryset, VisibleQuerySet) else None
    if owned is None:
        found = queryset.order_by()[: limit + 1].count()
    else:
        found = _count_owned_first(owned, queryset, limit)
    return (limit, True) if found > limit else (found, False)


def _count_owned_first(owned: QuerySet[Any], queryset: QuerySet[Any], limit: int) -> int:
    """limit + 1 when `owned` (a subset of `queryset`) holds more than `limit` rows, else the rows of
    `queryset` counted up to limit + 1, in one query (the database runs the second count only if needed)."""
    try:
        owned_sql, owned_params = _limited_count(owned, limit)
        all_sql, all_params = _limited_count(queryset, limit)
    except EmptyResultSet:
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            f"SELECT CASE WHEN ({owned_sql}) > %s THEN %s ELSE ({all_sql}) END",
            (*owned_params, limit, limit + 1, *all_params),
        )
        return int(cursor.fetchone()[0])


def _limited_count(queryset: QuerySet[Any], limit: int) -> tuple[str, tuple[Any, ...]]:
    """SQL counting the rows of `queryset`, no more than limit + 1 of them, and its parameters."""
    rows = queryset.order_by().values("pk")[: limit + 1]
    sql, params = rows.query.get_compiler(using=rows.db).as_sql()
    return f"SELECT COUNT(*) FROM ({sql}) AS counted", tuple(params)


def paginate(
    queryset: QuerySet[Any],
    ordering: Sequence[str],
    *,
    cursor: str = "",
    direction: str = FIRST,
    page_size: int = 25,
    count_limit: int = 10_000,
) -> KeysetPage:
    """One page of `queryset` in `ordering` (a list of field names, the last one unique), with its
    total counted up to `count_limit`."""
    total, capped = bounded_count(queryset, count_limit)
    values = _decode(cursor, queryset.model, ordering) if cursor else None
    if values is None and direction in (NEXT, PREVIOUS):
        direction = FIRST
    backwards = direction in (PREVIOUS, LAST)
    order = _reverse(ordering) if backwards else list(ordering)
    selected = queryset.order_by(*order)
    if values is not None and direction in (NEXT, PREVIOUS):
        selected = selected.filter(_after(order, values))
    rows = list(selected[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
    has_previous = more if backwards else direction == NEXT
    has_next = more if not backwards else direction == PREVIOUS
    return KeysetPage(
        items=rows,
        has_next=has_next,
        has_previous=has_previous,
        next_cursor=_encode(rows[-1], ordering) if rows and has_next else "",
        previous_cursor=_encode(rows[0], ordering) if rows and has_previous else "",
        total=total,
        total_is_capped=capped,
    )
