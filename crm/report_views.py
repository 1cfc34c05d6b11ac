"""The report pages: /reports/ lists them; each page is a list of tables built from the report
selectors for the period and filters the reader chose. `?table=<key>&format=csv|xlsx` downloads one
table, running only that table's queries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from accounts.names import display_name
from accounts.selectors import owner_choices, team_choices
from crm.db_router import reads_on_replica
from crm.report_forms import ReportForm
from crm.report_tables import CHANGE, COUNT, DATE, DAYS, MONEY, NUMBER, PERCENT, Chart, Column, ReportTable
from crm.reporting import DEFAULT_PRESET, Period, ReportFilters, Row, money, percent
from crm.reports import FORECAST_MONTHS, integration, revenue_forecast
from customers.reports import computations, new_customers, segment_moves, segments
from customers.segmentation import SEGMENT_RULES
from opportunities.reports import closed_deals, funnel, open_pipeline, time_in_stage
from orders.models import Status
from orders.reports import (
    CYCLE_TIME_LABELS,
    CYCLE_TIMES,
    WAITING_DAYS,
    booked,
    cycle_time,
    longest_waiting,
    order_values,
    orders_by_status,
    orders_waiting,
    revenue,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

    from crm.http import AuthenticatedRequest


@dataclass(frozen=True)
class ReportRequest:
    """What a table is built for: the reader, the period, the filters and the page's options."""

    user: User
    period: Period
    filters: ReportFilters
    today: date
    now: datetime
    months: int = FORECAST_MONTHS
    days: int = WAITING_DAYS


@dataclass(frozen=True)
class Page:
    key: str
    title: StrOrPromise
    icon: str
    summary: StrOrPromise
    fields: tuple[str, ...]
    tables: dict[str, Callable[[ReportRequest], ReportTable]]


def _months(period: Period, rows: list[Row]) -> list[Row]:
    """One row per month of the period, in order; a month without rows gets {}."""
    by_month = {row["month"]: row for row in rows}
    return [{**by_month.get(month, {}), "month_name": month.strftime("%Y-%m")} for month in period.months()]


def _side_by_side(key: str, **sources: list[Row]) -> list[Row]:
    """Rows of several selectors grouped by the same dimension `key`, one row per group, each source's
    measures prefixed with its name ("revenue_amount")."""
    merged: dict[object, Row] = {}
    for prefix, rows in sources.items():
        for row in rows:
            target = merged.setdefault(row[key], {key: row[key], f"{key}_name": row[f"{key}_name"]})
            target |= {
                f"{prefix}_{name}": value for name, value in row.items() if name not in (key, f"{key}_name")
            }
    return list(merged.values())


def _by_amount(rows: list[Row], key: str) -> list[Row]:
    return sorted(rows, key=lambda row: -(row.get(key) or 0))


TEAM_NOTE = gettext_lazy("A record counts for the team its owner belongs to now.")

# --- sales ------------------------------------------------------------------------------------

AMOUNT_COLUMNS = [
    Column("revenue_amount", gettext_lazy("Revenue"), MONEY),
    Column("revenue_orders", gettext_lazy("Orders finished"), COUNT),
    Column("booked_amount", gettext_lazy("Booked"), MONEY),
    Column("booked_orders", gettext_lazy("Orders confirmed"), COUNT),
]


def _sold_and_booked(r: ReportRequest, by: str) -> list[Row]:
    rows = _side_by_side(
        by,
        revenue=revenue(r.user, r.period, r.filters, [by]),
        booked=booked(r.user, r.period, r.filters, [by]),
    )
    for row in rows:
        for name in ("revenue_amount", "booked_amount"):
            row[name] = money(row.get(name))
    return rows


def sales_by_month(r: ReportRequest) -> ReportTable:
    rows = _months(r.period, _sold_and_booked(r, "month"))
    for row in rows:
        row.setdefault("revenue_amount", Decimal("0.00"))
        row.setdefault("booked_amount", Decimal("0.00"))
    return ReportTable(
        "by_month",
        _("Revenue and bookings by month"),
        [Column("month_name", _("Month")), *AMOUNT_COLUMNS],
        rows,
        Chart("bar", "month_name", ("revenue_amount", "booked_amount")),
        note=_("Revenue: net total of the orders finished in the month. Booked: of those confirmed in it."),
    )


