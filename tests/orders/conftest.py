from decimal import Decimal

import pytest

from tests.factories import CustomerFactory, ProductFactory


@pytest.fixture
def customer(sales1):
    return CustomerFactory(owner=sales1, name="华东精密仪器有限公司")


@pytest.fixture
def theirs(sales2):
    return CustomerFactory(owner=sales2, name="Theirs Ltd")


@pytest.fixture
def product(db):
    return ProductFactory(sku="SEN-100", name="Temperature sensor", unit_price=Decimal("19.99"))


@pytest.fixture(autouse=True)
def english(english):
    return english
