"""Revenue, bookings, orders by status and the spread of order values, each against the raw rows."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.reporting import Period, ReportFilters
from orders.reports import booked, order_values, orders_by_status, revenue
from tests.reports import independent as raw
from tests.reports.conftest import PERIOD

pytestmark = pytest.mark.django_db
CNY = ReportFilters()


def expected_totals(user, stamp, key, period=PERIOD, currency="CNY"):
    """{group: (net total, orders)} of the orders whose `stamp` falls in the period, by hand."""
    groups: defaultdict[object, list[Decimal | int]] = defaultdict(lambda: [Decimal(0), 0])
    for order in raw.orders(user):
        if order["currency"] != currency or not raw.within(order[stamp], period):
            continue
        for group in key(order):
            groups[group][0] += order["total"]
            groups[group][1] += 1
    return {group: (raw.cents(amount), count) for group, (amount, count) in groups.items()}


def figures(rows, key, amount="amount", count="orders"):
    return {row[key]: (raw.cents(row[amount] or 0), row[count]) for row in rows}


DIMENSIONS = {
    "month": lambda stamp: lambda order: [raw.month_of(order[stamp])],
    "owner": lambda stamp: lambda order: [order["owner_id"]],
    "region": lambda stamp: lambda order: [order["customer__region"]],
    "industry": lambda stamp: lambda order: [order["customer__industry"]],
    "tag": lambda stamp: lambda order: [*order["tags"]] or [None],
}


def test_revenue_and_booked_by_each_dimension_match_the_orders(dataset):
    for user in (dataset.manager, dataset.sales1, dataset.sales2):
        for dimension, key in DIMENSIONS.items():
            for selector, stamp in ((revenue, "finished_at"), (booked, "confirmed_at")):
                rows = selector(user, PERIOD, CNY, [dimension])
                found = figures(rows, "tag_name" if dimension == "tag" else dimension)
                expected = expected_totals(user, stamp, key(stamp))
                if dimension == "tag":
                    expected = {name or "No tag": value for name, value in expected.items()}
                assert found == expected, (user.username, selector.__name__, dimension)


def test_revenue_overall_in_the_period_and_the_month_boundary_in_local_time(dataset):
    manager = dataset.manager
    [total] = revenue(manager, PERIOD, CNY)
    expected = expected_totals(manager, "finished_at", lambda order: ["all"])["all"]
    assert (raw.cents(total["amount"]), total["orders"]) == expected
    o = dataset.orders
    assert expected == (raw.cents(sum(o[k].total for k in ("o1", "o2", "o3", "o4", "o5"))), 5)
    by_month = {row["month"]: row["orders"] for row in revenue(manager, PERIOD, CNY, ["month"])}
    assert by_month[date(2026, 3, 1)] == 1  # o3 finished at 23:30 on 31 March, Shanghai time
    assert date(2026, 7, 1) not in by_month  # o6 finished on 1 July in Shanghai (30 June in UTC)


def test_booked_counts_an_order_confirmed_then_closed(dataset):
    [total] = booked(dataset.manager, PERIOD, CNY)
    o = dataset.orders
    names = ("o1", "o2", "o3", "o4", "o5", "o6", "o8", "o9", "o10")
    assert (raw.cents(total["amount"]), total["orders"]) == (raw.cents(sum(o[k].total for k in names)), 9)


def test_revenue_by_product_shares_each_orders_net_total_among_its_lines(dataset):
    manager = dataset.manager
    shares: defaultdict[int, Decimal] = defaultdict(Decimal)
    orders: defaultdict[int, set[int]] = defaultdict(set)
    for item in raw.lines(manager):
        order = item["order"]
        if order["currency"] == "CNY" and raw.within(order["finished_at"], PERIOD):
            shares[item["product_id"]] += item["line_total"] * order["total"] / order["subtotal"]
            orders[item["product_id"]].add(order["id"])
    rows = revenue(manager, PERIOD, CNY, ["product"])
    assert figures(rows, "product") == {
        product: (raw.cents(amount), len(orders[product])) for product, amount in shares.items()
    }
    [total] = revenue(manager, PERIOD, CNY)
    assert abs(sum(row["amount"] for row in rows) - total["amount"]) < Decimal("0.01")
    assert {row["product_name"] for row in rows} == {"SEN · Sensor", "CTL · Controller", "SVC · Service"}


def test_the_filters_narrow_what_is_counted(dataset):
    manager, c, p = dataset.manager, dataset.customers, dataset.products

    def expected(keep):
        return expected_totals(manager, "finished_at", lambda order: ["all"] if keep(order) else [])

    def found(**filters):
        [row] = revenue(manager, PERIOD, ReportFilters(**filters))
        return {"all": (raw.cents(row["amount"]), row["orders"])} if row["orders"] else {}

    assert found(owner=dataset.sales2) == expected(lambda order: order["owner_id"] == dataset.sales2.pk)
    assert found(region="上海") == expected(lambda order: order["customer__region"].startswith("上海"))
    tag = c["c1"].tags.get(name="Key account")
    assert found(tag=tag) == expected(lambda order: "Key account" in order["tags"])
    with_service = {dataset.orders[k].pk for k in ("o3", "o5")}
    assert found(product=p["service"]) == expected(lambda order: order["id"] in with_service)
    usd = expected_totals(manager, "finished_at", lambda order: ["all"], currency="USD")
    assert found(currency="USD") == usd and usd["all"][1] == 1


def test_revenue_and_bookings_by_what_the_days_keep_read_the_days_not_the_orders(dataset):
    """By month, owner, team or office, with no filter on the customer or a product, the summary rows of
    the days answer (the figures themselves are checked against the orders above); a region filter
    reads the orders."""
    summarized = [
        (by, ReportFilters(**filters))
        for by in ([], ["month"], ["owner", "team", "office"])
        for filters in ({}, {"owner": dataset.sales1}, {"currency": "USD"})
    ]
    for by, filters in summarized:
        for selector in (revenue, booked):
            with CaptureQueriesContext(connection) as queries:
                selector(dataset.manager, PERIOD, filters, by)
            [query] = queries.captured_queries
            assert "summaries_orderday" in query["sql"] and "orders_order" not in query["sql"], by
    with CaptureQueriesContext(connection) as queries:
        revenue(dataset.manager, PERIOD, ReportFilters(region="上海"), ["month"])
    assert "orders_order" in queries.captured_queries[0]["sql"]


def test_orders_created_in_the_period_by_status(dataset):
    for user in (dataset.manager, dataset.sales1):
        expected: defaultdict[str, list[Decimal | int]] = defaultdict(lambda: [Decimal(0), 0])
        for order in raw.orders(user):
            if order["currency"] == "CNY" and raw.within(order["created_at"], PERIOD):
                expected[order["status"]][0] += order["total"]
                expected[order["status"]][1] += 1
        rows = orders_by_status(user, PERIOD, CNY)
        assert figures(rows, "status") == {s: (raw.cents(a), n) for s, (a, n) in expected.items()}
    assert {row["status"] for row in orders_by_status(dataset.manager, PERIOD, CNY)} == {
        "finished",
        "confirmed",
        "processing",
        "closed",
        "created",
    }


def test_the_spread_of_order_values(dataset):
    for user in (dataset.manager, dataset.sales1, dataset.sales2):
        values = [
            order["total"]
            for order in raw.orders(user)
            if order["currency"] == "CNY" and raw.within(order["finished_at"], PERIOD)
        ]
        [row] = order_values(user, PERIOD, CNY)
        assert row["orders"] == len(values)
        assert raw.cents(row["mean"]) == raw.cents(sum(values) / len(values))
        assert abs(Decimal(str(row["median"])) - Decimal(str(raw.percentile(values, 0.5)))) < Decimal("0.005")
        assert (raw.cents(row["smallest"]), raw.cents(row["largest"])) == (min(values), max(values))
        variance = raw.sample_variance(values)
        if variance is None:
            assert row["variance"] is None and row["std_dev"] is None
        else:
            assert raw.cents(row["variance"]) == raw.cents(variance)
            assert raw.cents(row["std_dev"]) == raw.cents(variance.sqrt())


def test_one_order_has_no_sample_variance(dataset):
    march = Period(date(2026, 3, 1), date(2026, 3, 31))
    [row] = order_values(dataset.manager, march, CNY)
    assert row["orders"] == 1 and row["variance"] is None and row["std_dev"] is None
    assert raw.cents(row["median"]) == raw.cents(row["mean"]) == dataset.orders["o3"].total


def test_an_empty_period_has_no_revenue(dataset):
    empty = Period(date(2024, 1, 1), date(2024, 12, 31))
    assert revenue(dataset.manager, empty, CNY, ["month"]) == []
    [total] = revenue(dataset.manager, empty, CNY)
    assert total["amount"] is None and total["orders"] == 0
    [values] = order_values(dataset.manager, empty, CNY)
    assert values["orders"] == 0 and values["mean"] is None and values["median"] is None


def test_a_salesperson_counts_only_the_orders_they_or_their_customers_own(dataset):
    mine = {dataset.orders[k].pk for k in ("o1", "o2", "o5")}  # o5: sales2 owns it, sales1's customer
    [total] = revenue(dataset.sales1, PERIOD, CNY)
    assert total["orders"] == len(mine)
    owners = {row["owner"] for row in revenue(dataset.sales1, PERIOD, CNY, ["owner"])}
    assert owners == {dataset.sales1.pk, dataset.sales2.pk}
    [theirs] = revenue(dataset.sales2, PERIOD, CNY)
    assert theirs["orders"] == 3  # o3, o4 and o5, which they own on sales1's customer
