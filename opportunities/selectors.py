"""Reads of opportunities, with visibility and the joins and sums each page needs."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from crm.history import field_changes
from crm.models import model_field
from crm.search import matching_ids
from customers.models import Customer
from customers.selectors import search_customers
from opportunities.models import Opportunity, OpportunityEvent, OpportunityQuerySet, ScoringWeights, Stage

# The board shows every open opportunity, and those won or lost in the period chosen (this month
# by default), at most BOARD_CARD_BUDGET cards in one response. A column shows BOARD_COLUMN_MAX cards
# at first (more than a screen holds; rendering the cards is most of the page's cost) and "Show more"
# loads as many again.
BOARD_CARD_BUDGET = 200
BOARD_COLUMN_MAX = 12
CUSTOMER_CARD_LIMIT = 5
CUSTOMER_CHOICES_LIMIT = 10
CENT = Decimal("0.01")


def opportunities_for_list(user: User | None) -> QuerySet[Opportunity]:
    return Opportunity.objects.visible_to(user).select_related("customer", "owner", "stage", "order")


def search_opportunities(queryset: QuerySet[Opportunity], text: str) -> QuerySet[Opportunity]:
    """Opportunities whose title contains `text`, or whose customer's name does (each part uses its
    own trigram index on PostgreSQL)."""
    text = text.strip()
    if not text:
        return queryset
    customers = Customer.objects.filter(name__fragment=text).values("pk")
    # A union of id sets lets each part use its index (title trigrams; the customers' ids); an OR
    # would walk the page's sort index and test every opportunity.
    parts = [
        Opportunity.objects.filter(title__fragment=text),
        Opportunity.objects.filter(customer__in=customers),
    ]
    return queryset.filter(pk__in=matching_ids(parts))


def first_opportunities_matching(user: User, text: str, limit: int) -> QuerySet[Opportunity]:
    """Opportunities the user sees whose title or customer's name contains `text`, as
    `opportunities_for_list` shows them: at most limit + 1, the first each index finds (crm/search.py).
    Each found row's visibility is tested through its joins, so the work stays with the matches."""
    text = text.strip()
    visible = Opportunity.objects.visible_by_join(user)
    parts = [visible.filter(title__fragment=text), visible.filter(customer__name__fragment=text)]
    # The parts hold only rows the user sees: the rows they name need no second test.
    return opportunities_for_list(None).filter(pk__in=matching_ids(parts, limit))


def opportunity_detail(opportunity: Opportunity) -> dict[str, Any]:
    """What the opportunity's page shows (the opportunity from opportunities.access)."""
    events = list(opportunity.events.select_related("actor", "from_stage", "to_stage"))
    stages = list(Stage.objects.all())
    return {
        "opportunity": opportunity,
        "lines": list(opportunity.lines.select_related("product")),
        "events": events,
        "stage_times": time_in_stages(events, stages, opportunity),
        "scoring": score_breakdown(opportunity, ScoringWeights.current()),
        "bant": bant_checklist(opportunity),
        "stages": stages,
        "history": field_changes(opportunity.history.select_related("history_user")),
    }


