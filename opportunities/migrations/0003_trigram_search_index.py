"""A trigram index for the list's search on opportunity titles (PostgreSQL only; see customers 0002)."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS opportunity_title_upper_trgm "
        "ON opportunities_opportunity USING gin ((UPPER(title)) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS opportunity_title_upper_trgm")


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0002_default_stages")]

    operations = [migrations.RunPython(create, drop)]
