"""Sales and order figures: revenue, bookings, orders by status, the spread of order values, cycle
times and the orders waiting too long in a status. Each is a selector as crm/reporting.py describes:
visibility first, the report filters, one aggregate query grouped by the dimensions asked for.

- Revenue is the net total of the orders *finished* in the period; booked is the net total of the
  orders *confirmed* in the period (a booking counts when it is made, even if the order is closed
  later). `orders.models.net_total` (total − credit notes) is the one definition of what an order is
  worth to every figure.
- Revenue and bookings by month, owner, team or office, unless a product or the customer's region or
  tags narrow them, add up the summary rows of the days (summaries.models.OrderDay), which the services
  keep equal to the orders' figures: a manager's year at a million customers reads some thousands of
  rows, not a million orders.
- By product, a line is worth its part of the order's total (line total × total / subtotal, so the
  order's discount and tax apply) less what credit notes credited for goods returned from that line.
  A credit note line for a free amount (no order line) says nothing about products: it lowers the
  order-level figures only, so the products add up to the revenue plus those free-amount credits.
- Cycle times: T_confirm = confirmed_at − created_at, T_process = processing_at − confirmed_at,
  T_finish = finished_at − processing_at, for the orders whose later stamp falls in the period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.auth.models import User
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    Expression,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext_lazy as _

from crm.reporting import (
    DEFAULT_CURRENCY,
    Dimension,
    Fact,
    Percentile,
    Period,
    ReportFilters,
    Row,
    Square,
    days_between,
    grouped,
    sample_variance,
    spanning,
)
from orders.models import ZERO, CreditNoteLine, Order, OrderLine, Status, net_total
from orders.selectors import STATUS_SINCE
from summaries.models import BalanceDue, OrderDay

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

SHARE = DecimalField(max_digits=30, decimal_places=10)


STATUS = Dimension("status", _("Status"), F("status"), choices=Status)
ORDERS = Fact(Order.objects, product="lines__product", currency="currency", extra={"status": STATUS})
# The days' summary rows, kept per order owner and currency: they answer revenue and bookings without
# reading the orders when nothing asks for what they do not keep (a product, the customer's region or tags).
ORDER_DAYS = Fact(OrderDay.objects, currency="currency")
SUMMARIZED_DIMENSIONS = frozenset({"month", "owner", "team", "office"})
SUMMARY_KINDS = {"finished_at": OrderDay.Kind.REVENUE, "confirmed_at": OrderDay.Kind.BOOKED}
LINES = Fact(
    OrderLine.objects,
    owner="order__owner",
    customer="order__customer",
    product="product",
    currency="order__currency",
)


def line_share() -> Expression:
    """What a line is worth to its product's revenue: its part of the order's total (line total ×
    total / subtotal) less the credit notes' amounts for goods returned from it."""
    returned = (
        CreditNoteLine.objects.filter(order_line=OuterRef("pk"))
        .order_by()
        .values("order_line")
        .annotate(amount=Sum("amount"))
        .values("amount")
    )
    return ExpressionWrapper(
        F("line_total") * F("order__total") / NullIf(F("order__subtotal"), 0)
        - Coalesce(Subquery(returned), Value(ZERO)),
        output_field=SHARE,
    )


def _order_totals(
    user: User, period: Period, filters: ReportFilters, by: Sequence[str], stamp: str
) -> list[Row]:
    if "product" in by:
        lines = LINES.rows(user, filters).filter(period.contains(f"order__{stamp}"))
        measures = {"amount": Sum(line_share()), "orders": Count("order", distinct=True)}
        return grouped(lines, LINES.dimensions(by, f"order__{stamp}"), measures)
    if _summarized(filters, by):
        days = ORDER_DAYS.rows(user, filters).filter(period.contains_day("day"), kind=SUMMARY_KINDS[stamp])
        measures = {"amount": Sum("amount"), "orders": Sum("orders", default=0)}
        return grouped(days, ORDER_DAYS.dimensions(by, "day"), measures)
    orders = ORDERS.rows(user, filters).filter(period.contains(stamp))
    return grouped(orders, ORDERS.dimensions(by, stamp), {"amount": Sum(net_total()), "orders": Count("pk")})


def _summarized(filters: ReportFilters, by: Sequence[str]) -> bool:
    return not (filters.product or filters.region or filters.tag) and SUMMARIZED_DIMENSIONS.issuperset(by)


def revenue(user: User, period: Period, filters: ReportFilters, by: Sequence[str] = ()) -> list[Row]:
    """Net total (`amount`) and number of the orders finished in the period, per group."""
    return _order_totals(user, period, filters, by, "finished_at")


def booked(user: User, period: Period, filters: ReportFilters, by: Sequence[str] = ()) -> list[Row]:
    """Net total (`amount`) and number of the orders confirmed in the period, per group."""
    return _order_totals(user, period, filters, by, "confirmed_at")


