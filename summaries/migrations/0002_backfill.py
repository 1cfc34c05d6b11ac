from django.db import migrations


def rebuild(apps, schema_editor):
    """The summary rows of an existing database, from its facts: one INSERT … SELECT … GROUP BY per
    kind of row (summaries.upkeep.rebuild)."""
    from summaries.upkeep import rebuild

    rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("summaries", "0001_summaries"),
        ("customers", "0009_customer_external_id"),
        ("orders", "0012_external_ids"),
        ("opportunities", "0009_open_pipeline_covering_index"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
