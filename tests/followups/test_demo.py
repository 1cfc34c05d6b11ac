from datetime import timedelta

import pytest
from django.db.models import Count, F
from django.utils import timezone

from crm.demo import demo_context, seed_users
from followups.demo import seed_followups
from followups.models import Communication, FollowUp
from followups.selectors import my_day_counts
from opportunities.models import Opportunity
from orders.models import Order
from tests.factories import CustomerFactory, OpportunityFactory
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db


def context():
    return demo_context(seed_users())


def snapshot():
    return (
        list(
            Communication.objects.order_by("pk").values_list(
                "customer__name", "subject", "occurred_at", "order", "opportunity"
            )
        ),
        list(
            FollowUp.objects.order_by("pk").values_list("subject", "status", "due_at", "order", "opportunity")
        ),
    )


def test_demo_followups_fill_my_day_in_both_languages_and_run_once():
    demo = context()
    for index in range(40):
        owner = demo.sales[index % 2]
        customer = CustomerFactory(owner=owner, name=f"华东仪器 {index}" if index % 3 else f"Acme {index}")
        make_order(owner, customer)
        OpportunityFactory(customer=customer)
    long_ago = timezone.now() - timedelta(days=400)
    Order.objects.update(created_at=long_ago)
    Opportunity.objects.update(created_at=long_ago)
    seed_followups(demo)

    for user in demo.sales:
        counts = my_day_counts(user)
        assert counts["overdue"] >= 3 and counts["due_today"] >= 1, user
    subjects = set(Communication.objects.values_list("subject", flat=True))
    assert "报价跟进" in subjects or "上门拜访" in subjects
    assert any(subject.isascii() for subject in subjects)
    statuses = dict(FollowUp.objects.values_list("status").annotate(n=Count("pk")))
    assert statuses.keys() == {"open", "done", "cancelled"}
    done = FollowUp.objects.filter(status="done").earliest("pk")
    assert done.completed_at and done.completed_at >= done.created_at
    assert [record.history_type for record in done.history.order_by("history_date")] == ["+", "~"]
    assert Communication.objects.filter(created_at__lt=timezone.now() - timedelta(days=30)).exists()
    for model in (Communication, FollowUp):
        about_orders = model.objects.filter(order__isnull=False)
        about_opportunities = model.objects.filter(opportunity__isnull=False)
        assert about_orders.exists() and about_opportunities.exists(), model
        assert not about_orders.exclude(order__customer=F("customer")).exists()
        assert not about_opportunities.exclude(opportunity__customer=F("customer")).exists()
    linked = FollowUp.objects.filter(communication__order__isnull=False).earliest("pk")
    assert linked.communication and linked.order_id == linked.communication.order_id

    before = snapshot()
    seed_followups(context())
    assert snapshot() == before, "a second run changes nothing"

    Communication.objects.all().delete()
    FollowUp.objects.all().delete()
    seed_followups(context())
    again = snapshot()
    assert [row[:2] + row[3:] for row in again[0]] == [row[:2] + row[3:] for row in before[0]], (
        "the same seed, the same data"
    )
    assert [row[:2] + row[3:] for row in again[1]] == [row[:2] + row[3:] for row in before[1]]