def sales_table(key: str, title: StrOrPromise, label: StrOrPromise) -> Callable[[ReportRequest], ReportTable]:
    """Revenue and bookings per group of one dimension (owner, team, office), the largest first."""

    def build(r: ReportRequest) -> ReportTable:
        return ReportTable(
            f"by_{key}",
            title,
            [Column(f"{key}_name", label), *AMOUNT_COLUMNS],
            _by_amount(_sold_and_booked(r, key), "revenue_amount"),
            Chart("bar", f"{key}_name", ("revenue_amount", "booked_amount"), horizontal=True, top=15),
            note=TEAM_NOTE if key in ("team", "office") else "",
        )

    return build


def revenue_table(
    key: str, title: StrOrPromise, label: StrOrPromise, note: StrOrPromise = ""
) -> Callable[[ReportRequest], ReportTable]:
    """Revenue and orders finished per group of one dimension, the largest first."""

    def build(r: ReportRequest) -> ReportTable:
        rows = revenue(r.user, r.period, r.filters, [key])
        for row in rows:
            row["amount"] = money(row["amount"])
        return ReportTable(
            f"by_{key}",
            title,
            [
                Column(f"{key}_name", label),
                Column("amount", _("Revenue"), MONEY),
                Column("orders", _("Orders"), COUNT),
            ],
            _by_amount(rows, "amount"),
            Chart("bar", f"{key}_name", ("amount",), horizontal=True, top=15),
            note=note,
            wide=False,
        )

    return build


def sales_by_status(r: ReportRequest) -> ReportTable:
    counted = {row["status"]: row for row in orders_by_status(r.user, r.period, r.filters)}
    rows = [
        {
            "status_name": label,
            "orders": counted.get(status, {}).get("orders", 0),
            "amount": money(counted.get(status, {}).get("amount")),
        }
        for status, label in Status.choices
    ]
    return ReportTable(
        "by_status",
        _("Orders created in the period by status"),
        [
            Column("status_name", _("Status")),
            Column("orders", _("Orders"), COUNT),
            Column("amount", _("Net total"), MONEY),
        ],
        rows,
        Chart("bar", "status_name", ("orders",)),
        wide=False,
    )


def sales_order_values(r: ReportRequest) -> ReportTable:
    values = order_values(r.user, r.period, r.filters)[0]
    statistics = [
        (_("Orders finished"), values["orders"], COUNT),
        (_("Mean"), values["mean"], MONEY),
        (_("Median"), values["median"], MONEY),
        (_("Sample variance Σ(y−ȳ)²/(n−1)"), values["variance"], MONEY),
        (_("Standard deviation"), values["std_dev"], MONEY),
        (_("Smallest"), values["smallest"], MONEY),
        (_("Largest"), values["largest"], MONEY),
    ]
    rows = [
        {
            "statistic": label,
            "value": value if value is None or kind == COUNT else money(value),
            "value_kind": kind,
        }
        for label, value, kind in statistics
    ]
    return ReportTable(
        "order_values",
        _("Spread of order values"),
        [Column("statistic", _("Statistic")), Column("value", _("Value"), NUMBER)],
        rows,
        note=_("Net totals of the orders finished in the period; the variance is in the currency squared."),
        wide=False,
    )


# --- pipeline ---------------------------------------------------------------------------------

DEAL_COLUMNS = [
    Column("won", pgettext_lazy("deals", "Won"), COUNT),
    Column("lost", pgettext_lazy("deals", "Lost"), COUNT),
    Column("win_rate", gettext_lazy("Win rate"), PERCENT),
    Column("won_amount", gettext_lazy("Won value"), MONEY),
    Column("average_deal", gettext_lazy("Average deal size"), MONEY),
    Column("sales_cycle", gettext_lazy("Average sales cycle (days)"), DAYS),
]


