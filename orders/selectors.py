"""Reads of products and orders, with visibility and the joins each page needs."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed, has_transition_perm

from crm.access import acts_as_manager
from crm.filters import start_of_day
from crm.formatting import money
from crm.history import field_changes
from customers.models import Customer
from orders.access import approvals_for, can_approve, can_change_order
from orders.models import ZERO, ApprovalRequest, Order, OrderLine, Product, Status, net_total
from orders.services import CENT, transition_problems

# What SO-/INV- numbers are made of (services.next_number), as searched: upper-cased.
NUMBER_CHARACTERS = re.compile(r"[A-Z0-9-]+")
CUSTOMER_CARD_ORDERS = 5
# Where each status's clock starts: the stamp of the transition into it.
STATUS_SINCE: dict[str, str] = {
    Status.CREATED: "created_at",
    Status.CONFIRMED: "confirmed_at",
    Status.PROCESSING: "processing_at",
}


def orders_for_list(user: User) -> QuerySet[Order]:
    return Order.objects.visible_to(user).select_related("customer", "owner")


def orders_with_number(queryset: QuerySet[Order], text: str) -> QuerySet[Order]:
    """Orders whose number (or invoice number) contains `text`; numbers are stored upper-case."""
    fragment = text.strip().upper()
    if not NUMBER_CHARACTERS.fullmatch(fragment):
        # Not a piece of any number ("王伟"): no need to read the orders to find none.
        return queryset.none()
    return queryset.filter(Q(number__contains=fragment) | Q(invoice_number__contains=fragment))


def search_orders(queryset: QuerySet[Order], text: str) -> QuerySet[Order]:
    """Orders whose number contains `text`, or whose customer's name does."""
    text = text.strip()
    if not text:
        return queryset
    customers = Customer.objects.filter(name__fragment=text).values("pk")
    return orders_with_number(queryset, text) | queryset.filter(customer__in=customers)


def order_detail(user: User, order: Order) -> dict[str, Any]:
    """What the order's page shows (the order from orders.access.access_order)."""
    return {
        "order": order,
        "lines": list(order.lines.select_related("product")),
        "payments": list(order.payments.select_related("recorded_by")),
        "credit_notes": list(order.credit_notes.select_related("created_by").prefetch_related("lines")),
        "events": list(order.events.select_related("actor").order_by("-at", "-id")),
        "actions": available_actions(user, order),
        **approval_state(user, order),
    }


def order_history(order: Order) -> list[dict[str, Any]]:
    """The changes to the order and its lines, newest first (the page loads them after itself)."""
    return field_changes(order.history.all(), OrderLine.history.filter(order=order.pk))


def approval_state(user: User, order: Order) -> dict[str, Any]:
    """The order's latest approval request, and whether `user` may ask for one now: a created order
    above the limit, changed by someone who may not approve it, with no request pending or granted."""
    latest = (
        order.approvals.select_related("requested_by", "decided_by").order_by("-requested_at", "-id").first()
    )
    may_request = (
        order.status == Status.CREATED
        and order.needs_approval
        and can_change_order(user, order)
        and not can_approve(user, order)
        and (
            latest is None or latest.status in (ApprovalRequest.Status.REJECTED, ApprovalRequest.Status.VOID)
        )
    )
    return {"approval": latest, "may_request_approval": may_request}


def approval_queue(user: User) -> QuerySet[ApprovalRequest]:
    """The requests waiting for `user`'s answer, oldest first."""
    return (
        approvals_for(user)
        .filter(status=ApprovalRequest.Status.PENDING)
        .select_related("order__customer", "order__owner", "requested_by")
        .order_by("requested_at", "id")
    )


APPROVAL_ANSWERS_DAYS = 14
APPROVAL_ANSWERS_SHOWN = 5


def approval_answers(user: User, now: datetime | None = None) -> list[ApprovalRequest]:
    """The answers to `user`'s approval requests of the last two weeks, newest first (the dashboard)."""
    since = (now or timezone.now()) - timedelta(days=APPROVAL_ANSWERS_DAYS)
    answered = (ApprovalRequest.Status.APPROVED, ApprovalRequest.Status.REJECTED)
    return list(
        ApprovalRequest.objects.filter(requested_by=user, status__in=answered, decided_at__gte=since)
        .select_related("order", "decided_by")
        .order_by("-decided_at", "-id")[:APPROVAL_ANSWERS_SHOWN]
    )


@dataclass
class Action:
    """A transition as the order page offers it: a button, or the reasons it is not available."""

    name: str
    label: str | Promise
    allowed: bool
    problems: list[str] = field(default_factory=list)
    needs_override: bool = False
    form: Any = None  # the view's form for it


ACTION_LABELS = {
    "confirm": gettext_lazy("Confirm"),
    "start_processing": gettext_lazy("Start processing"),
    "finish": gettext_lazy("Finish"),
    "close": gettext_lazy("Close"),
}


def available_actions(user: User, order: Order) -> list[Action]:
    """The transitions the order could take from its status, each allowed for `user` or not, and why."""
    if not can_change_order(user, order):
        return []
    actions = []
    for name, label in ACTION_LABELS.items():
        method = getattr(order, name)
        if not can_proceed(method, check_conditions=False):
            continue
        action = Action(name, label, allowed=True, problems=transition_problems(order, name))
        if action.problems:
            action.allowed = False
        elif not has_transition_perm(method, user):
            action.allowed = False
            action.problems.append(
                _("Above the approval limit of %(limit)s: a manager approves or confirms this order.")
                % {"limit": money(settings.ORDER_APPROVAL_LIMIT)}
            )
        elif name == "finish" and order.balance != 0:
            action.needs_override = True
            if not acts_as_manager(user):
                action.allowed = False
                action.problems.append(
                    _("The balance is %(balance)s: record the payments first, or ask a manager.")
                    % {"balance": money(order.balance)}
                )
        actions.append(action)
    return actions


def primary_action(actions: list[Action]) -> Action | None:
    """The one transition the order page puts beside its summary (on a phone, in the first screen):
    the first the user may take in one click, that is, neither closing (which asks for a reason and a
    confirmation) nor finishing with the balance open (which asks a manager for an override)."""
    return next(
        (a for a in actions if a.allowed and a.name != "close" and not a.needs_override),
        None,
    )


def customer_orders(user: User, customer: Customer) -> dict[str, Any]:
    """The customer card: the latest orders, how many there are, and the lifetime value, the net total
    of the finished orders, credit notes off (one sum per currency); two queries."""
    orders = Order.objects.visible_to(user).filter(customer=customer)
    latest = list(orders.order_by("-created_at", "-id")[:CUSTOMER_CARD_ORDERS])
    finished = Q(status=Status.FINISHED)
    per_currency = (
        orders.order_by("currency")
        .values("currency")
        .annotate(
            orders=Count("pk"),
            finished=Count("pk", filter=finished),
            amount=Sum(net_total(), filter=finished),
        )
    )
    rows = list(per_currency)
    return {
        "latest": latest,
        "count": sum(row["orders"] for row in rows),
        # SQLite sums decimals in floats: round back to the cent.
        "lifetime_values": [
            (row["currency"], row["amount"].quantize(CENT)) for row in rows if row["finished"]
        ],
    }


def balance_due() -> Q:
    """Orders with money still to collect: confirmed, processing or finished with a positive balance.

    Nothing is payable on a created order yet, and a closed one owes nothing, whatever was left unpaid.
    """
    return Q(balance__gt=0, status__in=Order.PAYABLE_STATUSES)


@dataclass(frozen=True)
class AgeingBucket:
    """Balances by the days since the order was confirmed: `first` to `last` days (None: no end)."""

    key: str
    label: str | Promise
    first: int
    last: int | None

    def condition(self, today: date) -> Q:
        """Orders confirmed on a local day `first` to `last` days before `today`."""
        condition = Q(confirmed_at__lt=start_of_day(today - timedelta(days=self.first - 1)))
        if self.last is not None:
            condition &= Q(confirmed_at__gte=start_of_day(today - timedelta(days=self.last)))
        return condition


