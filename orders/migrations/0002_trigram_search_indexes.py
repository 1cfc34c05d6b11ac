"""Trigram indexes for fragment search of order numbers and products (PostgreSQL only).

Order and invoice numbers and SKUs are stored upper-case and searched with a plain LIKE; product names with
icontains, which compares UPPER(name). SQLite has no such indexes and scans, fine for a first run.
"""

from django.db import migrations

INDEXES = [
    ("order_number_trgm", "orders_order", "number"),
    ("order_invoice_number_trgm", "orders_order", "invoice_number"),
    ("product_sku_trgm", "orders_product", "sku"),
    ("product_name_upper_trgm", "orders_product", "UPPER(name)"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expression}) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial"), ("customers", "0002_trigram_search_indexes")]

    operations = [migrations.RunPython(create, drop)]
