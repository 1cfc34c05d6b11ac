"""The pager's total is counted only up to a limit: its cost does not grow with the data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.pagination import bounded_count, paginate
from customers.models import Customer
from followups.models import Communication, FollowUp
from opportunities.models import Opportunity
from orders.models import Order
from tests.factories import (
    CommunicationFactory,
    CustomerFactory,
    FollowUpFactory,
    OpportunityFactory,
    ProductFactory,
)
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db


def add_rows(owner, count):
    """`count` rows of every listed kind, all visible to `owner`."""
    for _ in range(count):
        customer = CustomerFactory(owner=owner)
        make_order(owner, customer)
        OpportunityFactory(customer=customer, owner=owner)
        CommunicationFactory(customer=customer, staff=owner)
        FollowUpFactory(customer=customer, assignee=owner)
        ProductFactory()


LISTS = [
    reverse("customers:index"),
    reverse("orders:index"),
    reverse("orders:products"),
    reverse("opportunities:index"),
    reverse("followups:index"),
    reverse("followups:communications"),
]


@pytest.mark.parametrize("client_fixture", ["sales_client", "lead_client", "manager_client"])
def test_every_list_runs_the_same_queries_when_the_data_grows_past_the_count_limit(
    request, client_fixture, sales1, count_queries, settings
):
    settings.LIST_COUNT_LIMIT = 8
    client = request.getfixturevalue(client_fixture)
    add_rows(sales1, 3)
    few = {url: count_queries(client, url) for url in LISTS}
    assert all(client.get(url).context["page"].total == 3 for url in LISTS)
    add_rows(sales1, 12)
    for url in LISTS:
        many = count_queries(client, url)
        assert many == few[url]
        assert many <= 12
        page = many.response.context["page"]
        assert (page.total, page.total_is_capped) == (8, True), url


def test_a_capped_total_reads_as_the_limit_and_a_plus(sales_client, sales1, settings, english):
    settings.LIST_COUNT_LIMIT = 4
    CustomerFactory.create_batch(5, owner=sales1)
    page = sales_client.get(reverse("customers:index")).content.decode()
    assert "4+ records" in page
    settings.LIST_COUNT_LIMIT = 5
    page = sales_client.get(reverse("customers:index")).content.decode()
    assert "5 records" in page and "5+" not in page


def test_a_capped_list_still_pages_forward_and_back(sales_client, sales1, settings):
    settings.LIST_COUNT_LIMIT, settings.LIST_PAGE_SIZE = 2, 2
    CustomerFactory.create_batch(5, owner=sales1)
    first = sales_client.get(reverse("customers:index")).context["page"]
    assert first.total_is_capped and first.has_next and not first.has_previous
    url = f"{reverse('customers:index')}?page=next&cursor={first.next_cursor}"
    second = sales_client.get(url).context["page"]
    assert second.has_next and second.has_previous
    assert {c.pk for c in first.items}.isdisjoint(c.pk for c in second.items)


def test_the_count_reads_no_more_than_the_limit_and_one_row(sales1):
    CustomerFactory.create_batch(6, owner=sales1)
    with CaptureQueriesContext(connection) as captured:
        assert bounded_count(Customer.objects.all(), 5) == (5, True)
    assert "LIMIT 6" in captured[0]["sql"]
    assert bounded_count(Customer.objects.all(), 6) == (6, False)
    assert bounded_count(Customer.objects.none(), 6) == (0, False)
    page = paginate(Customer.objects.all(), ["name", "id"], page_size=4, count_limit=100)
    assert (page.total, page.total_is_capped, len(page.items)) == (6, False, 4)


# The lists whose rows a user sees through their own column or through their customer's owner, with
# the model and that column.
LISTS_SEEN_THROUGH_CUSTOMERS = {
    reverse("orders:index"): (Order, "owner"),
    reverse("opportunities:index"): (Opportunity, "owner"),
    reverse("followups:index"): (FollowUp, "assignee"),
    reverse("followups:communications"): (Communication, "staff"),
}


def add_rows_of(row_owner, customer_owner, count):
    """`count` rows of every list above, each on a customer of `customer_owner`, owned by (assigned
    to, logged by) `row_owner`."""
    for _ in range(count):
        customer = CustomerFactory(owner=customer_owner)
        order = make_order(customer_owner, customer)
        Order.objects.filter(pk=order.pk).update(owner=row_owner)
        OpportunityFactory(customer=customer, owner=row_owner)
        FollowUpFactory(customer=customer, assignee=row_owner)
        CommunicationFactory(customer=customer, staff=row_owner)


def rows_seen_by(user, model, column):
    """The rows `user` sees, counted from every row in Python: theirs, or on their customer."""
    rows = model.objects.select_related("customer")
    return sum(1 for row in rows if user.pk in (getattr(row, f"{column}_id"), row.customer.owner_id))


@pytest.mark.parametrize(
    ("limit", "shown"),
    [
        (10, (7, False)),  # below the limit: the true count
        (7, (7, False)),
        (6, (6, True)),  # the rows of their own (3) are below the limit, those on their customers pass it
        (2, (2, True)),  # the rows of their own alone pass the limit
    ],
)
def test_a_list_seen_through_customers_counts_what_the_user_sees(
    sales_client, sales1, sales2, settings, limit, shown
):
    settings.LIST_COUNT_LIMIT = limit
    add_rows_of(sales1, sales2, 3)  # theirs, on another's customers
    add_rows_of(sales2, sales1, 4)  # another's, on their customers
    add_rows_of(sales2, sales2, 5)  # not seen
    for url, (model, column) in LISTS_SEEN_THROUGH_CUSTOMERS.items():
        assert rows_seen_by(sales1, model, column) == 7
        page = sales_client.get(url).context["page"]
        assert (page.total, page.total_is_capped) == shown, url


def test_a_team_lead_counts_what_the_team_sees(lead_client, sales1, sales2):
    add_rows_of(sales1, sales2, 2)
    add_rows_of(sales2, sales1, 3)
    add_rows_of(sales2, sales2, 4)
    lead = lead_client.get(reverse("orders:index")).context["user"]
    for url, (model, column) in LISTS_SEEN_THROUGH_CUSTOMERS.items():
        seen = rows_seen_by(sales1, model, column) + rows_seen_by(lead, model, column)
        page = lead_client.get(url).context["page"]
        assert (page.total, page.total_is_capped) == (seen, False) == (5, False), url


def test_the_rows_of_ones_own_are_counted_first_in_the_same_query(sales1, sales2):
    add_rows_of(sales1, sales2, 3)
    orders = Order.objects.visible_to(sales1).filter(status="created")
    with CaptureQueriesContext(connection) as captured:
        assert bounded_count(orders, 2) == (2, True)
        assert bounded_count(orders, 3) == (3, False)
        assert bounded_count(orders.none(), 3) == (0, False)
    assert len(captured) == 2 and all(query["sql"].startswith("SELECT CASE WHEN") for query in captured)
    # The first count reads the order's owner column only: its customer's owner is not in it.
    owned_first = captured[0]["sql"].split(" THEN ")[0]
    assert "customer_owner" not in owned_first and "owner_id" in owned_first and "status" in owned_first
    # Once the visibility condition is no longer one of the filters that all apply, the plain count.
    either = orders | Order.objects.visible_to(sales1).filter(status="confirmed")
    assert either.owned_in_own_columns() is None and bounded_count(either, 5) == (3, False)
    assert Order.objects.visible_to(None).owned_in_own_columns() is None
    assert Customer.objects.visible_to(sales1).owned_in_own_columns() is None
