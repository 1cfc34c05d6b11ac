"""Order cycle times (mean, median, p90 by month, owner and product) and the orders waiting too long,
against the orders' own time stamps."""

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from crm.reporting import Period, ReportFilters
from orders.reports import CYCLE_TIMES, cycle_time, longest_waiting, orders_waiting
from tests.orders.builders import order_in
from tests.reports import independent as raw
from tests.reports.conftest import PERIOD, dated, local

pytestmark = pytest.mark.django_db
CNY = ReportFilters()


def spans_by_hand(user, measure, key):
    end, start = CYCLE_TIMES[measure]
    product_ids = defaultdict(set)
    for item in raw.lines(user):
        product_ids[item["order_id"]].add(item["product_id"])
    groups = defaultdict(list)
    for order in raw.orders(user):
        if order["currency"] == "CNY" and raw.within(order[end], PERIOD) and order[start]:
            for group in key(order, product_ids[order["id"]]):
                groups[group].append(raw.days(order[end], order[start]))
    return groups


# The groups an order counts in, from the order and the products it contains.
GroupsOf = Callable[..., list[object]]
BY: dict[tuple[str, ...], GroupsOf] = {
    (): lambda order, products: [()],
    ("month",): lambda order, products: [None],  # filled per measure below
    ("owner",): lambda order, products: [order["owner_id"]],
    ("product",): lambda order, products: list(products),
}


@pytest.mark.parametrize("by", list(BY))
def test_cycle_times_mean_median_and_p90(dataset, by):
    for user in (dataset.manager, dataset.sales1):
        for measure, (end, _start) in CYCLE_TIMES.items():
            key: GroupsOf = (
                (lambda order, products, end=end: [raw.month_of(order[end])]) if by == ("month",) else BY[by]
            )
            expected = {
                group: (
                    len(spans),
                    raw.one_decimal(raw.mean(spans)),
                    raw.one_decimal(raw.percentile(spans, 0.5)),
                    raw.one_decimal(raw.percentile(spans, 0.9)),
                )
                for group, spans in spans_by_hand(user, measure, key).items()
            }
            rows = cycle_time(user, PERIOD, CNY, measure, list(by))
            found = {
                (row[by[0]] if by else ()): (
                    row["orders"],
                    raw.one_decimal(row["mean"]),
                    raw.one_decimal(row["median"]),
                    raw.one_decimal(row["p90"]),
                )
                for row in rows
                if row["orders"]
            }
            assert found == expected, (user.username, measure, by)


def test_p90_interpolates_between_the_two_nearest_orders(dataset):
    [row] = cycle_time(dataset.manager, PERIOD, CNY, "finish")
    spans = sorted(spans_by_hand(dataset.manager, "finish", BY[()])[()])
    assert len(spans) == 5
    # position 0.9 × 4 = 3.6: 60% of the way from the 4th to the 5th value
    assert raw.one_decimal(row["p90"]) == raw.one_decimal(spans[3] + 0.6 * (spans[4] - spans[3]))


def test_orders_waiting_longer_than_n_days_per_status(dataset):
    now = local(2026, 6, 25)
    waiting = orders_waiting(dataset.manager, CNY, 7, now)
    found = {row["status"]: (row["orders"], raw.cents(row["amount"]), row["oldest"]) for row in waiting}
    since = {"created": "created_at", "confirmed": "confirmed_at", "processing": "processing_at"}
    expected = defaultdict(list)
    for order in raw.orders(dataset.manager):
        stamp = since.get(order["status"])
        if order["currency"] == "CNY" and stamp and order[stamp] < now - timedelta(days=7):
            expected[order["status"]].append(order)
    assert found == {
        status: (len(rows), raw.cents(sum(r["total"] for r in rows)), min(r[since[status]] for r in rows))
        for status, rows in expected.items()
    }
    assert set(found) == {"confirmed", "processing"}  # o8 since 2 June, o9 since 12 June; o11 is 5 days old
    longest = longest_waiting(dataset.manager, CNY, 7, now)
    assert [order.number for order in longest] == [dataset.orders["o8"].number, dataset.orders["o9"].number]
    assert longest_waiting(dataset.sales2, CNY, 7, now) == [dataset.orders["o9"]]


def test_a_salesperson_sees_the_cycle_times_of_their_customers_only(dataset, sales2):
    theirs = order_in("finished", sales2, dataset.customers["c3"])
    dated(
        theirs,
        created=local(2026, 6, 1),
        confirmed=local(2026, 6, 1, 12),
        processing=local(2026, 6, 2),
        finished=local(2026, 6, 3),
    )
    [mine] = cycle_time(dataset.sales1, PERIOD, CNY, "confirm")
    assert mine["orders"] == 5  # o1, o2, o5, o8 and o10 (closed after its confirmation); not sales2's
    june = Period(date(2026, 6, 1), date(2026, 6, 30))
    [row] = cycle_time(dataset.sales1, june, CNY, "finish")
    assert row["orders"] == 0 and row["median"] is None
