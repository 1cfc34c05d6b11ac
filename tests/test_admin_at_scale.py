"""The admin's changelists of the tables that grow to millions of rows (crm/admin_site.py,
LargeTableAdmin): a pager that counts only up to a limit, no date drill-down over every row, and the
app's own searches, each part on an index, instead of an OR of LIKEs across joins."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from customers import services as customer_services
from followups.models import FollowUp
from tests.factories import CommunicationFactory, CustomerFactory, FollowUpFactory, OpportunityFactory
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db

LARGE_TABLES = [
    "customers_customer",
    "orders_order",
    "opportunities_opportunity",
    "followups_communication",
    "followups_followup",
]


def changelist(table):
    return reverse(f"admin:{table}_changelist")


def shown_pks(response):
    return {row.pk for row in response.context["cl"].result_list}


@pytest.fixture
def five_of_each(sales1):
    customers = [CustomerFactory(owner=sales1, name=f"Acme {index}") for index in range(5)]
    for customer in customers:
        make_order(sales1, customer)
        OpportunityFactory(customer=customer, owner=sales1)
        CommunicationFactory(customer=customer, staff=sales1)
        FollowUpFactory(customer=customer, assignee=sales1)
    return customers


@pytest.mark.parametrize("table", LARGE_TABLES)
def test_the_pager_counts_up_to_its_limit_and_says_so(
    manager_client, five_of_each, settings, table, count_queries
):
    settings.LIST_COUNT_LIMIT = 3
    capped = count_queries(manager_client, changelist(table))
    assert capped.response.status_code == 200
    assert capped.response.context["cl"].result_count == 3
    assert "3+ " in capped.response.content.decode()
    counts = [sql for sql in capped.statements if "COUNT(" in sql.upper()]
    assert counts and all("LIMIT 4" in sql for sql in counts)
    # No date drill-down: nothing reads the distinct years or the first and last day of every row.
    assert not any("DATE_TRUNC" in sql.upper() or "MIN(" in sql.upper() for sql in capped.statements)

    settings.LIST_COUNT_LIMIT = 10
    exact = manager_client.get(changelist(table))
    assert exact.context["cl"].result_count == 5 and not exact.context["cl"].paginator.count_is_capped
    assert "+ " not in exact.content.decode().split('class="paginator"')[1]


def test_the_customer_search_finds_by_name_phone_email_and_contact_person(manager_client, manager, sales1):
    wanted = CustomerFactory(owner=sales1, name="华东精密仪器有限公司")
    other = CustomerFactory(owner=sales1, name="Beijing Trading")
    customer_services.add_contact_method(actor=manager, customer=wanted, type="mobile", value="13912345678")
    customer_services.add_contact_method(
        actor=manager, customer=wanted, type="email", value="buyer@huadong.cn"
    )
    customer_services.add_contact_person(actor=manager, customer=wanted, name="李建国")
    for text in ("精密", "2345", "huadong", "李建国"):
        response = manager_client.get(changelist("customers_customer"), {"q": text})
        assert shown_pks(response) == {wanted.pk}, text
    assert shown_pks(manager_client.get(changelist("customers_customer"), {"q": "Beijing"})) == {other.pk}


def test_communications_and_followups_are_found_by_their_customer(manager_client, manager, sales1):
    wanted = CustomerFactory(owner=sales1, name="华东精密仪器有限公司")
    customer_services.add_contact_method(actor=manager, customer=wanted, type="mobile", value="13912345678")
    other = CustomerFactory(owner=sales1, name="Beijing Trading")
    talks = [CommunicationFactory(customer=customer, staff=sales1) for customer in (wanted, other)]
    tasks = [FollowUpFactory(customer=customer, assignee=sales1) for customer in (wanted, other)]
    for table, rows in (("followups_communication", talks), ("followups_followup", tasks)):
        for text in ("精密", "2345"):
            assert shown_pks(manager_client.get(changelist(table), {"q": text})) == {rows[0].pk}, (
                table,
                text,
            )


def test_orders_and_opportunities_are_found_as_in_their_lists(manager_client, sales1):
    wanted = CustomerFactory(owner=sales1, name="华东精密仪器有限公司")
    other = CustomerFactory(owner=sales1, name="Beijing Trading")
    orders = [make_order(sales1, customer) for customer in (wanted, other)]
    deals = [
        OpportunityFactory(customer=customer, owner=sales1, title="Sensors") for customer in (wanted, other)
    ]
    orders_table, deals_table = changelist("orders_order"), changelist("opportunities_opportunity")
    assert shown_pks(manager_client.get(orders_table, {"q": "精密"})) == {orders[0].pk}
    assert shown_pks(manager_client.get(orders_table, {"q": orders[1].number[-5:]})) == {orders[1].pk}
    assert shown_pks(manager_client.get(deals_table, {"q": "精密"})) == {deals[0].pk}
    assert shown_pks(manager_client.get(deals_table, {"q": "Sensors"})) == {deal.pk for deal in deals}


def test_an_action_on_all_rows_is_refused_past_the_counted_limit(
    manager_client, english, five_of_each, settings
):
    url = changelist("followups_followup")
    # As the browser sends it: the rows of the page ticked, and "select all" chosen.
    page = list(FollowUp.objects.values_list("pk", flat=True))
    on_all = {"action": "cancel_followups", "select_across": "1", "index": "0", ACTION_CHECKBOX_NAME: page}
    settings.LIST_COUNT_LIMIT = 3
    refused = manager_client.post(url, on_all, follow=True)
    assert "More than 3 rows are listed" in refused.content.decode()
    assert not FollowUp.objects.filter(status="cancelled").exists()

    settings.LIST_COUNT_LIMIT = 10
    manager_client.post(url, on_all)
    assert FollowUp.objects.filter(status="cancelled").count() == 5
