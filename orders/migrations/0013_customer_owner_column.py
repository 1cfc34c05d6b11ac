"""Each order keeps its customer's owner (`customer_owner`, kept by database triggers:
crm/customer_owner_copy.py): a salesperson's order list tests two columns of each row as it walks the
sort's index, instead of first gathering every customer they own (47,000 at 1,000,000 customers)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from crm.customer_owner_copy import keep_customer_owner


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_customer_external_id"),
        ("orders", "0012_external_ids"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
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
        keep_customer_owner("orders_order"),
    ]
