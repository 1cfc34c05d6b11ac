"""Each opportunity keeps its customer's owner (`customer_owner`), so that "the deals a user sees" (theirs,
or on their customers) is two indexed columns of the row, not a join: the board and the lists of a
salesperson read an index of each instead of every open deal.

The database keeps the copy right, however a row changes (a service, a bulk update, an import, an
admin action): a trigger sets it when an opportunity is added or moves to another customer, and another
copies a customer's new owner to its opportunities. tests/opportunities/test_customer_owner.py checks
both exist after every migration: SQLite drops a table's triggers when a later migration rebuilds it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION opportunity_takes_customer_owner() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.customer_owner_id := (SELECT owner_id FROM customers_customer WHERE id = NEW.customer_id);
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER opportunity_takes_customer_owner
    BEFORE INSERT OR UPDATE OF customer_id, customer_owner_id ON opportunities_opportunity
    FOR EACH ROW EXECUTE FUNCTION opportunity_takes_customer_owner()
    """,
    """
    CREATE OR REPLACE FUNCTION customer_owner_to_opportunities() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE opportunities_opportunity SET customer_owner_id = NEW.owner_id WHERE customer_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER customer_owner_to_opportunities
    AFTER UPDATE OF owner_id ON customers_customer
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION customer_owner_to_opportunities()
    """,
]
SQLITE_OWNER_OF_CUSTOMER = (
    "UPDATE opportunities_opportunity SET customer_owner_id = "
    "(SELECT owner_id FROM customers_customer WHERE id = NEW.customer_id) WHERE id = NEW.id;"
)
SQLITE = [
    f"""
    CREATE TRIGGER opportunity_takes_customer_owner AFTER INSERT ON opportunities_opportunity
    BEGIN {SQLITE_OWNER_OF_CUSTOMER} END
    """,
    f"""
    CREATE TRIGGER opportunity_keeps_customer_owner
    AFTER UPDATE OF customer_id, customer_owner_id ON opportunities_opportunity
    BEGIN {SQLITE_OWNER_OF_CUSTOMER} END
    """,
    """
    CREATE TRIGGER customer_owner_to_opportunities AFTER UPDATE OF owner_id ON customers_customer
    WHEN OLD.owner_id IS NOT NEW.owner_id
    BEGIN UPDATE opportunities_opportunity SET customer_owner_id = NEW.owner_id WHERE customer_id = NEW.id; END
    """,
]
BACKFILL = (
    "UPDATE opportunities_opportunity SET customer_owner_id = "
    "(SELECT owner_id FROM customers_customer WHERE customers_customer.id = opportunities_opportunity.customer_id)"
)
DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS opportunity_takes_customer_owner ON opportunities_opportunity",
        "DROP TRIGGER IF EXISTS customer_owner_to_opportunities ON customers_customer",
        "DROP FUNCTION IF EXISTS opportunity_takes_customer_owner()",
        "DROP FUNCTION IF EXISTS customer_owner_to_opportunities()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS opportunity_takes_customer_owner",
        "DROP TRIGGER IF EXISTS opportunity_keeps_customer_owner",
        "DROP TRIGGER IF EXISTS customer_owner_to_opportunities",
    ],
}


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRESQL, "sqlite": SQLITE}[vendor]:
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL)


def drop(apps, schema_editor):
    for statement in DROP[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


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
        migrations.RunPython(create, drop),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                fields=["customer_owner", "stage", "expected_close_date", "id"],
                include=("owner", "customer", "amount", "probability", "won_at", "lost_at"),
                name="opportunity_board_cust_idx",
            ),
        ),
    ]