AGEING_BUCKETS = [
    AgeingBucket("0-30", gettext_lazy("0–30 days"), 0, 30),
    AgeingBucket("31-60", gettext_lazy("31–60 days"), 31, 60),
    AgeingBucket("61-90", gettext_lazy("61–90 days"), 61, 90),
    AgeingBucket("90+", gettext_lazy("Over 90 days"), 91, None),
]


def balances_for_list(user: User) -> QuerySet[Order]:
    """The orders with a balance due that the user sees (balance_due), with their customer and owner."""
    return Order.objects.visible_to(user).filter(balance_due()).select_related("customer", "owner")


def balance_currencies(user: User) -> list[str]:
    return list(balances_for_list(user).order_by("currency").values_list("currency", flat=True).distinct())


def balances_by_currency(orders: QuerySet[Order], today: date) -> list[dict[str, Any]]:
    """Per currency, in one query: how many orders, the balance due in all, and in each ageing bucket
    (`buckets`, in AGEING_BUCKETS' order)."""
    measures: dict[str, Any] = {"orders": Count("pk"), "amount": Sum("balance")}
    for index, bucket in enumerate(AGEING_BUCKETS):
        measures[f"bucket{index}"] = Sum("balance", filter=bucket.condition(today), default=ZERO)
    rows = orders.order_by().values("currency").annotate(**measures).order_by("currency")
    summary: list[dict[str, Any]] = []
    for row in rows:
        values: dict[str, Any] = dict(row)
        buckets = [_cents(values.pop(f"bucket{index}")) for index in range(len(AGEING_BUCKETS))]
        summary.append({**values, "amount": _cents(values["amount"]), "buckets": buckets})
    return summary


def _cents(amount: Decimal | None) -> Decimal:
    """SQLite sums decimals in floats: round back to the cent."""
    return (amount or ZERO).quantize(CENT)


def days_since(moment: datetime | None, today: date) -> int | None:
    """Whole local days from `moment` to `today` (0 the same day)."""
    return None if moment is None else (today - timezone.localdate(moment)).days


def stuck_orders(status: str, older_than: timedelta, now: datetime | None = None) -> QuerySet[Order]:
    """Orders that have been in `status` (created, confirmed or processing) longer than `older_than`."""
    since = STATUS_SINCE[status]
    cutoff = (now or timezone.now()) - older_than
    return (
        Order.objects.filter(status=status, **{f"{since}__lt": cutoff})
        .select_related("customer", "owner")
        .order_by(since, "id")
    )


def stale_orders(
    older_than: timedelta, statuses: Iterable[str] = (Status.CREATED,), now: datetime | None = None
) -> QuerySet[Order]:
    """Open orders in `statuses` that have been in their status, untouched, longer than `older_than`."""
    cutoff = (now or timezone.now()) - older_than
    in_status_too_long = Q()
    for status in statuses:
        in_status_too_long |= Q(status=status, **{f"{STATUS_SINCE[status]}__lt": cutoff})
    return (
        Order.objects.filter(in_status_too_long, updated_at__lt=cutoff)
        .select_related("customer", "owner")
        .order_by("created_at", "id")
    )


def products_for_list() -> QuerySet[Product]:
    return Product.objects.all()


def search_products(queryset: QuerySet[Product], text: str) -> QuerySet[Product]:
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(sku__contains=text.upper()) | Q(name__icontains=text))


def orderable_products() -> QuerySet[Product]:
    return Product.objects.filter(active=True).order_by("sku")


def in_status_for(order: Order, now: datetime | None = None) -> timedelta:
    """How long the order has been in its current status."""
    stamp = getattr(order, STATUS_SINCE.get(order.status, "updated_at")) or order.updated_at
    return (now or timezone.now()) - stamp