def pipeline_by_stage(r: ReportRequest) -> ReportTable:
    return ReportTable(
        "by_stage",
        _("Open pipeline by stage (now)"),
        [
            Column("stage_name", _("Stage")),
            Column("deals", _("Open deals"), COUNT),
            Column("amount", _("Amount"), MONEY),
            Column("weighted", _("Weighted amount"), MONEY),
        ],
        open_pipeline(r.user, r.filters, ["stage"]),
        Chart("bar", "stage_name", ("amount", "weighted")),
        note=_("Weighted amount = amount × win probability."),
        wide=False,
    )


def pipeline_funnel(r: ReportRequest) -> ReportTable:
    stages, rows = funnel(r.user, r.period, r.filters)
    counts = rows[0]
    created = counts["created"]
    table_rows = [
        {"stage_name": _("Created in the period"), "deals": created, "share": percent(created, created)}
    ]
    for stage in stages:
        reached = counts[f"reached_{stage.pk}"]
        table_rows.append({"stage_name": stage.name, "deals": reached, "share": percent(reached, created)})
    return ReportTable(
        "funnel",
        _("Funnel of the deals created in the period"),
        [
            Column("stage_name", _("Stage")),
            Column("deals", _("Deals that reached it"), COUNT),
            Column("share", _("Of those created"), PERCENT),
        ],
        table_rows,
        Chart("funnel", "stage_name", ("deals",)),
        note=_("A deal counts at a stage when its stage changes took it there or to a later stage."),
        wide=False,
    )


def deals_table(
    key: str, title: StrOrPromise, label: StrOrPromise = "", note: StrOrPromise = ""
) -> Callable[[ReportRequest], ReportTable]:
    """Deals won and lost, win rate, and (but by product) value, deal size and cycle, per group of one
    dimension (all deals together when `key` is empty)."""

    def build(r: ReportRequest) -> ReportTable:
        rows = closed_deals(r.user, r.period, r.filters, [key] if key else [])
        columns = DEAL_COLUMNS if key != "product" else DEAL_COLUMNS[:3]
        if key:
            columns = [Column(f"{key}_name", label), *columns]
            rows = _by_amount(rows, "won")
        chart = Chart("bar", f"{key}_name", ("win_rate",), horizontal=True, top=15) if key else None
        return ReportTable(
            f"deals_by_{key}" if key else "deals",
            title,
            columns,
            rows,
            chart,
            note=note,
            wide=key != "product",
        )

    return build


def pipeline_time_in_stage(r: ReportRequest) -> ReportTable:
    return ReportTable(
        "time_in_stage",
        _("Time in stage"),
        [
            Column("stage_name", _("Stage")),
            Column("stays", _("Stays ended in the period"), COUNT),
            Column("mean", _("Mean (days)"), DAYS),
            Column("median", _("Median (days)"), DAYS),
        ],
        time_in_stage(r.user, r.period, r.filters),
        Chart("bar", "stage_name", ("mean", "median")),
        note=_("From the stage change that entered the stage to the one that left it."),
        wide=False,
    )


def pipeline_forecast(r: ReportRequest) -> ReportTable:
    rows = open_pipeline(r.user, r.filters, ["month"])
    this_month = r.today.replace(day=1)
    for row in rows:
        if row["month"] < this_month:
            row["month_name"] = _("%(month)s (overdue)") % {"month": row["month_name"]}
    return ReportTable(
        "close_months",
        _("Pipeline forecast: open deals by expected close month"),
        [
            Column("month_name", _("Expected close month")),
            Column("deals", _("Open deals"), COUNT),
            Column("amount", _("Amount"), MONEY),
            Column("weighted", _("Weighted amount (forecast)"), MONEY),
        ],
        rows,
        Chart("bar", "month_name", ("amount", "weighted")),
        note=_("The forecast of a month is Σ amount × win probability of the deals expected to close in it."),
    )


def trend_forecast(r: ReportRequest) -> ReportTable:
    forecast = revenue_forecast(r.user, r.filters, r.today, r.months)
    rows = [
        {"month_name": row["month"].strftime("%Y-%m"), "revenue": row["revenue"], "fitted": row["fitted"]}
        for row in forecast.fitted
    ]
    rows += [
        {"month_name": row["month"].strftime("%Y-%m"), "projected": row["projected"]}
        for row in forecast.projected
    ]
    if forecast.enough:
        note = _(
            "Least-squares line y = θ·x + β through the monthly revenue (x = 1 for the first month): "
            "θ = %(slope)s a month, β = %(intercept)s, R² = %(r_squared)s (1 is a perfect fit)."
        ) % {
            "slope": f"{forecast.slope:,.2f}",
            "intercept": f"{forecast.intercept:,.2f}",
            "r_squared": "—" if forecast.r_squared is None else forecast.r_squared,
        }
    else:
        note = _("Fewer than three months with revenue: nothing is projected.")
    return ReportTable(
        "trend",
        _("Revenue trend and the next three months"),
        [
            Column("month_name", _("Month")),
            Column("revenue", _("Revenue"), MONEY),
            Column("fitted", _("Trend"), MONEY),
            Column("projected", _("Projected"), MONEY),
        ],
        rows,
        Chart("line", "month_name", ("revenue", "fitted", "projected")),
        note=note,
    )


# --- orders -----------------------------------------------------------------------------------

CYCLE_COLUMNS = [
    Column("measure_name", gettext_lazy("Cycle time")),
    Column("span", gettext_lazy("From → to")),
    Column("orders", gettext_lazy("Orders"), COUNT),
    Column("mean", gettext_lazy("Mean (days)"), DAYS),
    Column("median", gettext_lazy("Median (days)"), DAYS),
    Column("p90", gettext_lazy("90th percentile (days)"), DAYS),
]
CYCLE_STATISTICS = {
    "mean": gettext_lazy("mean"),
    "median": gettext_lazy("median"),
    "p90": gettext_lazy("p90"),
}


def cycle_times(r: ReportRequest) -> ReportTable:
    rows = [
        {
            **cycle_time(r.user, r.period, r.filters, measure)[0],
            "measure_name": f"T_{measure}",
            "span": CYCLE_TIME_LABELS[measure],
        }
        for measure in CYCLE_TIMES
    ]
    return ReportTable(
        "cycle_times",
        _("Order cycle times"),
        CYCLE_COLUMNS,
        rows,
        Chart("bar", "measure_name", ("mean", "median", "p90")),
        note=_(
            "T_confirm = confirmed_at − created_at, T_process = processing_at − confirmed_at, "
            "T_finish = finished_at − processing_at, for the orders whose later step falls in the period."
        ),
    )


CYCLE_NOTE = gettext_lazy("Days. The chart shows the medians.")


def cycle_table(
    key: str, title: StrOrPromise, label: StrOrPromise, note: StrOrPromise = CYCLE_NOTE, chart: bool = True
) -> Callable[[ReportRequest], ReportTable]:
    """Cycle times per group: for each of T_confirm, T_process and T_finish its mean, median and p90."""

    def build(r: ReportRequest) -> ReportTable:
        rows = _side_by_side(
            key,
            **{measure: cycle_time(r.user, r.period, r.filters, measure, [key]) for measure in CYCLE_TIMES},
        )
        if key == "month":
            rows = _months(r.period, rows)
        else:
            rows.sort(key=lambda row: (row[key] is None, row[f"{key}_name"]))
        columns = [Column(f"{key}_name", label)]
        for measure in CYCLE_TIMES:
            columns += [
                Column(f"{measure}_{name}", f"T_{measure} {statistic}", DAYS)
                for name, statistic in CYCLE_STATISTICS.items()
            ]
        medians = tuple(f"{measure}_median" for measure in CYCLE_TIMES)
        return ReportTable(
            f"cycle_by_{key}",
            title,
            columns,
            rows,
            Chart("line" if key == "month" else "bar", f"{key}_name", medians) if chart else None,
            note=note,
        )

    return build


