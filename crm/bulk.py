"""Inserting many validated rows at once, with their field history, inside the caller's transaction.

A row is a dict of a model's column values by field `attname`; a column it leaves out gets the field's
default (a callable default is called once per insert), and auto_now(_add) fields one time for all.
On PostgreSQL the ids are taken from the table's sequence in one query (so that concurrent writers
never collide and related rows can point at them before they are written), and the rows go in with
one `COPY … FROM STDIN` per table; elsewhere (SQLite) Django's `bulk_create` and simple-history's
`bulk_history_create` do it. Either way the database's constraints check every row, and the rows come
back with their ids. Nothing here validates: the callers are services that have done so.

Inside `writing_in_background()` (PostgreSQL), an insert given its `Background` queues its COPY and
returns at once; `Background.start` hands the queued COPYs to a thread, so that the caller's Python
work goes on while the server writes (both cores busy): every later query on the connection, and
leaving the block, first waits for the COPYs, and an error of theirs is raised there. The caller's
transaction then cannot keep the rows: such an insert is for a caller that gives up the whole
transaction on any database error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connection, models
from django.utils import timezone

from crm.scale.writer import copy_data, copy_rows, copy_statement

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ModelT = TypeVar("ModelT", bound=models.Model)
Row = dict[str, Any]


def insert(
    model: type[models.Model], rows: Sequence[Row], *, background: Background | None = None
) -> Sequence[Row]:
    """Insert `rows` of `model` (no multi-table inheritance), completed with defaults and their new ids;
    with `background`, written by its thread (see the module docstring)."""
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
    table, db_columns = model._meta.db_table, [str(field.column) for field in fields]
    if background is not None:
        background.copy(table, db_columns, values, _json_positions(fields))
        return rows
    with connection.wrap_database_errors:  # an IntegrityError as Django raises it, for the callers
        copy_rows(table, db_columns, values, _json_positions(fields))
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
    background: Background | None = None,
) -> None:
    """The history rows simple-history's `bulk_history_create` writes for saved `rows`: one each,
    by `user`, now, for `reason`; a creation ("+"), or with `update` a change ("~"); with
    `background`, written by its thread."""
    if not rows:
        return
    manager = model.history  # type: ignore[attr-defined]
    if connection.vendor != "postgresql":
        manager.bulk_history_create(
            instances(model, rows), update=update, default_user=user, default_change_reason=reason
        )
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
    values = ([row[name] for name in tracked] + list(extra.values()) for row in rows)
    if background is not None:
        background.copy(historical._meta.db_table, columns, values, [])
        return
    with connection.wrap_database_errors:
        copy_rows(historical._meta.db_table, columns, values, [])


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


class Background:
    """COPYs written in order by one thread on the connection's transaction: see the module docstring.

    The rows are formatted by the caller, when `copy` is called, and `start` hands the COPYs to the
    thread: the thread then needs the GIL, which the caller's Python work holds, only to send them
    and read the answers, and the connection is never used by both threads at once.
    """

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self.executor = executor
        self.queued: list[tuple[str, bytes]] = []
        self.running: list[Future[None]] = []

    def copy(
        self, table: str, columns: list[str], rows: Iterable[list[Any]], json_positions: list[int]
    ) -> None:
        self._wait_running()
        with connection.connection.cursor() as cursor:
            self.queued.append((copy_statement(table, columns), copy_data(cursor, rows, json_positions)))

    def start(self) -> None:
        """Hand the COPYs queued since the last start to the thread."""
        queued, self.queued = self.queued, []
        if queued:
            self.running.append(self.executor.submit(_send_copies, connection.connection, queued))

    def wait(self) -> None:
        """Returns when every COPY queued has been written; raises the first one's error, as Django
        raises it, once they have all stopped."""
        self.start()
        self._wait_running()

    def _wait_running(self) -> None:
        running, self.running = self.running, []
        errors = [error for error in (future.exception() for future in running) if error is not None]
        if errors:
            with connection.wrap_database_errors:
                raise errors[0]

    def _before_query(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.wait()
        return execute(sql, params, many, context)


def _send_copies(psycopg_connection: Any, copies: list[tuple[str, bytes]]) -> None:
    with psycopg_connection.cursor() as cursor:
        for sql, data in copies:
            with cursor.copy(sql) as copy:
                copy.write(data)


@contextmanager
def writing_in_background() -> Iterator[Background | None]:
    """A Background for inserts inside the block, on PostgreSQL (None elsewhere: they write at once)."""
    if connection.vendor != "postgresql":
        yield None
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-copy") as executor:
        background = Background(executor)
        try:
            with connection.execute_wrapper(background._before_query):
                yield background
        except BaseException:
            background.queued.clear()  # the transaction is rolled back next: no need to send them
            with suppress(Exception):  # the error that left the block is the one to raise
                background._wait_running()  # the thread stops before the rollback
            raise
        background.wait()
