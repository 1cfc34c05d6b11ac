"""Query budgets of the heaviest pages: the same number of queries with a little data and with much more."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.reporting import Period, ReportFilters, money
from crm.reports import key_figures
from customers import services
from followups.selectors import dashboard_counts, my_day_counts
from opportunities.models import Stage
from opportunities.reports import closed_deals
from orders import services as order_services
from orders.reports import booked, revenue
from tests.conftest import shown_page
from tests.customers.test_views import add_timeline_entries, make_customers
from tests.factories import (
    CommunicationFactory,
    ContactMethodFactory,
    FollowUpFactory,
    NeedFactory,
    OpportunityFactory,
)
from tests.orders.builders import order_in

pytestmark = pytest.mark.django_db

# Session, user, role (a team lead: their team, and the approvals waiting in the header; a manager:
# the approvals); the customer, its tags, contact methods and persons, open and closed needs, the RFM
# score. The orders and opportunities cards, the quick-add forms and the timeline load on their own
# (htmx), each from an endpoint with its budget below. It ran 25-26 (32 in the benchmark).
CUSTOMER_DETAIL_BUDGET = 12
# The customer page's parts, each with the session, the user (read with their role and team) and the
# customer: the orders card (latest, and the count and value per currency), the open opportunities,
# the quick-add forms (persons, orders, opportunities, last channel, assignees) and a page of the
# timeline (one query per table it reads: 9; it ran 13, 14 for a team lead).
CUSTOMER_PART_BUDGETS = {"orders_card": 7, "opportunities_card": 6, "quick_add": 10, "timeline": 12}
# Session, user, role (a team lead: their team); the follow-up counts; the orders' revenue and booked
# amounts of both periods (one query), the deals closed in both (one), the open pipeline, the balances
# due; the approval answers; for who approves, the approvals waiting in the header. It ran 13-15.
DASHBOARD_BUDGET = 12


def grow_customer(customer, user, start, count):
    """Records of every kind on the customer: methods, persons, needs, orders (with credit notes),
    opportunities, communications, follow-ups, history and tags."""
    for i in range(start, start + count):
        ContactMethodFactory(customer=customer, type="wechat", value=f"wx{i}")
        NeedFactory(customer=customer)
        services.add_contact_person(actor=user, customer=customer, name=f"Person {i}")
        add_timeline_entries(customer, user, i)
        customer.tags.create(name=f"grown-{i}")
        finished = customer.orders.filter(status="finished", credited=0).first()
        if finished is not None:
            order_services.issue_credit_note(
                actor=user, order=finished, reason="goodwill", amount=Decimal("1")
            )


def customer_part_urls(customer):
    return {
        "orders_card": reverse("customers:orders_card", args=[customer.pk]),
        "opportunities_card": reverse("customers:opportunities_card", args=[customer.pk]),
        "quick_add": reverse("followups:log", args=[customer.pk]),
        "timeline": reverse("customers:timeline", args=[customer.pk]),
    }


def count_customer_page(client, customer, count_queries):
    """The queries of the page and of each part it loads."""
    parts = {
        name: count_queries(client, url, HTTP_HX_REQUEST="true")
        for name, url in customer_part_urls(customer).items()
    }
    return count_queries(client, customer.get_absolute_url()), parts


@pytest.mark.parametrize("client_fixture", ["sales_client", "lead_client", "manager_client"])
def test_customer_detail_costs_the_same_however_much_hangs_off_the_customer(
    request, client_fixture, sales1, count_queries
):
    client = request.getfixturevalue(client_fixture)
    customer = make_customers(sales1, 1)[0]
    grow_customer(customer, sales1, 0, 2)
    few, few_parts = count_customer_page(client, customer, count_queries)
    grow_customer(customer, sales1, 2, 30)
    many, many_parts = count_customer_page(client, customer, count_queries)
    assert many == few <= CUSTOMER_DETAIL_BUDGET
    for name, budget in CUSTOMER_PART_BUDGETS.items():
        assert many_parts[name] == few_parts[name] <= budget, name
    # The data did grow, and each part shows its share of it.
    page = many.response.context
    assert (
        len(page["contact_methods"]) == 34 and len(page["contact_persons"]) == 32 and len(page["tags"]) == 33
    )
    orders = many_parts["orders_card"].response.context["orders"]
    assert orders["count"] == 32 and len(orders["latest"]) == 5
    assert many_parts["timeline"].response.context["timeline"].has_more
    form = many_parts["quick_add"].response.context["communication_form"]
    assert len(form.fields["order"].choices) > 20 and len(form.fields["contact_person"].choices) > 20


def test_the_quick_add_forms_offer_the_newest_orders_and_share_what_they_read(sales_client, sales1):
    customer = make_customers(sales1, 1)[0]
    mine = [order_in("created", sales1, customer) for _ in range(3)]
    context = sales_client.get(reverse("followups:log", args=[customer.pk]), HTTP_HX_REQUEST="true").context
    for form in (context["communication_form"], context["followup_form"]):
        offered = [value for value, _label in form.fields["order"].choices][1:]
        assert offered == [order.pk for order in reversed(mine)]
    assert context["communication_form"].records is context["followup_form"].records


def test_the_customer_page_loads_its_parts_from_their_endpoints(sales_client, sales1):
    customer = make_customers(sales1, 1)[0]
    order = order_in("created", sales1, customer)
    page = sales_client.get(customer.get_absolute_url()).content.decode()
    for url in customer_part_urls(customer).values():
        assert f'hx-get="{url}"' in page
    assert order.number not in page  # the orders card is not read with the page
    card = sales_client.get(customer_part_urls(customer)["orders_card"], HTTP_HX_REQUEST="true")
    assert order.number in card.content.decode()
    # Without htmx the cards and the timeline are the customer's page.
    for part in ("orders_card", "opportunities_card", "timeline"):
        response = sales_client.get(customer_part_urls(customer)[part])
        assert response.status_code == 302 and response.url == customer.get_absolute_url(), part


@pytest.mark.parametrize("part", ["orders_card", "opportunities_card", "quick_add", "timeline"])
def test_the_parts_of_another_salespersons_customer_are_not_found(sales_client, sales2, part):
    customer = make_customers(sales2, 1)[0]
    order_in("created", sales2, customer)
    url = customer_part_urls(customer)[part]
    assert sales_client.get(url, HTTP_HX_REQUEST="true").status_code == 404


def add_followups(user, customer, count, now):
    for hours in range(count):
        FollowUpFactory(customer=customer, assignee=user, due_at=now - timedelta(hours=hours + 1))


@pytest.mark.parametrize("client_fixture", ["sales_client", "lead_client", "manager_client"])
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


@pytest.mark.parametrize("user_fixture", ["sales1", "manager"])
def test_the_dashboards_two_periods_read_together_agree_with_each_report(
    request, user_fixture, sales1, sales2
):
    """key_figures() reads both periods in one query per table: the same figures as the reports of
    each period (tested against raw rows in tests/reports)."""
    user = request.getfixturevalue(user_fixture)
    for owner in (sales1, sales2):
        customer = make_customers(owner, 1)[0]
        order_in("finished", owner, customer)
        order_in("confirmed", owner, customer)
        for kind, days in (("won", 1), ("lost", 2), ("won", 40), ("lost", 41)):  # this month and the last
            at = timezone.now() - timedelta(days=days)
            OpportunityFactory(
                customer=customer,
                owner=owner,
                stage=Stage.objects.filter(kind=kind).first(),
                created_at=at - timedelta(days=days),
                won_at=at if kind == "won" else None,
                lost_at=at if kind == "lost" else None,
                lost_reason="price" if kind == "lost" else "",
            )
    period = Period.from_preset("this_month", timezone.localdate())
    figures = key_figures(user, period)
    filters = ReportFilters()
    for name, span in (("now", period), ("before", period.previous())):
        deals = closed_deals(user, span, filters)[0]
        assert figures[name]["revenue"] == money(revenue(user, span, filters)[0]["amount"])
        assert figures[name]["booked"] == money(booked(user, span, filters)[0]["amount"])
        for key in ("won_amount", "win_rate", "average_deal", "sales_cycle"):
            assert figures[name][key] == deals[key], (name, key)
    assert figures["now"]["revenue"] > 0 and figures["now"]["booked"] > 0


# Session, user, role; the order, lines, payments, credit notes (and their lines), events, the approval
# request; the approvals count in a manager's header. The communications and follow-ups about the order
# and its change history load after the page (followups:linked, orders:history).
ORDER_DETAIL_BUDGET = 12


def grow_order(order, user, count):
    for i in range(count):
        CommunicationFactory(customer=order.customer, order=order, contact_person=None)
        FollowUpFactory(customer=order.customer, order=order, assignee=user)
        order_services.issue_credit_note(
            actor=user,
            order=order,
            reason=f"goodwill {i}",
            amount=Decimal("1"),
            refund=Decimal("1"),
            refund_method="cash",
        )


def order_part_urls(order):
    return [reverse("followups:linked", args=["order", order.pk]), reverse("orders:history", args=[order.pk])]


@pytest.mark.parametrize("client_fixture", ["sales_client", "manager_client", "lead_client"])
def test_the_order_page_and_its_parts_cost_the_same_as_the_order_grows(
    request, client_fixture, sales1, count_queries
):
    client = request.getfixturevalue(client_fixture)
    order = order_in("finished", sales1, make_customers(sales1, 1)[0])
    parts = [
        reverse("followups:linked", args=["order", order.pk]),
        reverse("orders:history", args=[order.pk]),
    ]
    grow_order(order, sales1, 1)
    few = [count_queries(client, order.get_absolute_url())]
    few += [count_queries(client, part, HTTP_HX_REQUEST="true") for part in parts]
    grow_order(order, sales1, 10)
    many = [count_queries(client, order.get_absolute_url())]
    many += [count_queries(client, part, HTTP_HX_REQUEST="true") for part in parts]
    assert many == few
    assert few[0] <= ORDER_DETAIL_BUDGET and max(few[1:]) <= ORDER_DETAIL_BUDGET
    page = shown_page(client, order.get_absolute_url())
    assert page.count('data-testid="history-subject"') or "Change history" in page
    assert 'data-testid="linked-followups"' in page


def test_the_order_pages_parts_answer_404_for_an_order_one_may_not_see(sales_client, sales2):
    order = order_in("created", sales2, make_customers(sales2, 1)[0])
    for url in (
        reverse("followups:linked", args=["order", order.pk]),
        reverse("orders:history", args=[order.pk]),
    ):
        assert sales_client.get(url, HTTP_HX_REQUEST="true").status_code == 404
    assert sales_client.get(reverse("followups:linked", args=["customer", order.pk])).status_code == 404
