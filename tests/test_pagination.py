"""The pager's total is counted only up to a limit: its cost does not grow with the data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.pagination import bounded_count, paginate
from customers.models import Customer
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


@pytest.mark.parametrize("client_fixture", ["sales_client", "manager_client"])
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
