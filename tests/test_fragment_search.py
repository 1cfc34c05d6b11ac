"""Fragments shorter than a trigram ("王伟", a whole Chinese name; "ac") are found in names, contact
persons and deal titles, by the character-and-pair index on PostgreSQL; contact values need three."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import ContactPerson, Customer
from customers.selectors import search_customers
from opportunities.models import Opportunity
from opportunities.selectors import search_opportunities
from orders.models import Order
from orders.selectors import orders_with_number
from tests.conftest import POSTGRESQL_ONLY
from tests.factories import ContactMethodFactory, CustomerFactory, OpportunityFactory
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db


def names(customers):
    return sorted(customer.name for customer in customers)


def test_one_and_two_character_fragments_find_names_and_contact_persons(sales1):
    CustomerFactory(owner=sales1, name="王伟")
    CustomerFactory(owner=sales1, name="上海王伟贸易")
    CustomerFactory(owner=sales1, name="Acme Trading")
    CustomerFactory(owner=sales1, name="王小明")
    ContactPerson.objects.create(customer=CustomerFactory(owner=sales1, name="北京天成"), name="王伟")
    everyone = Customer.objects.all()
    assert names(search_customers(everyone, "王伟")) == ["上海王伟贸易", "北京天成", "王伟"]
    assert names(search_customers(everyone, "王")) == ["上海王伟贸易", "北京天成", "王伟", "王小明"]
    assert names(search_customers(everyone, "aC")) == ["Acme Trading"]
    assert names(search_customers(everyone, "g")) == ["Acme Trading"]
    assert names(search_customers(everyone, "伟贸易")) == ["上海王伟贸易"]


def test_contact_values_are_searched_from_three_characters(sales1):
    customer = CustomerFactory(owner=sales1, name="Nameless")
    ContactMethodFactory(customer=customer, type="email", value="qz@example.cn")
    assert list(search_customers(Customer.objects.all(), "qz")) == []
    assert list(search_customers(Customer.objects.all(), "qz@")) == [customer]


def test_deal_titles_and_customer_names_by_two_characters(sales1):
    by_title = OpportunityFactory(owner=sales1, title="空调安装")
    by_customer = OpportunityFactory(owner=sales1, customer=CustomerFactory(owner=sales1, name="安装公司"))
    OpportunityFactory(owner=sales1, title="Other")
    found = search_opportunities(Opportunity.objects.all(), "安装")
    assert set(found) == {by_title, by_customer}


def test_a_fragment_no_number_can_hold_reads_no_orders(sales1):
    order = make_order(sales1, CustomerFactory(owner=sales1))
    with CaptureQueriesContext(connection) as queries:
        assert list(orders_with_number(Order.objects.all(), "王伟")) == []
    assert len(queries) == 0
    assert list(orders_with_number(Order.objects.all(), "so-" + order.number[3:7])) == [order]


@POSTGRESQL_ONLY
@pytest.mark.parametrize(
    ("queryset", "index", "trigram_index"),
    [
        (Customer.objects.filter(name__fragment="王伟"), "customer_name_grams", "customer_name_upper_trgm"),
        (
            ContactPerson.objects.filter(name__fragment="wa"),
            "contact_person_name_grams",
            "contact_person_name_upper_trgm",
        ),
        (
            Opportunity.objects.filter(title__fragment="安"),
            "opportunity_title_grams",
            "opportunity_title_upper_trgm",
        ),
    ],
)
def test_short_fragments_are_looked_up_in_the_grams_index(queryset, index, trigram_index):
    # On a table this small the planner may read the whole table, walk a whole sort index, or scan
    # the whole trigram index (which answers the LIKE, slowly, at any size); without those, the grams
    # index must answer the lookup. The test's transaction is rolled back, the index with it.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {trigram_index}")
        for method in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        plan = queryset.explain()
    assert f"Bitmap Index Scan on {index}" in plan, plan


@POSTGRESQL_ONLY
@pytest.mark.parametrize("text", ["", "A", "AB", "王伟", "上海王伟贸易 ACME", "AAAA", "测试客户 1234567"])
def test_the_grams_are_every_character_and_every_pair_of_neighbours(text):
    expected = {text[start : start + size] for start in range(len(text)) for size in (1, 2)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT crm_grams(%s)", [text])
        (grams,) = cursor.fetchone()
    assert set(grams) == expected
