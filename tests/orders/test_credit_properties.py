"""Property tests: under any sequence of payments, refunds and credit notes, balance = net total − net
paid, the stored sums match the rows, and no refund ever exceeds what was paid."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders import services
from orders.models import CreditNote, Order, Payment
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

AMOUNTS = st.integers(min_value=1, max_value=150_000).map(lambda cents: Decimal(cents) / 100)
STEPS = st.lists(
    st.tuples(st.sampled_from(["pay", "refund", "credit", "credit_and_refund"]), AMOUNTS, AMOUNTS),
    min_size=1,
    max_size=12,
)


def _step(owner, order, kind, amount, refund):
    if kind == "pay":
        services.record_payment(actor=owner, order=order, amount=amount, method="cash")
    elif kind == "refund":
        services.record_payment(actor=owner, order=order, amount=-amount, method="cash")
    else:
        services.issue_credit_note(
            actor=owner,
            order=order,
            reason="property",
            amount=amount,
            refund=refund if kind == "credit_and_refund" else None,
            refund_method="cash",
        )


@given(steps=STEPS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_balance_is_net_total_minus_net_paid_and_refunds_stay_within_paid(steps):
    with transaction.atomic():
        owner = UserFactory(username="prop-money")
        customer = CustomerFactory(owner=owner)
        lines = [{"description": "Kit", "quantity": 2, "unit_price": Decimal("4567.89")}]
        order = services.create_order(actor=owner, customer=customer, lines=lines, tax_rate=Decimal("13"))
        order = services.confirm_order(actor=owner, order=order)
        for kind, amount, refund in steps:
            before = Order.objects.get(pk=order.pk)
            try:
                _step(owner, before, kind, amount, refund)
            except ValidationError:
                after = Order.objects.get(pk=order.pk)
                assert (after.paid_amount, after.credited, after.balance) == (
                    before.paid_amount,
                    before.credited,
                    before.balance,
                )  # a refused step writes nothing
                continue
            after = Order.objects.get(pk=order.pk)
            refunded = before.paid_amount - after.paid_amount
            assert refunded <= before.paid_amount  # never more back than was paid
            paid = sum((p.amount for p in Payment.objects.filter(order=order)), Decimal(0))
            credited = sum((n.amount for n in CreditNote.objects.filter(order=order)), Decimal(0))
            assert after.paid_amount == paid >= 0
            assert after.credited == credited <= after.total
            assert after.balance == after.total - after.credited - after.paid_amount
        transaction.set_rollback(True)
