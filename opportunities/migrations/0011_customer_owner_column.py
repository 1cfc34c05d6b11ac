"""Each opportunity keeps its customer's owner (`customer_owner`, kept by database triggers:
crm/customer_owner_copy.py), so that "the deals a user sees" (theirs, or on their customers) is two
indexed columns of the row, not a join: the board and the lists of a salesperson read an index of
each instead of every open deal."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from crm.customer_owner_copy import keep_customer_owner


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_customer_external_id"),
        ("opportunities", "0010_board_covering_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="opportunity",
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
        keep_customer_owner("opportunities_opportunity"),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                fields=["customer_owner", "stage", "expected_close_date", "id"],
                include=("owner", "customer", "amount", "probability", "won_at", "lost_at"),
                name="opportunity_board_cust_idx",
            ),
        ),
    ]
