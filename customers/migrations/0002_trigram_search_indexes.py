"""Trigram indexes for fragment search and similar-name detection (PostgreSQL only).

Django's icontains compares UPPER(column), so names get an index on that expression; contact
values are stored normalised and searched with a plain LIKE, and similarity (%) uses the
plain column. SQLite has no such indexes and falls back to scans, which is fine for a first run.
"""

from django.db import migrations

INDEXES = [
    ("customer_name_trgm", "customers_customer", "name"),
    ("customer_name_upper_trgm", "customers_customer", "UPPER(name)"),
    ("contact_method_value_trgm", "customers_contactmethod", "value"),
    ("contact_person_name_upper_trgm", "customers_contactperson", "UPPER(name)"),
    ("contact_person_phone_trgm", "customers_contactperson", "phone"),
    ("contact_person_email_trgm", "customers_contactperson", "email"),
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
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
