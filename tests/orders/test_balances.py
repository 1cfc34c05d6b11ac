"""Balances due: only confirmed, processing and finished orders, totals per currency, ageing buckets,
the export, visibility and a fixed number of queries."""

import csv
import io
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from orders import services
from orders.models import Order
from tests.factories import CustomerFactory
from tests.orders.builders import make_order, order_in

pytestmark = pytest.mark.django_db

PAGE = reverse("orders:balances")
EXPORT = reverse("orders:balances_export")


def confirmed_days_ago(order, days):
    """Moves the order's confirmation `days` local days back (noon, so no day boundary is near)."""
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=days)
    Order.objects.filter(pk=order.pk).update(confirmed_at=noon)
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def due(sales1, customer):
    """Orders of every status; those with money due were confirmed 10, 45, 75 and 120 days ago."""
    orders = {
        "created": make_order(sales1, customer),
        "closed": order_in("closed", sales1, customer),
        "paid": order_in("finished", sales1, customer),
    }
    for name, days, status in [("d10", 10, "confirmed"), ("d45", 45, "processing"), ("d75", 75, "confirmed")]:
        orders[name] = confirmed_days_ago(order_in(status, sales1, customer), days)
    usd = order_in("processing", sales1, customer, currency="USD")
    services.record_payment(actor=sales1, order=usd, amount=D("100.00"), method="cash")
    orders["usd"] = confirmed_days_ago(usd, 120)
    finished = order_in("finished", sales1, customer)  # paid in full, then credited and owed back
    services.issue_credit_note(actor=sales1, order=finished, reason="x", amount=D("10"))
    orders["owed_back"] = finished
    return orders


def test_only_confirmed_processing_and_finished_orders_with_money_due_are_listed(sales_client, due):
    response = sales_client.get(PAGE)
    listed = {order.number for order in response.context["page"].items}
    assert listed == {due[name].number for name in ("d10", "d45", "d75", "usd")}
    assert response.context["page"].items[0].number == due["usd"].number  # the oldest first


def test_totals_per_currency_and_by_age(sales_client, due):
    summary = sales_client.get(PAGE).context["summary"]
    assert summary == [
        {
            "currency": "CNY",
            "orders": 3,
            "amount": D("900.00"),
            "buckets": [D("300.00"), D("300.00"), D("300.00"), D("0.00")],
        },
        {
            "currency": "USD",
            "orders": 1,
            "amount": D("200.00"),
            "buckets": [D("0.00"), D("0.00"), D("0.00"), D("200.00")],
        },
    ]
    page = sales_client.get(PAGE).content.decode()
    assert 'data-testid="balance-total-CNY">900.00' in page
    filtered = sales_client.get(PAGE + "?age=31-60").context
    assert [order.number for order in filtered["page"].items] == [due["d45"].number]
    assert filtered["summary"][0]["amount"] == D("300.00")
    assert {o.number for o in sales_client.get(PAGE + "?currency=USD").context["page"].items} == {
        due["usd"].number
    }


def test_the_bucket_edges_are_whole_local_days(sales1, customer):
    from orders.selectors import AGEING_BUCKETS, balances_by_currency

    for days in (30, 31, 60, 61, 90, 91):
        confirmed_days_ago(order_in("confirmed", sales1, customer), days)
    [row] = balances_by_currency(Order.objects.all(), timezone.localdate())
    assert row["buckets"] == [D("300.00"), D("600.00"), D("600.00"), D("300.00")]
    assert [bucket.key for bucket in AGEING_BUCKETS] == ["0-30", "31-60", "61-90", "90+"]


def test_the_export_lists_the_same_orders_with_raw_numbers(sales_client, due):
    response = sales_client.get(EXPORT + "?format=csv&currency=CNY")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["Number"] for row in rows] == [due[name].number for name in ("d75", "d45", "d10")]
    assert rows[0]["Balance"] == "300.00" and rows[0]["Days since confirmation"] == "75"
    xlsx = sales_client.get(EXPORT + "?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert sheet.max_row == 5  # the header and four orders


def test_another_owners_balances_are_not_shown(client, sales2, due):
    client.force_login(sales2)
    response = client.get(PAGE)
    assert response.context["page"].items == [] and response.context["summary"] == []
    text = b"".join(client.get(EXPORT + "?format=csv").streaming_content).decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 1


@pytest.mark.parametrize("client_fixture", ["sales_client", "manager_client"])
def test_the_page_runs_a_fixed_number_of_queries(request, client_fixture, sales1, count_queries):
    client = request.getfixturevalue(client_fixture)

    def add(count):
        for _ in range(count):
            order_in("confirmed", sales1, CustomerFactory(owner=sales1))

    add(5)
    few = count_queries(client, PAGE)
    add(45)
    assert count_queries(client, PAGE) == few
    assert count_queries(client, PAGE + "?age=0-30&currency=CNY&q=SO") == few
    assert few <= 12
