from decimal import Decimal

import pytest
from django.utils import translation

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
def english(client, settings):
    """The messages these tests read are the English ones (the default language is Chinese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield
