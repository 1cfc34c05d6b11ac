"""Pipeline figures: the open pipeline by stage, the funnel, win rates, deal size, sales cycle, time
in stage and the open amount by expected close month. Selectors as crm/reporting.py describes.

- A deal is won (lost) in the period when its won_at (lost_at) falls in it; a reopened deal counts by
  its latest outcome only (reopening clears won_at and lost_at), so it is never counted twice.
- Win rate = won / (won + lost), in percent with one decimal. By product, a deal counts for every
  product among its lines.
- Weighted amount = amount × win probability / 100.
- Funnel: of the deals created in the period, how many reached each stage; a deal reached a stage when
  its stage events took it into that stage or a later one (or to won).
- Time in stage: each stay that ended in the period, from the event that entered the stage to the
  event that left it.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DecimalField,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm.reporting import (
    Dimension,
    Fact,
    Percentile,
    Period,
    ReportFilters,
    Row,
    days_between,
    grouped,
    money,
    percent,
    spanning,
)
from customers.models import Customer
from opportunities.models import Opportunity, OpportunityEvent, Stage
from summaries.models import DealDay, OpenPipeline

PERCENT_OF_AMOUNT = DecimalField(max_digits=20, decimal_places=2)


def stage_name(name_en: str, name_zh_hans: str) -> str:
    return name_zh_hans if (get_language() or "").startswith("zh") else name_en


def stage_dimension(path: str) -> Dimension:
    return Dimension(
        "stage",
        _("Stage"),
        F(path),
        (f"{path}__name_en", f"{path}__name_zh_hans"),
        namer=stage_name,
        sort_path=f"{path}__position",
    )


SOURCE = Dimension("source", _("Source"), F("source"), choices=Customer.Source, empty=_("No source"))
OPPORTUNITIES = Fact(
    Opportunity.objects, product="lines__product", extra={"stage": stage_dimension("stage"), "source": SOURCE}
)
# A stage event ends the stay in its from_stage.
STAYS = Fact(
    OpportunityEvent.objects,
    owner="opportunity__owner",
    customer="opportunity__customer",
    product="opportunity__lines__product",
    extra={"stage": stage_dimension("from_stage")},
)


def weighted(row: Row) -> Decimal:
    """Σ amount × probability, summed as percent-amounts by the query, in money."""
    return money((row.pop("percent_amount") or 0) / Decimal(100))


def open_pipeline(user: User, filters: ReportFilters, by: Sequence[str] = ()) -> list[Row]:
    """The open deals now, per group: how many, their amount and weighted amount. By "month" they are
    grouped by the month they are expected to close, so the weighted amounts are the pipeline forecast."""
    deals = OPPORTUNITIES.rows(user, filters).open()
    measures = {
        "deals": Count("*"),  # not the pk: the sums then read opportunity_pipeline_idx alone
        "amount": Sum("amount"),
        "percent_amount": Sum(F("amount") * F("probability"), output_field=PERCENT_OF_AMOUNT),
    }
    rows = grouped(deals, OPPORTUNITIES.dimensions(by, "expected_close_date"), measures)
    for row in rows:
        row["amount"] = money(row["amount"])
        row["weighted"] = weighted(row)
    return rows


def funnel(
    user: User, period: Period, filters: ReportFilters, by: Sequence[str] = ()
) -> tuple[list[Stage], list[Row]]:
    """Of the deals created in the period, how many reached each open stage and won, per group.

    Returns the stages (open ones in pipeline order, then the won stage) and rows with `created` and
    `reached_<stage id>` counts. The query counts the deals by the furthest stage each entered (one
    look at its events per deal); adding those counts up per stage is left to Python.
    """
    stages = list(Stage.objects.exclude(kind=Stage.Kind.LOST))
    events = OpportunityEvent.objects.filter(opportunity=OuterRef("pk"))
    entered = events.exclude(to_stage__kind=Stage.Kind.LOST)
    furthest = entered.order_by("-to_stage__position").values("to_stage__position")[:1]
    won = events.filter(to_stage__kind=Stage.Kind.WON)
    deals = (
        OPPORTUNITIES.rows(user, filters)
        .filter(period.contains("created_at"))
        .annotate(furthest=Subquery(furthest), ever_won=Exists(won))
    )
    dimensions = OPPORTUNITIES.dimensions(by, "created_at")
    reached = Dimension("furthest", "", F("furthest"))
    outcome = Dimension("ever_won", "", F("ever_won"))
    groups: dict[tuple[Any, ...], Row] = {}
    for row in grouped(deals, [*dimensions, reached, outcome], {"deals": Count("pk")}):
        key = tuple(row[d.key] for d in dimensions)
        group = groups.setdefault(
            key,
            {
                **{name: row[name] for d in dimensions for name in (d.key, f"{d.key}_name")},
                "created": 0,
                **{f"reached_{stage.pk}": 0 for stage in stages},
            },
        )
        group["created"] += row["deals"]
        for stage in stages:
            if row["ever_won"] if stage.kind == Stage.Kind.WON else (row["furthest"] or 0) >= stage.position:
                group[f"reached_{stage.pk}"] += row["deals"]
    if not by and not groups:
        groups[()] = {"created": 0, **{f"reached_{stage.pk}": 0 for stage in stages}}
    return stages, list(groups.values())


def _closed_measures(won: Q, lost: Q, by_deal: bool, prefix: str = "") -> dict[str, Aggregate]:
    """The measures of closed_deals() for the deals won (`won`) and lost (`lost`)."""
    measures: dict[str, Aggregate] = {
        f"{prefix}won": Count("pk", filter=won, distinct=True),
        f"{prefix}lost": Count("pk", filter=lost, distinct=True),
    }
    if by_deal:
        measures |= {
            f"{prefix}won_amount": Sum("amount", filter=won),
            f"{prefix}average_deal": Avg("amount", filter=won),
            f"{prefix}sales_cycle": Avg(days_between(F("won_at"), F("created_at")), filter=won),
        }
    return measures


def _closed_row(row: Row, by_deal: bool) -> Row:
    row["win_rate"] = percent(row["won"], row["won"] + row["lost"])
    if by_deal:
        row["won_amount"] = money(row["won_amount"])
        row["average_deal"] = None if row["average_deal"] is None else money(row["average_deal"])
    return row


def closed_deals(user: User, period: Period, filters: ReportFilters, by: Sequence[str] = ()) -> list[Row]:
    """The deals won or lost in the period, per group: won, lost and the win rate; for the won ones
    their value, the average deal size and the average sales cycle (days from creation to won).

    By product a deal counts once for each product it contains; its amount is not split among them,
    so the amounts and averages are left out (None)."""
    won, lost = period.contains("won_at"), period.contains("lost_at")
    deals = OPPORTUNITIES.rows(user, filters).filter(won | lost)
    by_deal = "product" not in by
    measures = _closed_measures(won, lost, by_deal)
    rows = grouped(deals, OPPORTUNITIES.dimensions(by, Coalesce("won_at", "lost_at")), measures)
    return [_closed_row(row, by_deal) for row in rows]


def closed_deals_in(user: User, periods: Mapping[str, Period]) -> dict[str, Row]:
    """closed_deals() (no grouping, no filter) of each of the named `periods`, from the summary rows
    of the days (one query, whatever the number of deals)."""
    measures: dict[str, Expression] = {}
    for name, period in periods.items():
        inside = period.contains_day("day")
        won, lost = inside & Q(kind=DealDay.Kind.WON), inside & Q(kind=DealDay.Kind.LOST)
        measures |= {
            f"{name}_won": Coalesce(Sum("deals", filter=won), 0),
            f"{name}_lost": Coalesce(Sum("deals", filter=lost), 0),
            f"{name}_won_amount": Sum("amount", filter=won),
            f"{name}_cycle_days": Sum("cycle_days", filter=won),
        }
    row = DealDay.objects.visible_to(user).filter(spanning(periods.values())).aggregate(**measures)
    figures = {}
    for name in periods:
        won, amount, days = row[f"{name}_won"], row[f"{name}_won_amount"], row[f"{name}_cycle_days"]
        deals = {"won": won, "lost": row[f"{name}_lost"], "won_amount": amount}
        deals["average_deal"] = amount / won if won else None
        deals["sales_cycle"] = days / won if won else None
        figures[name] = _closed_row(deals, True)
    return figures


def open_pipeline_now(user: User) -> Row:
    """open_pipeline() (no grouping, no filter) from the summary rows of the owners the user sees:
    how many open deals, their amount and weighted amount."""
    row = OpenPipeline.objects.visible_to(user).aggregate(
        deals=Coalesce(Sum("deals"), 0), amount=Sum("amount"), percent_amount=Sum("percent_amount")
    )
    row["amount"] = money(row["amount"])
    row["weighted"] = weighted(row)
    return row


def time_in_stage(user: User, period: Period, filters: ReportFilters, by: Sequence[str] = ()) -> list[Row]:
    """The stays in each stage that ended in the period: how many, mean and median days."""
    earlier = OpportunityEvent.objects.filter(opportunity=OuterRef("opportunity")).filter(
        Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk"))
    )
    entered_at = Subquery(earlier.order_by("-at", "-pk").values("at")[:1])
    # Every stay ends with an event that has a from_stage, and began with an earlier event (at least
    # the creation), so entered_at is never empty.
    stays = STAYS.rows(user, filters).filter(period.contains("at"), from_stage__isnull=False)
    stays = stays.annotate(entered_at=entered_at)
    span = days_between(F("at"), F("entered_at"))
    return grouped(
        stays,
        STAYS.dimensions(["stage", *by], "at"),
        {"stays": Count("pk"), "mean": Avg(span)},
        median=Percentile(span, "0.5"),
    )
