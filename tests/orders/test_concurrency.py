"""Many people acting at once, on PostgreSQL: threads with their own connections.

SQLite serialises every write behind one database lock and its test database cannot be shared
between threads, so these run on PostgreSQL only; the single-connection version of the conflict
(a stale copy) is in test_services.py and runs on both.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from orders import services
from orders.models import Order, OrderEvent, Payment
from tests.conftest import POSTGRESQL_ONLY
from tests.orders.builders import make_order

pytestmark = [pytest.mark.django_db(transaction=True), POSTGRESQL_ONLY]


def test_two_concurrent_transitions_leave_one_event_and_a_consistent_order(
    run_together, sales1, manager, customer
):
    order = make_order(sales1, customer)

    def confirm(user):
        def act(barrier):
            seen = Order.objects.get(pk=order.pk)  # both read the order as created
            barrier.wait()
            return services.confirm_order(actor=user, order=seen, note=f"by {user.username}")

        return act

    def close(barrier):
        seen = Order.objects.get(pk=order.pk)
        barrier.wait()
        return services.close_order(actor=sales1, order=seen, reason="Cancelled by phone")

    results = run_together(confirm(sales1), confirm(manager), close)
    winners = [result for result in results if isinstance(result, Order)]
    losers = [result for result in results if isinstance(result, services.OrderConflict)]
    assert len(winners) == 1 and len(losers) == 2, results
    order.refresh_from_db()
    assert all(loser.current_status == order.status for loser in losers)
    events = OrderEvent.objects.filter(order=order).exclude(to_status="created")
    assert events.count() == 1
    assert events.get().to_status == order.status == winners[0].status
    stamps = [order.confirmed_at, order.closed_at]
    assert sum(stamp is not None for stamp in stamps) == 1


def test_concurrent_refunds_never_return_more_than_was_paid(run_together, sales1, customer):
    order = make_order(sales1, customer)
    services.confirm_order(actor=sales1, order=order)
    services.record_payment(
        actor=sales1, order=Order.objects.get(pk=order.pk), amount=Decimal("300.00"), method="cash"
    )

    def refund(barrier):
        seen = Order.objects.get(pk=order.pk)
        barrier.wait()
        return services.record_payment(actor=sales1, order=seen, amount=Decimal("-200.00"), method="cash")

    results = run_together(refund, refund)
    assert sum(not isinstance(result, Exception) for result in results) == 1, results
    order.refresh_from_db()
    assert (order.paid_amount, order.balance) == (Decimal("100.00"), Decimal("200.00"))


def test_orders_created_at_once_never_share_a_number(run_together, sales1, customer):
    def create(barrier):
        barrier.wait()
        return make_order(sales1, customer).number

    numbers = run_together(*[create] * 8)
    assert all(isinstance(number, str) for number in numbers), numbers
    assert len(set(numbers)) == 8
    assert set(Order.objects.values_list("number", flat=True)) == set(numbers)


def test_concurrent_payments_never_exceed_the_balance(run_together, sales1, customer):
    order = make_order(sales1, customer)  # a total of 300.00
    services.confirm_order(actor=sales1, order=order)

    def pay(barrier):
        seen = Order.objects.get(pk=order.pk)  # both see the whole balance due
        barrier.wait()
        with translation.override("en"):
            return services.record_payment(actor=sales1, order=seen, amount=Decimal("200.00"), method="cash")

    results = run_together(pay, pay)
    paid = [result for result in results if isinstance(result, Payment)]
    refused = [result for result in results if isinstance(result, ValidationError)]
    assert len(paid) == 1 and len(refused) == 1, results
    assert refused[0].messages == ["That is more than the balance of 100.00."]
    order.refresh_from_db()
    assert (order.paid_amount, order.balance) == (Decimal("200.00"), Decimal("100.00"))
    assert list(order.payments.values_list("amount", flat=True)) == [Decimal("200.00")]