def waiting_by_status(r: ReportRequest) -> ReportTable:
    counted = {row["status"]: row for row in orders_waiting(r.user, r.filters, r.days, r.now)}
    rows = []
    for status in (Status.CREATED, Status.CONFIRMED, Status.PROCESSING):
        row = counted.get(status, {})
        rows.append(
            {
                "status_name": status.label,
                "orders": row.get("orders", 0),
                "amount": money(row.get("amount")),
                "oldest": row.get("oldest"),
            }
        )
    return ReportTable(
        "waiting",
        _("Orders in their status longer than %(days)s days") % {"days": r.days},
        [
            Column("status_name", _("Status")),
            Column("orders", _("Orders"), COUNT),
            Column("amount", _("Net total"), MONEY),
            Column("oldest", _("Waiting since"), DATE),
        ],
        rows,
        Chart("bar", "status_name", ("orders",)),
        wide=False,
    )


def longest_waiting_orders(r: ReportRequest) -> ReportTable:
    rows = [
        {
            "number": order.number,
            "url": order.get_absolute_url(),
            "customer": order.customer.name,
            "owner": display_name(order.owner),
            "status_name": order.get_status_display(),
            "since": order.since,
            "days": (r.now - order.since).total_seconds() / 86400,
        }
        for order in longest_waiting(r.user, r.filters, r.days, r.now)
    ]
    return ReportTable(
        "longest_waiting",
        _("The orders waiting longest"),
        [
            Column("number", _("Order")),
            Column("customer", _("Customer")),
            Column("owner", _("Owner")),
            Column("status_name", _("Status")),
            Column("since", _("In this status since"), DATE),
            Column("days", _("Days"), DAYS),
        ],
        rows,
        links={"number": "url"},
    )


# --- customers --------------------------------------------------------------------------------


def customer_segments(r: ReportRequest) -> ReportTable:
    latest, previous = computations()
    rows = segments(r.user, r.filters, latest, previous) if latest else []
    for row in rows:
        row["change"] = None if row["previous"] is None else row["customers"] - row["previous"]
    if latest:
        note = _("Computed on %(latest)s; the previous computation: %(previous)s.") % {
            "latest": latest.isoformat(),
            "previous": previous.isoformat() if previous else "—",
        }
    else:
        note = _("No scores yet: they are computed every night by manage.py compute_rfm.")
    return ReportTable(
        "segments",
        _("RFM segments"),
        [
            Column("segment_name", _("Segment")),
            Column("customers", _("Customers"), COUNT),
            Column("customer_share", _("Share of customers"), PERCENT),
            Column("monetary", _("Net revenue, last 365 days"), MONEY),
            Column("monetary_share", _("Share of revenue"), PERCENT),
            Column("previous", _("At the previous computation"), COUNT),
            Column("change", pgettext("difference", "Change"), CHANGE),
        ],
        rows,
        Chart("bar", "segment_name", ("customers",), lines=()),
        note=note,
    )


def customer_moves(r: ReportRequest) -> ReportTable:
    latest, previous = computations()
    rows = segment_moves(r.user, r.filters, latest, previous) if latest and previous else []
    moved = [row for row in rows if row["from_segment"] != row["segment"]]
    for row in moved:
        row["from_name"] = row["from_name"] or _("Not scored before")
    return ReportTable(
        "moves",
        _("Movement since the previous computation"),
        [
            Column("from_name", _("From")),
            Column("segment_name", _("To")),
            Column("customers", _("Customers"), COUNT),
        ],
        _by_amount(moved, "customers"),
        note=_("Customers whose segment changed; those that stayed are not listed."),
        wide=False,
    )


def segment_rules(r: ReportRequest) -> ReportTable:
    return ReportTable(
        "segment_rules",
        _("How scores map to segments"),
        [Column("segment_name", _("Segment")), Column("rule", _("Scores (the first rule that matches)"))],
        [{"segment_name": rule.segment.label, "rule": rule.condition} for rule in SEGMENT_RULES],
        note=_(
            "Recency: days since the last finished order; frequency: finished orders in the last 365 days; "
            "monetary: their net total. Each is scored 1–5 by quintile among all customers with finished "
            "orders; equal values share a score."
        ),
        wide=False,
    )


def customers_by_month(r: ReportRequest) -> ReportTable:
    rows = _months(r.period, new_customers(r.user, r.period, r.filters, ["month"]))
    for row in rows:
        row.setdefault("customers", 0)
    return ReportTable(
        "new_customers",
        _("New customers by month"),
        [Column("month_name", _("Month")), Column("customers", _("New customers"), COUNT)],
        rows,
        Chart("bar", "month_name", ("customers",)),
        wide=False,
    )


