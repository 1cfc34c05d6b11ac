"""Every importer says once, before any row, that no column maps to a field every row needs."""

import pytest
from django.contrib.auth.models import User

from accounts.importing import COLUMNS as USERS_COLUMNS
from accounts.importing import run_import as import_users
from crm.importing import MappingError, read_table
from customers.importing import COLUMNS as CUSTOMERS_COLUMNS
from customers.importing import run_import as import_customers
from customers.models import Customer
from opportunities.importing import COLUMNS as OPPORTUNITIES_COLUMNS
from opportunities.importing import run_import as import_opportunities
from opportunities.models import Opportunity
from orders.importing import COLUMNS as PRODUCTS_COLUMNS
from orders.importing import run_import as import_products
from orders.importing_orders import COLUMNS as ORDERS_COLUMNS
from orders.importing_orders import run_import as import_orders
from orders.models import Order, Product
from tests.orders.builders import csv_bytes

pytestmark = pytest.mark.django_db

CASES = {
    "customers": (
        import_customers,
        CUSTOMERS_COLUMNS,
        ["region", "notes"],
        "No column is imported as Name or Phone or Mobile or Email, which every row needs. "
        "The columns are: region, notes.",
        Customer,
    ),
    "products": (
        import_products,
        PRODUCTS_COLUMNS,
        ["name", "unit_price"],
        "No column is imported as SKU, which every row needs. The columns are: name, unit_price.",
        Product,
    ),
    "opportunities": (
        import_opportunities,
        OPPORTUNITIES_COLUMNS,
        ["account", "engage_date", "备注"],
        "No column is imported as Title, which every row needs. The columns are: account, engage_date, 备注.",
        Opportunity,
    ),
    "orders": (
        import_orders,
        ORDERS_COLUMNS,
        ["order id", "created", "qty"],
        "No column is imported as Customer, which every row needs. The columns are: order id, created, qty.",
        Order,
    ),
    "users": (
        import_users,
        USERS_COLUMNS,
        ["full name", "email"],
        "No column is imported as Username, which every row needs. The columns are: full name, email.",
        User,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_one_message_names_the_missing_field_and_the_columns(name, manager, english):
    run_import, columns, header, message, model = CASES[name]
    before = model.objects.count()
    table = read_table(csv_bytes([header, *[[f"{name} {row}"] * len(header) for row in range(5)]]))
    for commit in (False, True):
        with pytest.raises(MappingError) as raised:
            run_import(actor=None, table=table, mapping=columns.detect(table.headers), commit=commit)
        assert str(raised.value) == message
    assert model.objects.count() == before
