"""Reads of opportunities, with visibility and the joins and sums each page needs."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone

from crm.history import field_changes
from crm.models import model_field
from customers.models import Customer
from customers.selectors import search_customers
from opportunities.models import Opportunity, OpportunityEvent, ScoringWeights, Stage

# The board shows every open opportunity, and those won or lost in the last days.
BOARD_CLOSED_DAYS = 30
CUSTOMER_CARD_LIMIT = 5
CUSTOMER_CHOICES_LIMIT = 10
CENT = Decimal("0.01")


def opportunities_for_list(user: User) -> QuerySet[Opportunity]:
    return Opportunity.objects.visible_to(user).select_related("customer", "owner", "stage", "order")


def search_opportunities(queryset: QuerySet[Opportunity], text: str) -> QuerySet[Opportunity]:
    """Opportunities whose title contains `text`, or whose customer's name does (each part uses its
    own trigram index on PostgreSQL)."""
    text = text.strip()
    if not text:
        return queryset
    customers = Customer.objects.filter(name__icontains=text).values("pk")
    # A union of id sets lets each part use its index (title trigrams; the customers' ids); an OR
    # would walk the page's sort index and test every opportunity.
    matching_ids = (
        Opportunity.objects.filter(title__icontains=text)
        .order_by()
        .values("pk")
        .union(Opportunity.objects.filter(customer__in=customers).order_by().values("pk"))
    )
    return queryset.filter(pk__in=matching_ids)


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


def board(user: User, owner: User | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """The kanban: one column per stage with its cards, their count, amount and weighted amount.

    Two queries whatever the number of cards: the stages, and the cards with their customer and owner.
    """
    since = (now or timezone.now()) - timedelta(days=BOARD_CLOSED_DAYS)
    cards = (
        Opportunity.objects.visible_to(user)
        .filter(Q(stage__kind=Stage.Kind.OPEN) | Q(won_at__gte=since) | Q(lost_at__gte=since))
        .select_related("customer", "owner")
        .defer("description", "customer__notes", "customer__address")
        .order_by("expected_close_date", "id")
    )
    if owner is not None:
        cards = cards.filter(owner=owner)
    columns: dict[int, dict[str, Any]] = {
        stage.pk: {"stage": stage, "cards": []} for stage in Stage.objects.all()
    }
    for card in cards:
        columns[card.stage_id]["cards"].append(card)
    for column in columns.values():
        column["count"] = len(column["cards"])
        column["amount"] = sum((card.amount for card in column["cards"]), Decimal(0))
        column["weighted"] = sum((card.expected_value for card in column["cards"]), Decimal(0))
    return list(columns.values())


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
