from datetime import datetime

import pytest
from django.db.models import Count, Sum

from crm.demo import seed_all
from orders import demo, services
from orders.models import Order, OrderEvent, Payment, Status
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

STAMPS = {
    "confirmed": "confirmed_at",
    "processing": "processing_at",
    "finished": "finished_at",
    "closed": "closed_at",
}


def test_demo_orders_walk_the_lifecycle_and_seeding_again_adds_nothing():
    seed_all(scale=0.1)
    orders = Order.objects.all()
    # 300 of the demo's 3,000; the others come from won deals.
    assert orders.filter(source_opportunity__isnull=True).count() == demo.DEMO_ORDER_COUNT / 10
    assert set(orders.values_list("status", flat=True)) == set(Status.values)
    events: dict[int, list[tuple[datetime, str, str]]] = {}
    status_changes = OrderEvent.objects.filter(type__in=OrderEvent.STATUS_TYPES)
    for order_id, at, source, target in status_changes.order_by("at", "id").values_list(
        "order", "at", "from_status", "to_status"
    ):
        events.setdefault(order_id, []).append((at, source, target))
    # Every payment and refund has its event, as the services record them.
    money_events = OrderEvent.objects.filter(type__in=["payment_recorded", "refund_recorded"])
    recorded = money_events.values_list("order", "at", "parameters")
    assert sorted((order, at, parameters["amount"]) for order, at, parameters in recorded) == sorted(
        (payment.order_id, payment.paid_at, str(abs(payment.amount))) for payment in Payment.objects.all()
    )
    paid = dict(Payment.objects.values("order").annotate(total=Sum("amount")).values_list("order", "total"))
    for order in orders:
        steps = events[order.pk]
        assert steps[0][1:] == ("", "created") and steps[0][0] == order.created_at
        assert [s[2] for s in steps[:-1]] == [
            s[1] for s in steps[1:]
        ]  # each step starts where the last ended
        assert steps[-1][2] == order.status
        for at, _source, target in steps[1:]:
            assert getattr(order, STAMPS[target]) == at
        assert order.paid_amount == paid.get(order.pk, 0)
        assert order.total == order.subtotal - order.discount + order.tax
    finished = orders.filter(status="finished")
    assert not finished.filter(balance__gt=0).exists()
    assert finished.values("invoice_number").annotate(n=Count("pk")).filter(n__gt=1).count() == 0
    counts = (Order.objects.count(), OrderEvent.objects.count(), Payment.objects.count())
    seed_all(scale=0.1)
    assert counts == (Order.objects.count(), OrderEvent.objects.count(), Payment.objects.count())
    # Numbers handed out after the demo continue its sequence.
    user = Order.objects.first().owner
    new = services.create_order(actor=user, customer=CustomerFactory(owner=user), lines=[])
    assert new.number not in set(Order.objects.exclude(pk=new.pk).values_list("number", flat=True))
