"""Figures that combine the apps: sales–order integration E, the revenue forecast and the dashboard's
key figures. Each calls the apps' report selectors, so a number means the same everywhere.

- Integration effectiveness E = S·O / (S + O), with S the opportunities won and O the orders finished
  in the period (E = 0 when both are 0): the harmonic-mean-like figure is high only when deals are
  both won and delivered.
- Revenue forecast: the least-squares line y = θ·x + β through the revenue of the last N complete
  months (x = 1…N, leading months before the first revenue left out), θ = Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²,
  β = ȳ − θ·x̄, R² = 1 − Σ(y−ŷ)² / Σ(y−ȳ)²; the next three months are θ·x + β (never below zero).
  Nothing is projected from fewer than three months.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from crm.reporting import Period, ReportFilters, Row, add_months, money, month_start
from followups.models import FollowUp
from opportunities.reports import closed_deals, closed_deals_in, open_pipeline_now
from orders.reports import balances_due, revenue, revenue_and_booked_in

if TYPE_CHECKING:
    from django.contrib.auth.models import User

FORECAST_MONTHS = 12
FORECAST_MIN_MONTHS = 3
FORECAST_MAX_MONTHS = 36
PROJECTED_MONTHS = 3
TWO_PLACES = Decimal("0.01")


def effectiveness(won: int, finished: int) -> Decimal:
    """E = S·O / (S + O), 0 when both are 0."""
    if won + finished == 0:
        return Decimal("0.00")
    return (Decimal(won * finished) / Decimal(won + finished)).quantize(TWO_PLACES)


def _key(row: Row, by: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row[key] for key in by)


def integration(user: User, period: Period, filters: ReportFilters, by: Sequence[str] = ()) -> list[Row]:
    """Per group: S (opportunities won), O (orders finished) and E. By month, every month of the period
    has a row."""
    won = {_key(row, by): row for row in closed_deals(user, period, filters, by)}
    finished = {_key(row, by): row for row in revenue(user, period, filters, by)}
    keys = sorted(set(won) | set(finished), key=lambda key: tuple(str(part) for part in key))
    if list(by) == ["month"]:
        keys = [(month,) for month in period.months()]
    if not by:
        keys = [()]  # one row for the whole period, with or without data
    rows = []
    for key in keys:
        names = won.get(key) or finished.get(key) or {}
        row = dict(zip(by, key, strict=True))
        row |= {f"{name}_name": names[f"{name}_name"] for name in by if f"{name}_name" in names}
        if "month" in by:
            row["month_name"] = row["month"].strftime("%Y-%m")
        row["won"] = won.get(key, {}).get("won", 0)
        row["finished"] = finished.get(key, {}).get("orders", 0)
        row["effectiveness"] = effectiveness(row["won"], row["finished"])
        rows.append(row)
    return rows


@dataclass
class Forecast:
    """The months fitted (month, revenue, fitted) and projected (month, projected), with the line."""

    fitted: list[Row] = field(default_factory=list)
    projected: list[Row] = field(default_factory=list)
    slope: Decimal | None = None
    intercept: Decimal | None = None
    r_squared: Decimal | None = None

    @property
    def enough(self) -> bool:
        return bool(self.projected)


def least_squares(values: Sequence[Decimal]) -> tuple[Decimal, Decimal, Decimal | None]:
    """θ, β and R² of the line through (1, values[0]), (2, values[1]), …; R² is None when all are equal."""
    count = len(values)
    zero = Decimal(0)
    mean_x = Decimal(count + 1) / 2
    mean_y = sum(values, zero) / count
    spread_x = sum(((Decimal(x) - mean_x) ** 2 for x in range(1, count + 1)), zero)
    slope = (
        sum(((Decimal(x) - mean_x) * (y - mean_y) for x, y in enumerate(values, start=1)), zero) / spread_x
    )
    intercept = mean_y - slope * mean_x
    total = sum(((y - mean_y) ** 2 for y in values), zero)
    residual = sum(((y - (slope * x + intercept)) ** 2 for x, y in enumerate(values, start=1)), zero)
    r_squared = None if total == 0 else 1 - residual / total
    return slope, intercept, r_squared


def revenue_forecast(
    user: User, filters: ReportFilters, today: date, months: int = FORECAST_MONTHS
) -> Forecast:
    """The trend of monthly revenue over the last `months` complete months and the next three months
    on it (see the module's docstring); empty when fewer than three months have revenue to fit."""
    this_month = month_start(today)
    window = Period(add_months(this_month, -months), this_month - timedelta(days=1))
    by_month = {row["month"]: money(row["amount"]) for row in revenue(user, window, filters, ["month"])}
    series = [(month, by_month.get(month, Decimal("0.00"))) for month in window.months()]
    while series and not series[0][1]:
        series.pop(0)
    if len(series) < FORECAST_MIN_MONTHS:
        return Forecast(
            fitted=[{"month": month, "revenue": amount, "fitted": None} for month, amount in series]
        )
    slope, intercept, r_squared = least_squares([amount for _month, amount in series])
    forecast = Forecast(
        slope=money(slope),
        intercept=money(intercept),
        r_squared=None if r_squared is None else r_squared.quantize(Decimal("0.001")),
    )
    for x, (month, amount) in enumerate(series, start=1):
        forecast.fitted.append({"month": month, "revenue": amount, "fitted": money(slope * x + intercept)})
    for step in range(1, PROJECTED_MONTHS + 1):
        x = len(series) + step
        projected = max(Decimal(0), slope * x + intercept)
        forecast.projected.append({"month": add_months(this_month, step - 1), "projected": money(projected)})
    return forecast


def overdue_followups(user: User, now: datetime) -> int:
    """Open follow-ups the user sees that are past their due time."""
    return FollowUp.objects.visible_to(user).open().filter(due_at__lt=now).count()


def key_figures(
    user: User, period: Period, now: datetime | None = None, *, overdue: int | None = None
) -> dict[str, Row]:
    """The dashboard's figures for the period and the previous one, the orders' and the deals' each
    from one query for both periods (None for figures of the moment:
    the weighted pipeline, overdue follow-ups and balances due). `overdue`: the overdue follow-ups
    the user sees, when the caller has counted them already."""
    now = now or timezone.now()
    figures: dict[str, Row] = {}
    spans = {"now": period, "before": period.previous()}
    orders, closed = revenue_and_booked_in(user, spans), closed_deals_in(user, spans)
    for name in spans:
        deals = closed[name]
        figures[name] = {
            "revenue": money(orders[name]["revenue"]["amount"]),
            "booked": money(orders[name]["booked"]["amount"]),
            "won_amount": deals["won_amount"],
            "win_rate": deals["win_rate"],
            "average_deal": deals["average_deal"],
            "sales_cycle": deals["sales_cycle"],
        }
    figures["now"]["weighted_pipeline"] = open_pipeline_now(user)["weighted"]
    figures["now"]["overdue_followups"] = overdue_followups(user, now) if overdue is None else overdue
    figures["now"]["balances_due"] = money(balances_due(user)["amount"])
    return figures
