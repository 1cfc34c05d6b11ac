"""The yardstick of the report tests: the raw rows as plain Python values, and the arithmetic of the
figures done again by hand (sorting, summing, interpolating), sharing no code with the selectors."""

import zoneinfo
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.conf import settings

from accounts.models import Membership
from crm.roles import is_manager
from customers.models import Customer
from opportunities.models import Opportunity, OpportunityEvent, OpportunityLine
from orders.models import CreditNote, CreditNoteLine, Order, OrderLine

TZ = zoneinfo.ZoneInfo(settings.TIME_ZONE)
CENT = Decimal("0.01")


def cents(value) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def one_decimal(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def local_day(at):
    return at.astimezone(TZ).date()


def month_of(at):
    return local_day(at).replace(day=1)


def within(at, period) -> bool:
    return at is not None and period.start <= local_day(at) <= period.end


def days(later, earlier) -> float:
    return (later - earlier).total_seconds() / 86400


def percentile(values, fraction):
    """Linear interpolation between the two nearest of the sorted values (as a spreadsheet's
    PERCENTILE.INC does)."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low]) + (position - low) * (float(ordered[high]) - float(ordered[low]))


def mean(values):
    return sum(values) / len(values) if values else None


def sample_variance(values):
    if len(values) < 2:
        return None
    average = sum(values, Decimal(0)) / len(values)
    return sum(((y - average) ** 2 for y in values), Decimal(0)) / (len(values) - 1)


def rate(part, whole):
    return None if not whole else one_decimal(Decimal(100) * part / whole)


def team_of():
    """{user id: team id} from the raw memberships: the team each user belongs to now."""
    return dict(Membership.objects.values_list("user_id", "team_id"))


def owners_seen(user):
    """The users whose rows `user` sees (None: everyone's): managers (and None) every row; a team lead
    what any member of their team owns, as owner or as the customer's owner; a salesperson their own."""
    if user is None or is_manager(user):
        return None
    mine = {user.pk}
    teams = team_of()
    if user.groups.filter(name="Team leads").exists() and user.pk in teams:
        mine |= {member for member, team in teams.items() if team == teams[user.pk]}
    return mine


def seen(owners, *owner_ids) -> bool:
    return owners is None or any(owner_id in owners for owner_id in owner_ids)


def sees(user, *owner_ids) -> bool:
    return seen(owners_seen(user), *owner_ids)


def orders(user):
    """Every order the user sees, as dicts, with its customer's region, industry and tags."""
    owners = owners_seen(user)
    credited: defaultdict[int, Decimal] = defaultdict(Decimal)
    for order_id, amount in CreditNote.objects.values_list("order_id", "amount"):
        credited[order_id] += amount
    tags = defaultdict(list)
    for customer_id, name in Customer.tags.through.objects.values_list("customer_id", "tag__name"):
        tags[customer_id].append(name)
    rows = Order.objects.values(
        "id",
        "customer_id",
        "customer__owner_id",
        "owner_id",
        "status",
        "currency",
        "subtotal",
        "total",
        "balance",
        "created_at",
        "confirmed_at",
        "processing_at",
        "finished_at",
        "closed_at",
        "customer__region",
        "customer__industry",
    )
    return [
        {**row, "tags": tags[row["customer_id"]], "net": row["total"] - credited.get(row["id"], 0)}
        for row in rows
        if seen(owners, row["owner_id"], row["customer__owner_id"])
    ]


def lines(user):
    """Every order line the user sees, with its order and what credit notes returned from it."""
    returned: defaultdict[int, Decimal] = defaultdict(Decimal)
    for line_id, amount in CreditNoteLine.objects.filter(order_line__isnull=False).values_list(
        "order_line_id", "amount"
    ):
        returned[line_id] += amount
    rows = OrderLine.objects.values("id", "order_id", "product_id", "line_total")
    seen = {row["id"]: row for row in orders(user)}
    return [
        {**row, "order": seen[row["order_id"]], "returned": returned[row["id"]]}
        for row in rows
        if row["order_id"] in seen
    ]


def deals(user):
    rows = Opportunity.objects.values(
        "id",
        "customer__owner_id",
        "owner_id",
        "source",
        "amount",
        "probability",
        "stage__kind",
        "stage_id",
        "created_at",
        "won_at",
        "lost_at",
        "expected_close_date",
    )
    owners = owners_seen(user)
    products = defaultdict(set)
    for deal_id, product_id in OpportunityLine.objects.values_list("opportunity_id", "product_id"):
        products[deal_id].add(product_id)
    return [
        {**row, "products": products[row["id"]]}
        for row in rows
        if seen(owners, row["owner_id"], row["customer__owner_id"])
    ]


def events(user):
    """Each deal's stage events in the order they happened."""
    seen = {row["id"] for row in deals(user)}
    by_deal = defaultdict(list)
    rows = OpportunityEvent.objects.order_by("at", "id").values(
        "id", "opportunity_id", "at", "from_stage_id", "to_stage_id", "to_stage__kind", "to_stage__position"
    )
    for row in rows:
        if row["opportunity_id"] in seen:
            by_deal[row["opportunity_id"]].append(row)
    return by_deal
