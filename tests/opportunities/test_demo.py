from itertools import pairwise

import pytest
from django.db.models import Count

from crm.demo import demo_context
from opportunities.demo import DEMO_OPPORTUNITY_COUNT, seed_opportunities
from opportunities.models import Opportunity, Stage
from orders.models import DocumentCounter, Order, Payment
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def context(sales1, sales2, manager):
    """A quarter of the demo's opportunities: enough for every stage and outcome."""
    return demo_context({"manager": manager, "sales1": sales1, "sales2": sales2}, scale=0.25)


@pytest.fixture
def demo_customers(sales1, sales2):
    return [CustomerFactory(owner=owner) for owner in (sales1, sales2) * 10]


def signature():
    return list(
        Opportunity.objects.order_by("id").values_list("title", "stage__code", "amount", "customer_id")
    )


def test_the_demo_covers_every_stage_and_wins_come_with_their_orders(sales1, sales2, manager, demo_customers):
    seed_opportunities(context(sales1, sales2, manager))
    assert Opportunity.objects.count() == DEMO_OPPORTUNITY_COUNT / 4
    per_stage = dict(Opportunity.objects.values_list("stage__code").annotate(n=Count("id")))
    assert set(per_stage) == set(Stage.objects.values_list("code", flat=True))

    won = Opportunity.objects.filter(stage__kind="won").select_related("order")
    assert won.count() == Order.objects.count() > 0
    for opportunity in won:
        order = opportunity.order
        assert order is not None
        assert order.customer_id == opportunity.customer_id
        assert order.total == opportunity.amount
        assert order.created_at == opportunity.won_at
        assert sorted(order.lines.values_list("product_id", "quantity", "unit_price")) == sorted(
            opportunity.lines.values_list("product_id", "quantity", "unit_price")
        )
    assert not Opportunity.objects.filter(stage__kind="lost", lost_reason="").exists()
    # The orders walked on from the day they were won, as far as their age allows.
    assert "finished" in set(Order.objects.values_list("status", flat=True))

    for opportunity in Opportunity.objects.prefetch_related("events")[:50]:
        events = sorted(opportunity.events.all(), key=lambda event: event.at)
        assert events[0].from_stage is None and events[0].at == opportunity.created_at
        assert (
            events[-1].to_stage_id == opportunity.stage_id and events[-1].at == opportunity.stage_entered_at
        )
        assert all(a.to_stage_id == b.from_stage_id for a, b in pairwise(events))


def test_the_demo_is_idempotent_and_deterministic(sales1, sales2, manager, demo_customers):
    seed_opportunities(context(sales1, sales2, manager))
    first = signature()
    seed_opportunities(context(sales1, sales2, manager))
    assert signature() == first  # a second run adds nothing
    Opportunity.objects.all().delete()
    Payment.objects.all().delete()
    Order.objects.all().delete()
    DocumentCounter.objects.all().delete()
    seed_opportunities(context(sales1, sales2, manager))
    assert signature() == first
