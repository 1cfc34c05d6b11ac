"""Reads of communications and follow-ups, with visibility and the joins each page needs."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import attrgetter
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Model, Q, QuerySet
from django.utils import timezone

from crm.filters import end_of_day, start_of_day
from crm.history import field_changes
from customers.access import can_change_customer
from customers.models import Customer
from customers.selectors import search_customers
from followups.models import Communication, FollowUp

# My day shows at first this many follow-ups of each part (overdue, due today, coming up); "Show
# more" loads as many again, or (without JavaScript) opens the follow-up list filtered to the part.
MY_DAY_ROWS = 10
MY_DAY_PARTS = ("overdue", "due_today", "upcoming")
UPCOMING_DAYS = 7  # My day also shows what comes in the next days
WEEK_LIMIT = 400
DIGEST_ITEM_LIMIT = 50
LINKED_LIMIT = 5  # an order's or opportunity's page shows its newest few of each


# A search that finds at most this many customers filters the rows by the customers' ids, an index
# lookup per customer. Joined as a subquery, the planner cannot size the matches and, beside a
# salesperson's visibility (their conversations or their customers'), reads every row (1.2 s at
# 5,000,000 communications, against 30 ms).
CUSTOMER_IDS_LIMIT = 1_000


def of_customers_matching(rows: QuerySet[Any], text: str) -> QuerySet[Any]:
    """The communications or follow-ups among `rows` whose customer a fragment of a name, phone, email
    or contact person finds (customers.selectors.search_customers): how their lists, the API and the
    admin search them."""
    found = search_customers(Customer.objects.all(), text, limit=CUSTOMER_IDS_LIMIT)
    ids = list(found.values_list("pk", flat=True))
    if len(ids) <= CUSTOMER_IDS_LIMIT:
        return rows.filter(customer__in=ids)
    return rows.filter(customer__in=search_customers(Customer.objects.all(), text).values("pk"))


def communications_for_list(user: User) -> QuerySet[Communication]:
    return Communication.objects.visible_to(user).select_related(
        "customer", "staff", "contact_person", "order", "opportunity"
    )


def followups_for_list(user: User) -> QuerySet[FollowUp]:
    return FollowUp.objects.visible_to(user).select_related("customer", "assignee", "order", "opportunity")


def communication_detail(user: User, communication: Communication) -> dict[str, Any]:
    """What a communication's page shows (the communication from followups.access)."""
    return {
        "communication": communication,
        "followups": list(
            FollowUp.objects.visible_to(user).filter(communication=communication).select_related("assignee")
        ),
        "history": field_changes(communication.history.select_related("history_user")),
    }


def _source_communication(user: User, followup: FollowUp) -> Communication | None:
    """The communication the follow-up came from, when the user may see it: an assignee working a
    colleague's customer may not, and then learns nothing of it, not even its subject."""
    if followup.communication_id is None:
        return None
    return communications_for_list(user).filter(pk=followup.communication_id).first()


def followup_detail(user: User, followup: FollowUp) -> dict[str, Any]:
    """What a follow-up's page shows (the follow-up from followups.access)."""
    return {
        "followup": followup,
        "source_communication": _source_communication(user, followup),
        "history": field_changes(followup.history.select_related("history_user")),
    }


@dataclass
class Linked:
    """The card of an order's or an opportunity's page: its newest communications and follow-ups."""

    link: str  # the field that points at the record: "order" or "opportunity"
    record: Any
    communications: list[Communication]
    followups: list[FollowUp]
    more_communications: bool
    more_followups: bool
    can_add: bool


def linked_to(user: User, link: str, record: Model) -> Linked:
    """The communications and follow-ups about `record` (an order or an opportunity the user sees),
    newest first, LINKED_LIMIT of each: two queries, whatever there is."""
    about = {link: record}
    communications = list(
        communications_for_list(user).filter(**about).order_by("-occurred_at", "-id")[: LINKED_LIMIT + 1]
    )
    followups = list(
        followups_for_list(user).filter(**about).order_by("-created_at", "-id")[: LINKED_LIMIT + 1]
    )
    return Linked(
        link=link,
        record=record,
        communications=communications[:LINKED_LIMIT],
        followups=followups[:LINKED_LIMIT],
        more_communications=len(communications) > LINKED_LIMIT,
        more_followups=len(followups) > LINKED_LIMIT,
        can_add=can_change_customer(user, record.customer),  # type: ignore[attr-defined]
    )


def _due_by_end_of_today(now: datetime) -> QuerySet[FollowUp]:
    return FollowUp.objects.open().filter(due_at__lt=end_of_day(timezone.localdate(now)))


def my_day_counts(user: User, now: datetime | None = None) -> dict[str, int]:
    """How many of the user's open follow-ups are overdue, and how many are due later today."""
    now = now or timezone.now()
    return (
        _due_by_end_of_today(now)
        .filter(assignee=user)
        .aggregate(
            overdue=Count("pk", filter=Q(due_at__lt=now)), due_today=Count("pk", filter=Q(due_at__gte=now))
        )
    )