# --- integration ------------------------------------------------------------------------------

INTEGRATION_COLUMNS = [
    Column("won", gettext_lazy("S: opportunities won"), COUNT),
    Column("finished", gettext_lazy("O: orders finished"), COUNT),
    Column("effectiveness", gettext_lazy("E = S·O/(S+O)"), NUMBER),
]


def integration_overall(r: ReportRequest) -> ReportTable:
    return ReportTable(
        "integration",
        _("Integration in the period"),
        INTEGRATION_COLUMNS,
        integration(r.user, r.period, r.filters),
    )


def integration_table(
    key: str, title: StrOrPromise, label: StrOrPromise
) -> Callable[[ReportRequest], ReportTable]:
    """S, O and E per group of one dimension: every month of the period, or the owners by E."""

    def build(r: ReportRequest) -> ReportTable:
        rows = integration(r.user, r.period, r.filters, [key])
        if key != "month":
            rows = _by_amount(rows, "effectiveness")
        chart = Chart(
            "bar",
            f"{key}_name",
            ("won", "finished", "effectiveness"),
            lines=("effectiveness",),
            top=None if key == "month" else 15,
        )
        columns = [Column(f"{key}_name", label), *INTEGRATION_COLUMNS]
        return ReportTable(f"integration_by_{key}", title, columns, rows, chart)

    return build


# --- the pages --------------------------------------------------------------------------------

