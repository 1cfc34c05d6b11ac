"""Query budgets of the heaviest pages: the same number of queries with a little data and with much more."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import services
from followups.selectors import dashboard_counts, my_day_counts
from tests.customers.test_views import add_timeline_entries, make_customers
from tests.factories import ContactMethodFactory, FollowUpFactory, NeedFactory
from tests.orders.builders import order_in

pytestmark = pytest.mark.django_db

# Session, user, role, customer; tags, contact methods and persons, open and closed needs; the
# timeline (8: one per table it reads); the orders card (2), open opportunities, the RFM score; the
# quick-add forms' opportunities and assignees. The forms reuse the persons and orders read above.
# The issue asks for 12; the lazy timeline that would get there is not built yet (README, Speed).
CUSTOMER_DETAIL_BUDGET = 26
# 12 figures and counts, plus the approval answers and the approvals count in the header.
DASHBOARD_BUDGET = 14


def grow_customer(customer, user, start, count):
    for i in range(start, start + count):
        ContactMethodFactory(customer=customer, type="wechat", value=f"wx{i}")
        NeedFactory(customer=customer)
        services.add_contact_person(actor=user, customer=customer, name=f"Person {i}")
        add_timeline_entries(customer, user, i)


@pytest.mark.parametrize("client_fixture", ["sales_client", "manager_client"])
def test_customer_detail_costs_the_same_however_much_hangs_off_the_customer(
    request, client_fixture, sales1, count_queries
):
    client = request.getfixturevalue(client_fixture)
    customer = make_customers(sales1, 1)[0]
    grow_customer(customer, sales1, 0, 2)
    few = count_queries(client, customer.get_absolute_url())
    grow_customer(customer, sales1, 2, 30)
    many = count_queries(client, customer.get_absolute_url())
    assert many == few
    assert few <= CUSTOMER_DETAIL_BUDGET
    context = many.response.context
    assert context["orders"]["count"] == 32 and len(context["orders"]["latest"]) == 5
    offered = context["customer_records"]._read
    assert len(offered["order"]) == 32 and len(offered["contact_person"]) == 32


def test_the_quick_add_forms_offer_the_orders_the_card_read(sales_client, sales1, sales2):
    customer = make_customers(sales1, 1)[0]
    mine = [order_in("created", sales1, customer) for _ in range(3)]
    page = sales_client.get(customer.get_absolute_url())
    offered = [value for value, _label in page.context["communication_form"].fields["order"].choices][1:]
    assert offered == [order.pk for order in reversed(mine)]
    assert [order.pk for order in page.context["orders"]["latest"]] == offered


def add_followups(user, customer, count, now):
    for hours in range(count):
        FollowUpFactory(customer=customer, assignee=user, due_at=now - timedelta(hours=hours + 1))


@pytest.mark.parametrize("client_fixture", ["sales_client", "manager_client"])
def test_the_dashboard_costs_the_same_as_the_data_grows(request, client_fixture, sales1, count_queries):
    client = request.getfixturevalue(client_fixture)
    customer = make_customers(sales1, 1)[0]
    order_in("finished", sales1, customer)
    few = count_queries(client, reverse("dashboard"))
    for _ in range(10):
        order_in("finished", sales1, customer)
    add_followups(sales1, customer, 10, timezone.now())
    many = count_queries(client, reverse("dashboard"))
    assert many == few <= DASHBOARD_BUDGET


def test_dashboard_counts_agree_with_my_day_and_visibility(sales1, sales2):
    now = timezone.now()
    mine, theirs = make_customers(sales1, 1)[0], make_customers(sales2, 1)[0]
    add_followups(sales1, mine, 2, now)
    add_followups(sales2, theirs, 3, now)
    FollowUpFactory(customer=theirs, assignee=sales1, due_at=now + timedelta(minutes=1))
    FollowUpFactory(customer=mine, assignee=sales2, due_at=now - timedelta(minutes=1))
    counts = dashboard_counts(sales1, now)
    assert {key: counts[key] for key in ("overdue", "due_today")} == my_day_counts(sales1, now)
    # Sales1 sees the follow-ups of their customer (3 overdue) and those assigned to them.
    assert counts["seen_overdue"] == 3