def dashboard_counts(user: User, now: datetime | None = None) -> dict[str, int]:
    """In one query: the open follow-ups the user sees that are overdue (`seen_overdue`), and as
    my_day_counts, those assigned to the user that are overdue and due later today."""
    now = now or timezone.now()
    end_of_today = end_of_day(timezone.localdate(now))
    mine = Q(assignee=user)
    return (
        FollowUp.objects.visible_to(user)
        .open()
        .filter(due_at__lt=end_of_today)
        .aggregate(
            seen_overdue=Count("pk", filter=Q(due_at__lt=now)),
            overdue=Count("pk", filter=mine & Q(due_at__lt=now)),
            due_today=Count("pk", filter=mine & Q(due_at__gte=now)),
        )
    )


def _my_day_part(user: User, part: str, now: datetime) -> QuerySet[FollowUp]:
    """The user's open follow-ups of one part of My day, soonest first."""
    end_of_today = end_of_day(timezone.localdate(now))
    due = {
        "overdue": Q(due_at__lt=now),
        "due_today": Q(due_at__gte=now, due_at__lt=end_of_today),
        "upcoming": Q(due_at__gte=end_of_today, due_at__lt=end_of_today + timedelta(days=UPCOMING_DAYS)),
    }[part]
    return (
        FollowUp.objects.open()
        .filter(due, assignee=user)
        .select_related("customer", "contact_person", "order", "opportunity")
        .order_by("due_at", "id")
    )


def my_day_rows(
    user: User, part: str, after: tuple[datetime, int] | None = None, now: datetime | None = None
) -> tuple[list[FollowUp], bool]:
    """MY_DAY_ROWS follow-ups of a part of My day, after the row due at `after` (its due time and id)
    if given, and whether more come after them. One query: a row more than shown tells."""
    rows = _my_day_part(user, part, now or timezone.now())
    if after is not None:
        due, pk = after
        rows = rows.filter(Q(due_at__gt=due) | Q(due_at=due, pk__gt=pk))
    first = list(rows[: MY_DAY_ROWS + 1])
    return first[:MY_DAY_ROWS], len(first) > MY_DAY_ROWS


def my_day(user: User, now: datetime | None = None) -> dict[str, Any]:
    """The first screen of the user's day: the first MY_DAY_ROWS open follow-ups overdue, due later
    today and due in the next days, soonest first, which parts have more (`more`), and the true
    counts of overdue and due today. Four queries, whatever the number of follow-ups."""
    now = now or timezone.now()
    parts = {part: my_day_rows(user, part, now=now) for part in MY_DAY_PARTS}
    return {
        **{part: rows for part, (rows, _more) in parts.items()},
        "more": {part: more for part, (_rows, more) in parts.items()},
        "counts": my_day_counts(user, now),
    }


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week(user: User, monday: date, assignee: User | None = None) -> dict[str, Any]:
    """Visible follow-ups due in the week from `monday`, by day; of one assignee when given."""
    rows = followups_for_list(user).filter(
        due_at__gte=start_of_day(monday), due_at__lt=start_of_day(monday + timedelta(days=7))
    )
    if assignee is not None:
        rows = rows.filter(assignee=assignee)
    followups = list(rows.order_by("due_at", "id")[: WEEK_LIMIT + 1])
    days: list[dict[str, Any]] = [
        {"date": monday + timedelta(days=offset), "followups": []} for offset in range(7)
    ]
    for followup in followups[:WEEK_LIMIT]:
        days[(timezone.localdate(followup.due_at) - monday).days]["followups"].append(followup)
    return {"days": days, "truncated": len(followups) > WEEK_LIMIT}


@dataclass
class Digest:
    """What a user's reminder email lists: the first few follow-ups of each part and how many there are."""

    user: User
    overdue: list[FollowUp] = field(default_factory=list)
    due_today: list[FollowUp] = field(default_factory=list)
    overdue_count: int = 0
    due_today_count: int = 0

    def add(self, followup: FollowUp, now: datetime) -> None:
        overdue = followup.due_at < now
        shown = self.overdue if overdue else self.due_today
        if len(shown) < DIGEST_ITEM_LIMIT:
            shown.append(followup)
        if overdue:
            self.overdue_count += 1
        else:
            self.due_today_count += 1


def reminder_digests(now: datetime) -> Iterator[Digest]:
    """A digest for each active user with open follow-ups overdue or due today, from one query."""
    rows = (
        _due_by_end_of_today(now)
        .filter(assignee__is_active=True)
        .select_related("assignee", "customer")
        .order_by("assignee_id", "due_at", "id")
    )
    for _assignee_id, group in groupby(rows.iterator(chunk_size=2000), key=attrgetter("assignee_id")):
        followups = list(group)
        digest = Digest(user=followups[0].assignee)
        for followup in followups:
            digest.add(followup, now)
        yield digest
