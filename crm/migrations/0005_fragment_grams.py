"""Indexes that find a name or title fragment shorter than three characters (PostgreSQL only).

Trigram indexes cannot: "王伟" inside a name has no whole trigram, so such a search read every row.
`crm_grams` lists a text's distinct characters and character pairs; a GIN index over it on the
upper-cased column answers `crm_grams(UPPER(column)) @> ARRAY[UPPER(fragment)]` (crm/search.py's
`fragment` lookup). SQLite has neither and scans, as before.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION crm_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT ARRAY(
        SELECT DISTINCT substr(value, position, size)
        FROM generate_series(1, char_length(value)) AS position, (VALUES (1), (2)) AS sizes(size)
    )
$$
"""

INDEXES = [
    ("customer_name_grams", "customers_customer", "name"),
    ("contact_person_name_grams", "customers_contactperson", "name"),
    ("opportunity_title_grams", "opportunities_opportunity", "title"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (crm_grams(UPPER({column})))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS crm_grams(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0004_idempotency_key"),
        ("customers", "0009_customer_external_id"),
        ("opportunities", "0010_board_covering_index"),
    ]

    operations = [migrations.RunPython(create, drop)]
