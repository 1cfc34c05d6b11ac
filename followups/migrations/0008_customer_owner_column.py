"""Each follow-up keeps its customer's owner (`customer_owner`, kept by database triggers:
crm/customer_owner_copy.py): a salesperson's follow-up list tests two columns of each row instead of
first gathering every customer they own; the dashboard's counts read it from the open follow-ups' index."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from crm.customer_owner_copy import keep_customer_owner


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_customer_external_id"),
        ("followups", "0007_open_followups_due_covering_index"),
        ("opportunities", "0011_customer_owner_column"),
        ("orders", "0012_external_ids"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="followup",
            name="followup_open_due_idx",
        ),
        migrations.AddField(
            model_name="followup",
            name="customer_owner",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="customer owner",
            ),
        ),
        keep_customer_owner("followups_followup"),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                fields=["customer_owner", "status", "due_at", "id"], name="followup_cust_owner_due_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["due_at"],
                include=("id", "assignee", "customer_owner"),
                name="followup_open_due_idx",
            ),
        ),
    ]