def revenue_and_booked_in(
    user: User, periods: Mapping[str, Period], currency: str = DEFAULT_CURRENCY
) -> dict[str, dict[str, Row]]:
    """revenue() and booked() (no grouping, no filter but the currency) of each of the named `periods`,
    from the summary rows of the days (one query, whatever the number of orders):
    {period name: {"revenue": row, "booked": row}}."""
    kinds = {"revenue": OrderDay.Kind.REVENUE, "booked": OrderDay.Kind.BOOKED}
    measures: dict[str, Expression] = {}
    for name, period in periods.items():
        inside = period.contains_day("day")
        for figure, kind in kinds.items():
            counted = inside & Q(kind=kind)
            measures |= {
                f"{name}_{figure}_amount": Sum("amount", filter=counted),
                f"{name}_{figure}_orders": Coalesce(Sum("orders", filter=counted), 0),
            }
    days = OrderDay.objects.visible_to(user).filter(spanning(periods.values()), currency=currency)
    row = days.aggregate(**measures)
    return {
        name: {
            figure: {"amount": row[f"{name}_{figure}_amount"], "orders": row[f"{name}_{figure}_orders"]}
            for figure in kinds
        }
        for name in periods
    }


def orders_by_status(user: User, period: Period, filters: ReportFilters, by: Sequence[str] = ()) -> list[Row]:
    """The orders created in the period by their status now: how many and their net total."""
    orders = ORDERS.rows(user, filters).filter(period.contains("created_at"))
    measures = {"orders": Count("pk"), "amount": Sum(net_total())}
    return grouped(orders, ORDERS.dimensions(["status", *by], "created_at"), measures)


def order_values(user: User, period: Period, filters: ReportFilters, by: Sequence[str] = ()) -> list[Row]:
    """The spread of the net totals of the orders finished in the period: count, mean, median, sample
    variance Σ(y − ȳ)² / (n − 1) and standard deviation (None for fewer than two orders), smallest and
    largest."""
    orders = ORDERS.rows(user, filters).filter(period.contains("finished_at"))
    value = net_total()
    measures = {
        "orders": Count("pk"),
        "mean": Avg(value),
        "sum": Sum(value),
        "squares": Sum(Square(value, output_field=SHARE)),
        "smallest": Min(value),
        "largest": Max(value),
    }
    rows = grouped(orders, ORDERS.dimensions(by, "finished_at"), measures, median=Percentile(value, "0.5"))
    for row in rows:
        row["variance"] = sample_variance(row["orders"], row.pop("sum"), row.pop("squares"))
        row["std_dev"] = None if row["variance"] is None else row["variance"].sqrt()
    return rows


# Each cycle time: the stamp it ends with and the stamp it starts from.
CYCLE_TIMES = {
    "confirm": ("confirmed_at", "created_at"),
    "process": ("processing_at", "confirmed_at"),
    "finish": ("finished_at", "processing_at"),
}
CYCLE_TIME_LABELS = {
    "confirm": _("created → confirmed"),
    "process": _("confirmed → processing"),
    "finish": _("processing → finished"),
}


def cycle_time(
    user: User, period: Period, filters: ReportFilters, measure: str, by: Sequence[str] = ()
) -> list[Row]:
    """One cycle time (a key of CYCLE_TIMES) in days, for the orders whose end stamp falls in the
    period: how many, mean, median and 90th percentile. By product, an order counts for each product
    it contains."""
    end, start = CYCLE_TIMES[measure]
    orders = ORDERS.rows(user, filters).filter(period.contains(end), **{f"{start}__isnull": False})
    span = days_between(F(end), F(start))
    return grouped(
        orders,
        ORDERS.dimensions(by, end),
        {"orders": Count("pk", distinct=True), "mean": Avg(span)},
        median=Percentile(span, "0.5"),
        p90=Percentile(span, "0.9"),
    )


WAITING_DAYS = 7


def _in_status_since() -> Case:
    return Case(*(When(status=status, then=F(stamp)) for status, stamp in STATUS_SINCE.items()))


def _waiting(cutoff: datetime) -> Q:
    waiting = Q()
    for status, stamp in STATUS_SINCE.items():
        waiting |= Q(status=status, **{f"{stamp}__lt": cutoff})
    return waiting


def orders_waiting(
    user: User, filters: ReportFilters, days: int, now: datetime, by: Sequence[str] = ()
) -> list[Row]:
    """Open orders in their status for longer than `days` days: how many per status, their net total
    and since when the longest has waited."""
    orders = ORDERS.rows(user, filters).filter(_waiting(now - timedelta(days=days)))
    measures = {"orders": Count("pk"), "amount": Sum(net_total()), "oldest": Min(_in_status_since())}
    return grouped(orders, ORDERS.dimensions(["status", *by]), measures)


class InStatusSince(TypedDict):
    since: datetime


def longest_waiting(
    user: User, filters: ReportFilters, days: int, now: datetime, limit: int = 20
) -> list[WithAnnotations[Order, InStatusSince]]:
    """The open orders that have waited longest in their status, beyond `days` days (with `since`)."""
    orders = ORDERS.rows(user, filters).filter(_waiting(now - timedelta(days=days)))
    return list(
        orders.annotate(since=_in_status_since())
        .select_related("customer", "owner")
        .order_by("since", "id")[:limit]
    )


def balances_due(user: User, currency: str = DEFAULT_CURRENCY) -> dict[str, Any]:
    """Money still to collect now (orders.selectors.balance_due), and how many orders owe it, in one
    currency: from the summary rows of the owners the user sees."""
    return (
        BalanceDue.objects.visible_to(user)
        .filter(currency=currency)
        .aggregate(orders=Coalesce(Sum("orders"), 0), amount=Sum("amount"))
    )
