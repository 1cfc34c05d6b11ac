"""A customer's true last activity (customers/activity.py): conversations, order and opportunity
events move it; edits, reassignments and imports do not."""

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.activity import refresh_last_activity
from customers.models import Customer
from followups import services as followups
from followups.models import Communication
from opportunities import services as opportunities
from orders import services as orders
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def last_activity(customer):
    return Customer.objects.values_list("last_activity_at", flat=True).get(pk=customer.pk)


def log(actor, customer, at=None, subject="Call"):
    return followups.log_communication(
        actor=actor, customer=customer, channel="phone", subject=subject, content="Talked", occurred_at=at
    )


@pytest.fixture
def customer(sales1):
    customer = CustomerFactory(owner=sales1)
    Customer.objects.filter(pk=customer.pk).update(
        created_at=timezone.now() - timedelta(days=90), last_activity_at=timezone.now() - timedelta(days=90)
    )
    customer.refresh_from_db()
    return customer


def test_a_new_customer_starts_at_its_creation(sales1):
    customer = services.create_customer(actor=sales1, name="Fresh Ltd", owner=sales1)
    assert abs(last_activity(customer) - customer.created_at) < timedelta(seconds=1)


def test_a_conversation_moves_it_forward_never_back(sales1, customer):
    when = timezone.now() - timedelta(days=2)
    log(sales1, customer, at=when)
    assert last_activity(customer) == when
    log(sales1, customer, at=when - timedelta(days=10), subject="Older call logged late")
    assert last_activity(customer) == when


def test_correcting_a_conversations_time_back_recomputes_it(sales1, customer):
    earlier, later = timezone.now() - timedelta(days=5), timezone.now() - timedelta(days=1)
    log(sales1, customer, at=earlier)
    call = log(sales1, customer, at=later)
    followups.update_communication(actor=sales1, communication=call, occurred_at=later - timedelta(days=7))
    assert last_activity(customer) == earlier


def test_order_and_opportunity_events_move_it(sales1, customer):
    before = last_activity(customer)
    orders.create_order(
        actor=sales1,
        customer=customer,
        lines=[{"description": "Service", "quantity": 1, "unit_price": Decimal("10.00")}],
    )
    after_order = last_activity(customer)
    assert after_order > before
    opportunities.create_opportunity(
        actor=sales1,
        customer=customer,
        title="Deal",
        expected_close_date=timezone.localdate() + timedelta(days=10),
        amount=Decimal("100"),
    )
    assert last_activity(customer) > after_order


def test_edits_reassignments_and_a_stale_copy_do_not_change_it(sales1, sales2, manager, customer):
    stale = Customer.objects.get(pk=customer.pk)
    when = timezone.now() - timedelta(hours=3)
    log(sales1, customer, at=when)
    services.update_customer(actor=sales1, customer=stale, name="Renamed Ltd")  # a copy read before
    services.reassign_owner(actor=manager, customers=[Customer.objects.get(pk=customer.pk)], new_owner=sales2)
    assert last_activity(customer) == when
    assert Customer.objects.get(pk=customer.pk).name == "Renamed Ltd"


def test_a_merge_keeps_the_latest_of_both(sales1, customer):
    other = CustomerFactory(owner=sales1)
    when = timezone.now() - timedelta(hours=1)
    log(sales1, other, at=when)
    services.merge_customers(actor=sales1, survivor=customer, merged=other)
    assert last_activity(customer) == when


def test_the_backfill_matches_the_records(sales1, customer):
    quiet = CustomerFactory(owner=sales1)
    when = timezone.now() - timedelta(days=3)
    log(sales1, customer, at=when)
    Customer.objects.update(last_activity_at=timezone.now())  # as AddField leaves them
    migration = importlib.import_module("customers.migrations.0007_last_activity")
    migration.backfill(apps, None)
    assert last_activity(customer) == when
    assert last_activity(quiet) == Customer.objects.get(pk=quiet.pk).created_at
    Customer.objects.update(last_activity_at=timezone.now())
    assert refresh_last_activity(Customer.objects.all()) == 2
    assert last_activity(customer) == when


def test_the_list_shows_and_sorts_by_it_in_a_fixed_number_of_queries(sales_client, sales1, count_queries):
    customers = [CustomerFactory(owner=sales1, name=f"C{i}") for i in range(5)]
    Communication.objects.all().delete()
    for days, customer in enumerate(customers):
        Customer.objects.filter(pk=customer.pk).update(last_activity_at=timezone.now() - timedelta(days=days))
    url = reverse("customers:index") + "?sort=-activity"
    few = count_queries(sales_client, url)
    assert [c.pk for c in few.response.context["page"].items] == [c.pk for c in customers]
    assert few.response.content.decode().count('data-testid="last-activity"') == 5
    for index in range(45):
        CustomerFactory(owner=sales1, name=f"D{index}")
    assert count_queries(sales_client, url) == few
    ascending = sales_client.get(reverse("customers:index") + "?sort=activity").context["page"].items
    assert [c.pk for c in ascending][:5] == [c.pk for c in reversed(customers)]
