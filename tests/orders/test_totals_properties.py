"""Property tests: for any lines, the totals are exact line arithmetic, and what is stored agrees."""

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders import services
from orders.models import Order
from tests.factories import CustomerFactory, UserFactory

CENTS = st.integers(min_value=0, max_value=10**8)  # up to 1,000,000.00


@st.composite
def lines(draw):
    quantity = draw(st.integers(min_value=1, max_value=10_000))
    unit_cents = draw(CENTS)
    discount_cents = draw(st.integers(min_value=0, max_value=quantity * unit_cents))
    return {
        "description": draw(st.text(alphabet="abc传感器 ", min_size=1, max_size=20).filter(str.strip)),
        "quantity": quantity,
        "unit_price": Decimal(unit_cents) / 100,
        "discount": Decimal(discount_cents) / 100,
    }


@st.composite
def orders(draw):
    drawn = draw(st.lists(lines(), min_size=1, max_size=8))
    gross = sum(
        Fraction(line["quantity"]) * Fraction(line["unit_price"]) - Fraction(line["discount"])
        for line in drawn
    )
    discount_cents = draw(st.integers(min_value=0, max_value=int(gross * 100)))
    tax_rate = Decimal(draw(st.integers(min_value=0, max_value=10_000))) / 100  # 0.00 … 100.00 %
    return drawn, Decimal(discount_cents) / 100, tax_rate


def exact(drawn, discount, tax_rate):
    """The totals in exact rational arithmetic, tax rounded half up to the cent."""
    subtotal = sum(
        Fraction(line["quantity"]) * Fraction(line["unit_price"]) - Fraction(line["discount"])
        for line in drawn
    )
    taxable = subtotal - Fraction(discount)
    tax_cents = math.floor(taxable * Fraction(tax_rate) + Fraction(1, 2))  # half up; taxable ≥ 0
    tax = Decimal(tax_cents) / 100
    return subtotal, tax, taxable + Fraction(tax)


class Line:
    def __init__(self, spec):
        self.quantity, self.unit_price, self.discount = spec["quantity"], spec["unit_price"], spec["discount"]


@given(orders())
@settings(max_examples=300, deadline=None)
def test_totals_are_the_exact_sum_of_the_lines(order):
    drawn, discount, tax_rate = order
    totals = services.compute_totals([Line(spec) for spec in drawn], discount=discount, tax_rate=tax_rate)
    subtotal, tax, total = exact(drawn, discount, tax_rate)
    assert Fraction(totals.subtotal) == subtotal
    assert totals.tax == tax
    assert Fraction(totals.total) == total
    assert totals.total == totals.subtotal - totals.discount + totals.tax >= 0


@pytest.mark.django_db
@given(orders())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_stored_orders_hold_the_same_totals_and_pass_the_database_checks(order):
    drawn, discount, tax_rate = order
    with transaction.atomic():
        owner = UserFactory(username="prop-owner")
        customer = CustomerFactory(owner=owner)
        created = services.create_order(
            actor=owner, customer=customer, lines=drawn, discount=discount, tax_rate=tax_rate
        )
        stored = Order.objects.get(pk=created.pk)
        subtotal, tax, total = exact(drawn, discount, tax_rate)
        assert (Fraction(stored.subtotal), stored.tax, Fraction(stored.total)) == (subtotal, tax, total)
        assert stored.balance == stored.total
        assert sum(line.line_total for line in stored.lines.all()) == stored.subtotal
        transaction.set_rollback(True)
