"""Customer figures: new customers per month and the RFM segments (see customers/segmentation.py for
how the scores are computed). Selectors as crm/reporting.py describes."""

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils.translation import gettext_lazy as _

from crm.reporting import Dimension, Fact, Period, ReportFilters, Row, grouped, money, percent
from customers.models import Customer, RFMScore, Segment

CUSTOMERS = Fact(Customer.objects, customer="")
SEGMENT = Dimension("segment", _("Segment"), F("segment"), choices=Segment)
SCORES = Fact(RFMScore.objects, owner="customer__owner", extra={"segment": SEGMENT})


def new_customers(user: User, period: Period, filters: ReportFilters, by: Sequence[str] = ()) -> list[Row]:
    """How many customers were created in the period, per group."""
    customers = CUSTOMERS.rows(user, filters).filter(period.contains("created_at"))
    return grouped(customers, CUSTOMERS.dimensions(by, "created_at"), {"customers": Count("pk")})


def computations() -> tuple[date | None, date | None]:
    """The day of the latest RFM computation and of the one before it (None when there is none)."""
    latest = RFMScore.objects.aggregate(day=Max("computed_on"))["day"]
    if latest is None:
        return None, None
    return latest, RFMScore.objects.filter(computed_on__lt=latest).aggregate(day=Max("computed_on"))["day"]


def customers_in_segment(segment: str) -> QuerySet[RFMScore, Mapping[str, object]]:
    """The ids of the customers in `segment` at the latest computation (a subquery)."""
    latest = RFMScore.objects.order_by("-computed_on").values("computed_on")[:1]
    return RFMScore.objects.filter(computed_on=Subquery(latest), segment=segment).values("customer")


def latest_score(customer: Customer) -> RFMScore | None:
    """The customer's scores from the latest computation that scored them."""
    return RFMScore.objects.filter(customer=customer).order_by("-computed_on").first()


def segments(
    user: User, filters: ReportFilters, latest: date, previous: date | None, by: Sequence[str] = ()
) -> list[Row]:
    """Per segment (every one, in the order of Segment, when not grouped further): the customers and
    their monetary value at the `latest` computation with each one's share of all the rows, and the
    customers in it at the `previous` computation (None when there is none)."""
    scores = SCORES.rows(user, filters).filter(computed_on__in=[day for day in (latest, previous) if day])
    now, before = Q(computed_on=latest), Q(computed_on=previous)
    measures = {
        "customers": Count("pk", filter=now),
        "monetary": Sum("monetary", filter=now),
        "previous": Count("pk", filter=before),
    }
    rows = grouped(scores, SCORES.dimensions(["segment", *by]), measures)
    if not by:
        counted = {row["segment"]: row for row in rows}
        empty = {"customers": 0, "monetary": None, "previous": 0}
        rows = [
            {**counted.get(s.value, empty), "segment": s.value, "segment_name": str(s.label)} for s in Segment
        ]
    customers = sum(row["customers"] for row in rows)
    monetary = sum((money(row["monetary"]) for row in rows), Decimal(0))
    for row in rows:
        row["monetary"] = money(row["monetary"])
        row["customer_share"] = percent(row["customers"], customers)
        row["monetary_share"] = percent(row["monetary"], monetary)
        row["previous"] = row["previous"] if previous else None
    return rows


def segment_moves(user: User, filters: ReportFilters, latest: date, previous: date) -> list[Row]:
    """How the customers scored at the `latest` computation moved since the `previous` one: one row per
    (from_segment, segment) with how many customers; from_segment is None for those newly scored."""
    before = RFMScore.objects.filter(customer=OuterRef("customer"), computed_on=previous).values("segment")
    scores = SCORES.rows(user, filters).filter(computed_on=latest).annotate(from_segment=Subquery(before[:1]))
    rows = scores.values("from_segment", "segment").annotate(customers=Count("pk")).order_by()
    return [
        {
            **row,
            "from_name": str(Segment(row["from_segment"]).label) if row["from_segment"] else None,
            "segment_name": str(Segment(row["segment"]).label),
        }
        for row in rows
    ]
