"""Integration effectiveness E = S·O/(S+O) and the least-squares revenue forecast, against the raw rows."""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from crm.reporting import Period, ReportFilters
from crm.reports import effectiveness, integration, revenue_forecast
from tests.reports import independent as raw
from tests.reports.conftest import PERIOD

pytestmark = pytest.mark.django_db
CNY = ReportFilters()


def e_by_hand(won, finished):
    return Decimal(0) if won + finished == 0 else raw.cents(Fraction(won * finished, won + finished))


@pytest.mark.parametrize("by", [(), ("owner",), ("month",)])
def test_integration_counts_deals_won_and_orders_finished(dataset, by):
    for user in (dataset.manager, dataset.sales1, dataset.sales2):
        counts: defaultdict[object, list[int]] = defaultdict(lambda: [0, 0])
        for deal in raw.deals(user):
            if raw.within(deal["won_at"], PERIOD):
                group = {(): (), ("owner",): deal["owner_id"], ("month",): raw.month_of(deal["won_at"])}[by]
                counts[group][0] += 1
        for order in raw.orders(user):
            if order["currency"] == "CNY" and raw.within(order["finished_at"], PERIOD):
                group = {
                    (): (),
                    ("owner",): order["owner_id"],
                    ("month",): raw.month_of(order["finished_at"]),
                }[by]
                counts[group][1] += 1
        if by == ("month",):
            for month in PERIOD.months():
                counts[month]  # every month has a row, empty or not
        rows = integration(user, PERIOD, CNY, list(by))
        found = {
            (row[by[0]] if by else ()): (row["won"], row["finished"], row["effectiveness"]) for row in rows
        }
        assert found == {g: (s, o, e_by_hand(s, o)) for g, (s, o) in counts.items()}, (user.username, by)


def test_e_is_zero_when_nothing_was_won_or_finished(dataset):
    assert effectiveness(0, 0) == 0
    assert effectiveness(3, 0) == 0
    assert effectiveness(2, 2) == Decimal("1.00")
    empty = Period(date(2024, 1, 1), date(2024, 3, 31))
    [row] = integration(dataset.manager, empty, CNY)
    assert (row["won"], row["finished"], row["effectiveness"]) == (0, 0, Decimal("0.00"))
    assert [row["effectiveness"] for row in integration(dataset.manager, empty, CNY, ["month"])] == [0, 0, 0]
    assert integration(dataset.manager, empty, CNY, ["owner"]) == []  # no groups without data


def line_by_hand(values):
    """θ, β and R² of y = θx + β through (1, y1) … (n, yn) in exact fractions."""
    n = len(values)
    xs = range(1, n + 1)
    ys = [Fraction(str(v)) for v in values]
    mean_x, mean_y = Fraction(sum(xs), n), sum(ys) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    intercept = mean_y - slope * mean_x
    total = sum((y - mean_y) ** 2 for y in ys)
    residual = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys, strict=True))
    return slope, intercept, 1 - residual / total


def test_the_forecast_fits_the_monthly_revenue_and_projects_three_months(dataset):
    today = date(2026, 7, 15)
    monthly: defaultdict[date, Decimal] = defaultdict(Decimal)
    for order in raw.orders(dataset.manager):
        if order["currency"] == "CNY" and raw.within(
            order["finished_at"], Period(date(2026, 1, 1), date(2026, 6, 30))
        ):
            monthly[raw.month_of(order["finished_at"])] += order["total"]
    months = [date(2026, m, 1) for m in range(1, 7)]
    values = [monthly[month] for month in months]  # June: nothing finished, a real zero
    slope, intercept, r_squared = line_by_hand(values)

    forecast = revenue_forecast(dataset.manager, CNY, today, months=6)

    assert [row["month"] for row in forecast.fitted] == months
    assert [row["revenue"] for row in forecast.fitted] == [raw.cents(v) for v in values]
    assert forecast.slope == raw.cents(slope) and forecast.intercept == raw.cents(intercept)
    assert forecast.r_squared == Decimal(str(float(r_squared))).quantize(Decimal("0.001"))
    assert [row["fitted"] for row in forecast.fitted] == [
        raw.cents(slope * x + intercept) for x in range(1, 7)
    ]
    assert [row["month"] for row in forecast.projected] == [
        date(2026, 7, 1),
        date(2026, 8, 1),
        date(2026, 9, 1),
    ]
    assert [row["projected"] for row in forecast.projected] == [
        raw.cents(max(Fraction(0), slope * x + intercept)) for x in (7, 8, 9)
    ]


def test_no_forecast_from_one_month_of_revenue(dataset):
    forecast = revenue_forecast(dataset.manager, CNY, date(2026, 1, 10), months=12)
    assert not forecast.enough and forecast.projected == [] and forecast.slope is None
    assert [row["month"] for row in forecast.fitted] == [date(2025, 12, 1)]  # o7 only


def test_no_forecast_from_two_months_and_none_without_revenue(dataset):
    assert not revenue_forecast(dataset.manager, CNY, date(2026, 2, 15)).enough  # December and January
    assert revenue_forecast(dataset.manager, CNY, date(2024, 5, 1)).fitted == []
    assert revenue_forecast(dataset.manager, CNY, date(2026, 4, 10), months=3).enough  # Jan, Feb, Mar


def test_a_salespersons_forecast_fits_their_revenue_only(dataset):
    forecast = revenue_forecast(dataset.sales2, CNY, date(2026, 7, 15), months=6)
    # sales2's customers: o3 in March, o4 in April; the months before the first revenue are left out.
    assert [row["month"] for row in forecast.fitted] == [date(2026, m, 1) for m in (3, 4, 5, 6)]
    assert forecast.fitted[0]["revenue"] == dataset.orders["o3"].total
