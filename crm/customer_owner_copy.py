"""A record's copy of its customer's owner (`customer_owner`), kept by the database: for migrations.

Visibility reads "the record's own user, or its customer's owner" from two indexed columns of the row
instead of a join, so a salesperson's list walks its own index and tests each row, and an aggregate
reads one index per part (crm.models.VisibleQuerySet.visible_parts). Triggers keep the copy right
however a row changes (a service, a bulk update, an import, an admin action): the record takes its
customer's owner when it is added or moves to another customer, and a customer's new owner is copied
to its records. SQLite drops a table's triggers when a migration rebuilds the table: the tests of each
record's copy run on the migrated database and fail if that happens.
"""

from typing import Any

from django.conf import settings
from django.db import migrations, models
from django.utils.translation import gettext_lazy as _


def _owner_of(customer_id: str) -> str:
    return f"(SELECT owner_id FROM customers_customer WHERE id = {customer_id})"


def _copy_new_owner(table: str) -> str:
    """In a trigger on customers_customer: the customer's new owner to its records."""
    return f"UPDATE {table} SET customer_owner_id = NEW.owner_id WHERE customer_id = NEW.id;"


def _postgresql(table: str) -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_takes_customer_owner() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.customer_owner_id := {_owner_of("NEW.customer_id")}; RETURN NEW; END $$""",
        f"""CREATE TRIGGER {table}_takes_customer_owner
        BEFORE INSERT OR UPDATE OF customer_id, customer_owner_id ON {table}
        FOR EACH ROW EXECUTE FUNCTION {table}_takes_customer_owner()""",
        f"""CREATE OR REPLACE FUNCTION customer_owner_to_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {_copy_new_owner(table)} RETURN NULL; END $$""",
        f"""CREATE TRIGGER customer_owner_to_{table} AFTER UPDATE OF owner_id ON customers_customer
        FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
        EXECUTE FUNCTION customer_owner_to_{table}()""",
    ]


def _sqlite(table: str) -> list[str]:
    take = f"UPDATE {table} SET customer_owner_id = {_owner_of('NEW.customer_id')} WHERE id = NEW.id;"
    return [
        f"CREATE TRIGGER {table}_takes_customer_owner AFTER INSERT ON {table} BEGIN {take} END",
        f"""CREATE TRIGGER {table}_keeps_customer_owner
        AFTER UPDATE OF customer_id, customer_owner_id ON {table} BEGIN {take} END""",
        f"""CREATE TRIGGER customer_owner_to_{table} AFTER UPDATE OF owner_id ON customers_customer
        WHEN OLD.owner_id IS NOT NEW.owner_id BEGIN {_copy_new_owner(table)} END""",
    ]


def _drop(table: str, vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_takes_customer_owner ON {table}",
            f"DROP TRIGGER IF EXISTS customer_owner_to_{table} ON customers_customer",
            f"DROP FUNCTION IF EXISTS {table}_takes_customer_owner()",
            f"DROP FUNCTION IF EXISTS customer_owner_to_{table}()",
        ]
    return [
        f"DROP TRIGGER IF EXISTS {table}_{name}" for name in ("takes_customer_owner", "keeps_customer_owner")
    ] + [f"DROP TRIGGER IF EXISTS customer_owner_to_{table}"]


def customer_owner_field() -> models.ForeignKey[Any, Any]:
    """The copy's column: filled by the database, never edited, not a field of the record's history."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        editable=False,
        related_name="+",
        db_index=False,
        verbose_name=_("customer owner"),
    )


def keep_customer_owner(table: str) -> migrations.RunPython:
    """The operation that installs the triggers on `table` and fills its copies (after the column)."""

    def create(apps: Any, schema_editor: Any) -> None:
        vendor = schema_editor.connection.vendor
        for statement in _postgresql(table) if vendor == "postgresql" else _sqlite(table):
            schema_editor.execute(statement)
        schema_editor.execute(f"UPDATE {table} SET customer_owner_id = {_owner_of(f'{table}.customer_id')}")

    def drop(apps: Any, schema_editor: Any) -> None:
        for statement in _drop(table, schema_editor.connection.vendor):
            schema_editor.execute(statement)

    return migrations.RunPython(create, drop)