ORDER_FILTERS = ("owner", "team", "product", "region", "tag", "currency")
PAGES = {
    "sales": Page(
        "sales",
        gettext_lazy("Sales"),
        "graph-up",
        gettext_lazy(
            "Revenue and bookings by month, owner, team, office, product, region, industry and tag; "
            "orders by status; "
            "the spread of order values."
        ),
        ORDER_FILTERS,
        {
            "by_month": sales_by_month,
            "by_owner": sales_table("owner", gettext_lazy("By owner"), gettext_lazy("Owner")),
            "by_team": sales_table("team", gettext_lazy("By team"), gettext_lazy("Team")),
            "by_office": sales_table("office", gettext_lazy("By office"), gettext_lazy("Office")),
            "by_product": revenue_table(
                "product",
                gettext_lazy("Revenue by product"),
                gettext_lazy("Product"),
                gettext_lazy(
                    "A line counts for its part of the order's total less the goods returned from it; "
                    "credits of a free amount lower only the order figures."
                ),
            ),
            "by_region": revenue_table("region", gettext_lazy("Revenue by region"), gettext_lazy("Region")),
            "by_industry": revenue_table(
                "industry", gettext_lazy("Revenue by industry"), gettext_lazy("Industry")
            ),
            "by_tag": revenue_table(
                "tag",
                gettext_lazy("Revenue by tag"),
                gettext_lazy("Tag"),
                gettext_lazy(
                    "A customer with several tags counts under each, so the tags add up to more than the "
                    "revenue."
                ),
            ),
            "by_status": sales_by_status,
            "order_values": sales_order_values,
        },
    ),
    "pipeline": Page(
        "pipeline",
        gettext_lazy("Pipeline"),
        "funnel",
        gettext_lazy(
            "The open pipeline, the funnel, win rates, deal size and sales cycle, time in stage and "
            "the forecasts."
        ),
        (*ORDER_FILTERS, "months"),
        {
            "deals": deals_table(
                "",
                gettext_lazy("Deals won and lost in the period"),
                note=gettext_lazy(
                    "Win rate = won / (won + lost), one decimal. Average sales cycle: days from creation to "
                    "won. A reopened deal counts by its latest outcome."
                ),
            ),
            "by_stage": pipeline_by_stage,
            "funnel": pipeline_funnel,
            "deals_by_owner": deals_table("owner", gettext_lazy("Win rate by owner"), gettext_lazy("Owner")),
            "deals_by_team": deals_table(
                "team", gettext_lazy("Win rate by team"), gettext_lazy("Team"), TEAM_NOTE
            ),
            "deals_by_source": deals_table(
                "source", gettext_lazy("Win rate by source"), gettext_lazy("Source")
            ),
            "deals_by_product": deals_table(
                "product",
                gettext_lazy("Win rate by product"),
                gettext_lazy("Product"),
                gettext_lazy("A deal counts for every product among its lines."),
            ),
            "time_in_stage": pipeline_time_in_stage,
            "close_months": pipeline_forecast,
            "trend": trend_forecast,
        },
    ),
    "orders": Page(
        "orders",
        gettext_lazy("Orders"),
        "receipt",
        gettext_lazy(
            "Cycle times from creation to finish by month, owner, team and product; orders waiting too long."
        ),
        (*ORDER_FILTERS, "days"),
        {
            "cycle_times": cycle_times,
            "cycle_by_month": cycle_table(
                "month", gettext_lazy("Cycle times by month"), gettext_lazy("Month")
            ),
            "cycle_by_owner": cycle_table(
                "owner", gettext_lazy("Cycle times by owner"), gettext_lazy("Owner")
            ),
            "cycle_by_team": cycle_table("team", gettext_lazy("Cycle times by team"), gettext_lazy("Team")),
            "cycle_by_product": cycle_table(
                "product",
                gettext_lazy("Cycle times by product"),
                gettext_lazy("Product"),
                gettext_lazy("Days. An order counts for every product among its lines."),
                chart=False,
            ),
            "waiting": waiting_by_status,
            "longest_waiting": longest_waiting_orders,
        },
    ),
    "customers": Page(
        "customers",
        gettext_lazy("Customers"),
        "people",
        gettext_lazy(
            "RFM segments and how customers move between them; new customers per month; needs analysis."
        ),
        ("owner", "team", "region", "tag"),
        {
            "segments": customer_segments,
            "moves": customer_moves,
            "segment_rules": segment_rules,
            "new_customers": customers_by_month,
        },
    ),
    "integration": Page(
        "integration",
        gettext_lazy("Sales–order integration"),
        "arrow-left-right",
        gettext_lazy("E = S·O/(S+O): opportunities won against orders finished, by month, owner and team."),
        ORDER_FILTERS,
        {
            "integration": integration_overall,
            "by_month": integration_table("month", gettext_lazy("By month"), gettext_lazy("Month")),
            "by_owner": integration_table("owner", gettext_lazy("By owner"), gettext_lazy("Owner")),
            "by_team": integration_table("team", gettext_lazy("By team"), gettext_lazy("Team")),
        },
    ),
}


def report_form(
    request: AuthenticatedRequest, fields: Sequence[str], default_preset: str = DEFAULT_PRESET
) -> ReportForm:
    return ReportForm(
        request.GET,
        today=timezone.localdate(),
        fields=fields,
        owners=owner_choices(request.user),
        teams=team_choices(request.user),
        default_preset=default_preset,
    )


def report_request(request: AuthenticatedRequest, form: ReportForm) -> ReportRequest:
    options = form.chosen_options()
    return ReportRequest(
        user=request.user,
        period=form.chosen_period(),
        filters=form.chosen_filters(),
        today=form.today,
        now=timezone.now(),
        **options,
    )


def index(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"pages": PAGES.values()})


@reads_on_replica
def report(request: AuthenticatedRequest, key: str) -> HttpResponse | StreamingHttpResponse:
    page = PAGES[key]
    form = report_form(request, page.fields)
    chosen = report_request(request, form)
    export_format = request.GET.get("format")
    if export_format in ("csv", "xlsx"):
        build = page.tables.get(request.GET.get("table", ""))
        if build is None:
            raise Http404
        table = build(chosen)
        filename = f"{page.key}-{table.key}-{chosen.period.start:%Y%m%d}-{chosen.period.end:%Y%m%d}"
        return table.export(export_format, filename)
    tables = [build(chosen) for build in page.tables.values()]
    return render(
        request,
        f"reports/{page.key}.html",
        {"page": page, "form": form, "chosen": chosen, "tables": tables, "period": chosen.period},
    )
