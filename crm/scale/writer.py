"""Rows into tables at bulk speed, with ids chosen by the caller so that foreign keys need no round trip.

A `TableWriter` takes rows as dicts keyed by column (a model field's `attname`); a column a row leaves
out gets the field's default, so a column added to a model later is filled without touching the
generator (a new column without a default makes the first flush fail, loudly). On PostgreSQL a flush is
one `COPY … FROM STDIN`; elsewhere (SQLite) one `executemany` of the values as Django prepares them.
Both go through the database's constraints: check constraints per row, foreign keys at commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models


class TableWriter:
    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.columns = [field.attname for field in self.fields]
        self.defaults = {field.attname: _default(field) for field in self.fields}
        self.required = [field.attname for field in self.fields if not _has_default(field)]
        self.json_positions = [i for i, f in enumerate(self.fields) if isinstance(f, models.JSONField)]
        self.pk = model._meta.pk.attname
        self.rows: list[dict[str, Any]] = []
        self.written = 0
        self._next_id = _max_id(model) + 1

    def new_id(self) -> int:
        """The next id of the table, counted on from the largest there was when the writer began."""
        allocated = self._next_id
        self._next_id += 1
        return allocated

    def add(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.pk not in row:
            row[self.pk] = self.new_id()
        self.rows.append(row)
        return row

    def flush(self) -> int:
        """Writes the rows added since the last flush; returns how many."""
        return self.write(self.take())

    def take(self) -> list[dict[str, Any]]:
        """The rows added since the last take, for `write` (perhaps in another thread)."""
        rows, self.rows = self.rows, []
        self.written += len(rows)
        return rows

    def write(self, rows: list[dict[str, Any]]) -> int:
        if rows:
            missing = [column for column in self.required if column not in rows[0]]
            if missing:
                raise ValueError(f"the scale generator gives no value for {self.model._meta.label}.{missing}")
            values = (self._values(row) for row in rows)
            if connection.vendor == "postgresql":
                copy_rows(self.model._meta.db_table, self.columns, values, self.json_positions)
            else:
                _insert(self.model._meta.db_table, self.columns, self._prepared(values))
        return len(rows)

    def _values(self, row: dict[str, Any]) -> list[Any]:
        defaults = self.defaults
        return [row[column] if column in row else defaults[column] for column in self.columns]

    def _prepared(self, rows: Iterable[list[Any]]) -> Iterable[list[Any]]:
        fields = self.fields
        for values in rows:
            yield [
                field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)
            ]


def _has_default(field: models.Field[Any, Any]) -> bool:
    return field.has_default() or field.null or (field.empty_strings_allowed and field.blank)


def _default(field: models.Field[Any, Any]) -> Any:
    """What a column a row leaves out gets: the field's default, NULL, or an empty text."""
    if not _has_default(field) or isinstance(field, models.AutoField):
        return None
    return field.get_default()


def _max_id(model: type[models.Model]) -> int:
    pk = str(model._meta.pk.column)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX({quote(pk)}) FROM {quote(model._meta.db_table)}")
        (largest,) = cursor.fetchone()
    return largest or 0


def copy_rows(table: str, columns: list[str], rows: Iterable[list[Any]], json_positions: list[int]) -> None:
    """PostgreSQL: the rows into the table's columns with one COPY; JSON columns given as Python values."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for values in rows:
            for position in json_positions:
                values[position] = json.dumps(values[position], ensure_ascii=False)
            copy.write_row(values)


def _insert(table: str, columns: list[str], rows: Iterable[list[Any]]) -> None:
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(rows))


def reset_sequences(model_list: list[type[models.Model]]) -> None:
    """PostgreSQL: each table's id sequence continues after the largest id written (SQLite needs nothing)."""
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def analyze(model_list: list[type[models.Model]]) -> None:
    """PostgreSQL: fresh planner statistics for the tables just filled."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in model_list:
            cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")


@contextmanager
def indexes_and_foreign_keys_built_after(model_list: list[type[models.Model]]) -> Iterator[None]:
    """PostgreSQL, as pg_restore loads a dump: the tables' foreign keys and secondary indexes (every index
    that enforces nothing: not a primary key, not unique, not behind a constraint) are dropped while rows
    go in, and made again from their own definitions when the block ends, however it ends. Adding a
    foreign key checks every row in one join, and building an index sorts the table once; both cost a
    fraction of checking row by row and of keeping every index up as rows arrive (above all the searches'
    GIN indexes and the B-trees whose keys come in random order). Check, unique and primary key
    constraints stay, and an orphan row makes the foreign key's return fail, loudly."""
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in model_list]
    connection.check_constraints()  # a table with pending deferred checks cannot be altered
    indexes, foreign_keys = _secondary_indexes(tables), _foreign_keys(tables)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    try:
        yield
    finally:
        connection.check_constraints()  # inside a transaction, an index is not built over deferred checks
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")  # each index sorted in memory
            for _name, definition in indexes:
                cursor.execute(definition)
            cursor.execute("RESET maintenance_work_mem")
            for table, name, definition in foreign_keys:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


def _secondary_indexes(tables: list[str]) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT idx.relname, pg_get_indexdef(idx.oid) FROM pg_index "
            "JOIN pg_class idx ON idx.oid = pg_index.indexrelid "
            "JOIN pg_class tbl ON tbl.oid = pg_index.indrelid "
            "WHERE tbl.relname = ANY(%s) AND tbl.relnamespace = current_schema()::regnamespace "
            "AND NOT pg_index.indisunique AND NOT pg_index.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE pg_constraint.conindid = pg_index.indexrelid) "
            "ORDER BY idx.relname",
            [tables],
        )
        return cursor.fetchall()


def _foreign_keys(tables: list[str]) -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tbl.relname, pg_constraint.conname, pg_get_constraintdef(pg_constraint.oid) "
            "FROM pg_constraint JOIN pg_class tbl ON tbl.oid = pg_constraint.conrelid "
            "WHERE pg_constraint.contype = 'f' AND tbl.relname = ANY(%s) "
            "AND tbl.relnamespace = current_schema()::regnamespace "
            "ORDER BY tbl.relname, pg_constraint.conname",
            [tables],
        )
        return cursor.fetchall()
