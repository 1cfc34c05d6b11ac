from django.db import migrations

TEAM_LEADS = "Team leads"


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=TEAM_LEADS)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=TEAM_LEADS).delete()


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_change_reasons_as_codes")]

    operations = [migrations.RunPython(create_group, remove_group)]
