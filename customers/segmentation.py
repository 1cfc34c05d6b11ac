"""RFM segmentation: recency, frequency and monetary value of each customer's finished orders, scored
1–5 by quintile and mapped to a named segment.

What compute_rfm promises:
- It scores every customer with at least one order finished by the end of the day `on`:
  recency = days from the last finished order to `on`; frequency = orders finished in the 365 days up
  to the end of `on`; monetary = their net total (orders in the reporting currency).
- Each axis is scored by the customer's place among all scored customers: with n customers and a
  value whose rank is r (1 for the smallest; ties share the lowest rank) shared by t customers,
  score = 1 + ⌊5 · (2r + t − 2) / (2n)⌋, i.e. the quintile of the ties' middle position. Equal values
  always get equal scores; a single customer scores 3. Recency scores the most recent highest.
- The segment follows from the scores by SEGMENT_RULES, the first rule that matches.
- It is idempotent: running it again the same day replaces that day's scores. It keeps the latest two
  computations, so the segment report can show the movement since the previous one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, F, Max, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import Coalesce, Rank, Round, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.filters import end_of_day
from crm.reporting import DEFAULT_CURRENCY
from customers.models import RFMScore, Segment
from orders.models import ZERO, Order, Status
from orders.reports import net_total

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

YEAR = timedelta(days=365)
KEEP_COMPUTATIONS = 2


@dataclass(frozen=True)
class SegmentRule:
    segment: Segment
    condition: StrOrPromise  # the rule as the reader sees it
    matches: Callable[[int, int, int], bool]


SEGMENT_RULES = [
    SegmentRule(Segment.CHAMPIONS, _("R ≥ 4, F ≥ 4 and M ≥ 4"), lambda r, f, m: r >= 4 and f >= 4 and m >= 4),
    SegmentRule(Segment.LOYAL, _("R ≥ 3 and F ≥ 3"), lambda r, f, m: r >= 3 and f >= 3),
    SegmentRule(Segment.NEW, _("R ≥ 4 and F = 1"), lambda r, f, m: r >= 4 and f == 1),
    SegmentRule(Segment.POTENTIAL, _("R ≥ 3 (and F ≤ 2)"), lambda r, f, m: r >= 3),
    SegmentRule(Segment.CANT_LOSE, _("R ≤ 2, F ≥ 4 and M ≥ 4"), lambda r, f, m: f >= 4 and m >= 4),
    SegmentRule(Segment.AT_RISK, _("R ≤ 2 and F ≥ 3"), lambda r, f, m: f >= 3),
    SegmentRule(Segment.HIBERNATING, _("R = 2 (and F ≤ 2)"), lambda r, f, m: r == 2),
    SegmentRule(Segment.LOST, _("R = 1 (and F ≤ 2)"), lambda r, f, m: True),
]


def segment_for(recency: int, frequency: int, monetary: int) -> Segment:
    """The segment of three scores (each 1–5): the first of SEGMENT_RULES that matches."""
    return next(rule.segment for rule in SEGMENT_RULES if rule.matches(recency, frequency, monetary))


def quintile_score(rank: int, ties: int, count: int) -> int:
    """1–5: the quintile of the middle position of `ties` equal values starting at `rank` of `count`."""
    return 1 + 5 * (2 * rank + ties - 2) // (2 * count)


def _ranked_customers(on: date) -> QuerySet[Order, dict[str, Any]]:
    """Per customer with a finished order: the day of the last, frequency and monetary value, and for
    each the rank among customers and how many share the value. One query (aggregates, then windows)."""
    until = end_of_day(on)
    recent = Q(finished_at__gte=until - YEAR)
    values = {
        "last_day": TruncDate(Max("finished_at")),
        "frequency": Count("pk", filter=recent),
        "monetary": Coalesce(
            Round(Sum(net_total(), filter=recent & Q(currency=DEFAULT_CURRENCY)), 2), Value(ZERO)
        ),
    }
    ranks = {}
    for name in values:
        ranks[f"{name}_rank"] = Window(Rank(), order_by=F(name).asc())
        ranks[f"{name}_ties"] = Window(Count("customer"), partition_by=[F(name)])
    return (
        Order.objects.filter(status=Status.FINISHED, finished_at__lt=until)
        .values("customer")
        .annotate(**values)
        .annotate(**ranks, scored=Window(Count("customer")))
        .order_by("customer")
    )


@transaction.atomic
def compute_rfm(*, actor: User | None = None, on: date | None = None) -> int:
    """Scores every customer with a finished order as of the day `on` (default today) and stores the
    scores; returns how many customers were scored. `actor` is who asked (None: the nightly run)."""
    on = on or timezone.localdate()
    scores = []
    for row in _ranked_customers(on).iterator(chunk_size=5000):
        count = row["scored"]
        recency, frequency, monetary = (
            quintile_score(row[f"{name}_rank"], row[f"{name}_ties"], count)
            for name in ("last_day", "frequency", "monetary")
        )
        scores.append(
            RFMScore(
                customer_id=row["customer"],
                computed_on=on,
                recency_days=(on - row["last_day"]).days,
                frequency=row["frequency"],
                monetary=row["monetary"],
                recency_score=recency,
                frequency_score=frequency,
                monetary_score=monetary,
                segment=segment_for(recency, frequency, monetary),
            )
        )
    RFMScore.objects.filter(computed_on=on).delete()
    RFMScore.objects.bulk_create(scores, batch_size=2000)
    days = RFMScore.objects.order_by("-computed_on").values_list("computed_on", flat=True).distinct()
    kept = list(days[:KEEP_COMPUTATIONS])
    if kept:
        RFMScore.objects.filter(computed_on__lt=kept[-1]).delete()
    return len(scores)
