"""Inserting many validated rows at once, with their field history, inside the caller's transaction.

A row is a dict of a model's column values by field `attname`; a column it leaves out gets the field's
default (a callable default is called once per insert), and auto_now(_add) fields one time for all.
On PostgreSQL the ids are taken from the table's sequence in one query (so that concurrent writers
never collide and related rows can point at them before they are written), the rows go in with
one `COPY … FROM STDIN` per table, and their history rows are copied from them by one
`INSERT … SELECT`; elsewhere (SQLite) Django's `bulk_create` and simple-history's
`bulk_history_create` do it. Either way the database's constraints check every row, and the rows come
back with their ids. Nothing here validates: the callers are services that have done so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connection, models
from django.utils import timezone

from crm.scale.writer import copy_rows

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ModelT = TypeVar("ModelT", bound=models.Model)
Row = dict[str, Any]


def insert(model: type[models.Model], rows: Sequence[Row]) -> Sequence[Row]:
    """Insert `rows` of `model` (no multi-table inheritance), completed with defaults and their new ids."""
    if not rows:
        return rows
    fields = list(model._meta.concrete_fields)
    now = timezone.now()
    defaults = {field.attname: field.get_default() for field in fields}
    stamped = [
        field.attname
        for field in fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    for row in rows:
        for column, default in defaults.items():
            row.setdefault(column, default)
        row.update(dict.fromkeys(stamped, now))
    pk = model._meta.pk
    assert pk is not None
    if connection.vendor != "postgresql":
        saved = model._default_manager.bulk_create([model(**row) for row in rows])
        for row, instance in zip(rows, saved, strict=True):  # its id, and the times bulk_create stamped
            row.update((field.attname, getattr(instance, field.attname)) for field in fields)
        return rows
    for row, new_id in zip(rows, _new_ids(model, len(rows)), strict=True):
        row[pk.attname] = new_id
    columns = [field.attname for field in fields]
    values = ([row[column] for column in columns] for row in rows)
    with connection.wrap_database_errors:  # an IntegrityError as Django raises it, for the callers
        copy_rows(
            model._meta.db_table, [str(field.column) for field in fields], values, _json_positions(fields)
        )
    return rows


def instances(model: type[ModelT], rows: Sequence[Mapping[str, Any]]) -> list[ModelT]:
    """The saved rows as instances of `model`, as a query would return them."""
    columns = [field.attname for field in model._meta.concrete_fields]
    return [model.from_db(connection.alias, columns, [row[column] for column in columns]) for row in rows]


def insert_history(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    user: User | None,
    reason: str | None = None,
    update: bool = False,
) -> None:
    """The history rows simple-history's `bulk_history_create` writes for saved `rows`: one each,
    by `user`, now, for `reason`; a creation ("+"), or with `update` a change ("~")."""
    if not rows:
        return
    manager = model.history  # type: ignore[attr-defined]
    if connection.vendor != "postgresql":
        manager.bulk_history_create(
            instances(model, rows), update=update, default_user=user, default_change_reason=reason
        )
        return
    # Copied from the rows just written, inside the database: sending every value again from Python
    # cost a tenth of a customer import.
    historical = manager.model
    tracked = historical.tracked_fields
    stamps = {
        "history_date": timezone.now(),
        "history_change_reason": reason,
        "history_type": "~" if update else "+",
        "history_user_id": user.pk if user else None,
    }
    quote = connection.ops.quote_name
    tracked_columns = [quote(field.column) for field in tracked]  # the history table names them alike
    pk = model._meta.pk
    assert pk is not None
    sql = (
        f"INSERT INTO {quote(historical._meta.db_table)} "
        f"({', '.join(tracked_columns + [quote(name) for name in stamps])}) "
        f"SELECT {', '.join(tracked_columns)}, {', '.join(['%s'] * len(stamps))} "
        f"FROM {quote(model._meta.db_table)} WHERE {quote(str(pk.column))} = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*stamps.values(), [row[pk.attname] for row in rows]])


def _new_ids(model: type[models.Model], count: int) -> list[int]:
    pk = model._meta.pk
    assert pk is not None
    # The sequence is found once: pg_get_serial_sequence for each id cost ten times the nextval.
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH sequence AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS id) "
            "SELECT nextval(sequence.id) FROM sequence, generate_series(1, %s)",
            [model._meta.db_table, pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _json_positions(fields: list[models.Field[Any, Any]]) -> list[int]:
    return [position for position, field in enumerate(fields) if isinstance(field, models.JSONField)]
