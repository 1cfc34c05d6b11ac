"""Inserting many validated instances at once, with their field history, inside the caller's transaction.

On PostgreSQL the ids are taken from the table's sequence in one query (so that concurrent writers
never collide and related rows can point at them before they are written), and the rows go in with
one `COPY … FROM STDIN` per table; elsewhere (SQLite) Django's `bulk_create` and simple-history's
`bulk_history_create` do it. Either way the database's constraints check every row, and the instances
come back with their ids, as `bulk_create` leaves them. Nothing here validates: the callers are
services that have done so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connection, models
from django.utils import timezone

from crm.scale.writer import copy_rows

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ModelT = TypeVar("ModelT", bound=models.Model)


def insert(model: type[ModelT], instances: Sequence[ModelT]) -> list[ModelT]:
    """Insert unsaved instances of `model` (no multi-table inheritance); returns them with their ids."""
    if not instances:
        return list(instances)
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_create(instances)
    pk = model._meta.pk
    assert pk is not None
    for instance, new_id in zip(instances, _new_ids(model, len(instances)), strict=True):
        setattr(instance, pk.attname, new_id)
    fields = list(model._meta.concrete_fields)
    rows = ([_db_value(field, instance) for field in fields] for instance in instances)
    columns = [str(field.column) for field in fields]
    with connection.wrap_database_errors:  # an IntegrityError as Django raises it, for the callers
        copy_rows(model._meta.db_table, columns, rows, _json_positions(fields))
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias
    return list(instances)


def insert_history(
    model: type[models.Model],
    instances: Sequence[models.Model],
    *,
    user: User | None,
    reason: str | None = None,
    update: bool = False,
) -> None:
    """The history rows simple-history's `bulk_history_create` writes for saved `instances`: one each,
    by `user`, now, for `reason`; a creation ("+"), or with `update` a change ("~")."""
    if not instances:
        return
    manager = model.history  # type: ignore[attr-defined]
    if connection.vendor != "postgresql":
        manager.bulk_history_create(instances, update=update, default_user=user, default_change_reason=reason)
        return
    historical = manager.model
    tracked = [field.attname for field in historical.tracked_fields]
    extra = {
        "history_date": timezone.now(),
        "history_change_reason": reason,
        "history_type": "~" if update else "+",
        "history_user_id": user.pk if user else None,
    }
    columns = [historical._meta.get_field(name).column for name in tracked] + list(extra)
    rows = ([getattr(instance, name) for name in tracked] + list(extra.values()) for instance in instances)
    with connection.wrap_database_errors:
        copy_rows(historical._meta.db_table, columns, rows, [])


def _new_ids(model: type[models.Model], count: int) -> list[int]:
    pk = model._meta.pk
    assert pk is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _db_value(field: models.Field[Any, Any], instance: models.Model) -> Any:
    """The value an INSERT of the instance writes: `pre_save` stamps auto_now fields, as a save does."""
    if isinstance(field, models.DateField):  # DateTimeField too
        return field.pre_save(instance, add=True)
    return getattr(instance, field.attname)


def _json_positions(fields: list[models.Field[Any, Any]]) -> list[int]:
    return [position for position, field in enumerate(fields) if isinstance(field, models.JSONField)]
