from datetime import date, timedelta
from decimal import Decimal

import pytest

from opportunities import services
from opportunities.models import Opportunity, Stage
from tests.factories import CustomerFactory, ProductFactory


@pytest.fixture
def stages(db):
    """The default pipeline the data migration installs, by code."""
    return {stage.code: stage for stage in Stage.objects.all()}


@pytest.fixture
def products(db):
    return [
        ProductFactory(sku="SEN-1", name="Sensor", unit_price=Decimal("100.00")),
        ProductFactory(sku="CTL-1", name="Controller", unit_price=Decimal("250.50")),
    ]


@pytest.fixture
def customer1(sales1):
    return CustomerFactory(owner=sales1, name="Mine Ltd")


@pytest.fixture
def customer2(sales2):
    return CustomerFactory(owner=sales2, name="Theirs Ltd")


@pytest.fixture
def new_opportunity(products, stages):
    """Creates an opportunity through the service: by default two lines worth 3 × 100 + 2 × 200."""

    def make(user, customer, *, stage="capture", lines=True, **fields):
        fields.setdefault("title", "Sensors for line 3")
        fields.setdefault("expected_close_date", date.today() + timedelta(days=30))
        spec = []
        if lines:
            spec = [
                {"product": products[0], "quantity": 3},
                {"product": products[1], "quantity": 2, "unit_price": Decimal("200.00")},
            ]
        opportunity = services.create_opportunity(
            actor=user, customer=customer, stage=stages[stage], lines=spec, **fields
        )
        return Opportunity.objects.get(pk=opportunity.pk)

    return make