def time_in_stages(
    events: Sequence[OpportunityEvent],
    stages: Sequence[Stage],
    opportunity: Opportunity,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """How long the opportunity has spent in each stage it entered, in pipeline order.

    Each stage change starts a stay that lasts until the next event; the current stay lasts until now while
    the opportunity is open. Returns dicts of stage, time (a timedelta, None for the closing stage),
    visits and current.
    """
    now = now or timezone.now()
    # The stage changes are the events with a stage entered (a database constraint): oldest first.
    entries = sorted(
        ((event, event.to_stage) for event in events if event.to_stage is not None),
        key=lambda entry: (entry[0].at, entry[0].pk),
    )
    totals: dict[int, timedelta | None] = {}
    visits: dict[int, int] = {}
    for index, (event, stage) in enumerate(entries):
        visits[stage.pk] = visits.get(stage.pk, 0) + 1
        if index + 1 < len(entries):
            left = entries[index + 1][0].at
        elif stage.is_open:
            left = now
        else:
            totals.setdefault(stage.pk, None)
            continue
        stay = left - event.at
        totals[stage.pk] = (totals.get(stage.pk) or timedelta()) + stay
    return [
        {
            "stage": stage,
            "time": totals[stage.pk],
            "visits": visits[stage.pk],
            "current": stage.pk == opportunity.stage_id,
        }
        for stage in stages
        if stage.pk in visits
    ]


def score_breakdown(opportunity: Opportunity, weights: ScoringWeights) -> dict[str, Any]:
    """The value score factor by factor: each score, its weight and what it contributes."""
    factors = []
    for factor in Opportunity.SCORE_FACTORS:
        field = model_field(Opportunity, f"score_{factor}")
        score, weight = getattr(opportunity, field.name), getattr(weights, factor)
        factors.append(
            {
                "label": field.verbose_name,
                "help": field.help_text,
                "score": score,
                "weight": weight,
                "contribution": (weight * score).quantize(CENT),
            }
        )
    return {"factors": factors, "total": opportunity.value_score}


def bant_checklist(opportunity: Opportunity) -> list[dict[str, Any]]:
    return [
        {
            "label": model_field(Opportunity, f"{item}_confirmed").verbose_name,
            "confirmed": getattr(opportunity, f"{item}_confirmed"),
            "note": getattr(opportunity, f"{item}_note"),
        }
        for item in Opportunity.BANT
    ]


def board_column_size(stage_count: int) -> int:
    """How many cards each column shows at first (and per "load more"): at most
    BOARD_COLUMN_MAX, and the whole board at most BOARD_CARD_BUDGET cards."""
    return max(1, min(BOARD_COLUMN_MAX, BOARD_CARD_BUDGET // max(stage_count, 1)))


def closed_period(period: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The instants [start, end) of a board period for the won and lost columns, in local time:
    "month" (this calendar month, the default), "last_month" or "year"."""
    local = timezone.localtime(now or timezone.now())
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    if period == "last_month":
        return (month_start - timedelta(days=1)).replace(day=1), month_start
    if period == "year":
        return month_start.replace(month=1), month_start.replace(year=month_start.year + 1, month=1)
    return month_start, next_month


def _board_rows(
    owner: User | None, period: str, now: datetime | None, stages: Sequence[Stage] | None
) -> OpportunityQuerySet:
    start, end = closed_period(period, now)
    is_open = (
        Q(stage__in=[stage.pk for stage in stages if stage.is_open])
        if stages is not None
        else Q(stage__kind=Stage.Kind.OPEN)
    )
    rows = Opportunity.objects.filter(
        is_open | Q(won_at__gte=start, won_at__lt=end) | Q(lost_at__gte=start, lost_at__lt=end)
    )
    return rows if owner is None else rows.filter(owner=owner)


def board_cards(
    user: User,
    owner: User | None = None,
    *,
    period: str = "month",
    now: datetime | None = None,
    stages: Sequence[Stage] | None = None,
) -> QuerySet[Opportunity]:
    """What the board shows: every open opportunity the user sees (of `owner` if given), and
    those won or lost in the period, next to close first. `stages`, when the caller has them,
    name the open stages by id (no join to the stages)."""
    return _board_rows(owner, period, now, stages).visible_to(user).order_by("expected_close_date", "id")


def _with_card_joins(cards: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    return cards.select_related("customer", "owner", "stage").defer(
        "description", "customer__notes", "customer__address"
    )


def _first_cards_and_totals(cards: QuerySet[Opportunity], size: int) -> list[dict[str, Any]]:
    """The first `size` cards of each stage (their ids and close dates), each row with its stage's
    count, amount and amount × probability: one pass over the rows, which window functions number and
    sum per stage, reading only the narrow columns (the cards' joins come after, by id)."""
    stage = F("stage_id")
    rows = (
        cards.order_by()
        .annotate(
            rank=Window(RowNumber(), partition_by=stage, order_by=[F("expected_close_date"), F("id")]),
            card_count=Window(Count("id"), partition_by=stage),
            amount_sum=Window(Sum("amount"), partition_by=stage),
            weighted_sum=Window(
                Sum(F("amount") * F("probability"), output_field=DecimalField()), partition_by=stage
            ),
        )
        .filter(rank__lte=size)
        .values("pk", "stage_id", "expected_close_date", "card_count", "amount_sum", "weighted_sum")
    )
    return [dict(row) for row in rows]


def _board_columns(rows: OpportunityQuerySet, user: User, size: int) -> dict[int, dict[str, Any]]:
    """Per stage: its count, amount and amount × probability, and the ids of its first `size` cards,
    from the rows the user sees read in their disjoint parts (an index each) and added up."""
    columns: dict[int, dict[str, Any]] = {}
    for part in rows.visible_parts(user):
        counted: set[int] = set()
        for row in _first_cards_and_totals(part, size):
            column = columns.setdefault(
                row["stage_id"], {"count": 0, "amount": Decimal(0), "weighted": Decimal(0), "first": []}
            )
            if row["stage_id"] not in counted:  # every row of a stage carries the part's stage totals
                counted.add(row["stage_id"])
                column["count"] += row["card_count"]
                column["amount"] += row["amount_sum"] or 0
                column["weighted"] += row["weighted_sum"] or 0
            column["first"].append((row["expected_close_date"], row["pk"]))
    for column in columns.values():
        column["first"] = [pk for _close, pk in sorted(column["first"])[:size]]
    return columns


def board(
    user: User,
    owner: User | None = None,
    *,
    period: str = "month",
    now: datetime | None = None,
    pinned: int | None = None,
) -> list[dict[str, Any]]:
    """The kanban: one column per stage with its first cards (board_column_size), and its true
    count, amount and weighted amount (amount × probability).

    A fixed number of queries whatever the number of opportunities: the stages; per part of what the
    user sees (crm.models.VisibleQuerySet.visible_parts: one for a manager, their own deals and the
    others' deals on their customers for a salesperson), one pass over its board rows, from one
    index, that numbers each stage's cards and sums the stage (window functions), keeping the first
    cards' ids; and those cards with their customer and owner. `pinned` (the card just moved) is shown even
    when it is not among its column's first cards (fetched with them).
    """
    stages = list(Stage.objects.all())
    totals = _board_columns(_board_rows(owner, period, now, stages), user, board_column_size(len(stages)))
    columns: dict[int, dict[str, Any]] = {}
    for stage in stages:
        total = totals.get(stage.pk, {})
        columns[stage.pk] = {
            "stage": stage,
            "cards": [],
            "count": total.get("count", 0),
            "amount": total.get("amount", Decimal(0)),
            "weighted": (Decimal(total.get("weighted", 0)) / 100).quantize(CENT),
        }
    shown = [pk for total in totals.values() for pk in total["first"]]
    if pinned is not None and pinned not in shown:
        shown.append(pinned)
    cards = board_cards(user, owner, period=period, now=now, stages=stages)
    for card in _with_card_joins(cards.filter(pk__in=shown)):
        columns[card.stage_id]["cards"].append(card)
    for column in columns.values():
        column["next_offset"] = len(column["cards"]) if column["count"] > len(column["cards"]) else None
    return list(columns.values())


def board_column(
    user: User,
    stage: Stage,
    owner: User | None = None,
    *,
    period: str = "month",
    offset: int = 0,
    now: datetime | None = None,
) -> tuple[list[Opportunity], int | None]:
    """A column's next cards from `offset` ("load more"), and the offset after them (None: no more).
    One query: a card more than shown tells whether there are more."""
    size = board_column_size(Stage.objects.count())
    cards = list(
        _with_card_joins(board_cards(user, owner, period=period, now=now).filter(stage=stage))[
            offset : offset + size + 1
        ]
    )
    return cards[:size], (offset + size if len(cards) > size else None)


def open_opportunities_for_customer(
    customer: Customer, limit: int = CUSTOMER_CARD_LIMIT
) -> list[Opportunity]:
    """The customer's open opportunities, next to close first: one query, up to limit + 1 rows
    (the extra one tells the page there are more)."""
    return list(
        Opportunity.objects.filter(customer=customer)
        .open()
        .select_related("stage")
        .order_by("expected_close_date", "id")[: limit + 1]
    )


def customer_choices(user: User, text: str, limit: int = CUSTOMER_CHOICES_LIMIT) -> list[Customer]:
    """Customers the user may open an opportunity for, matching a fragment of name, phone or email."""
    customers: QuerySet[Customer] = Customer.objects.visible_to(user)
    if text.strip():
        customers = search_customers(customers, text)
    return list(customers.order_by("name", "id")[:limit])
