"""Reads of products and orders, with visibility and the joins each page needs."""

from dataclasses import dataclass, field

from django.db.models import Q, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed, has_transition_perm

from crm.history import field_changes
from crm.roles import is_manager
from customers.models import Customer
from orders.models import Order, Product, Status
from orders.services import CENT, can_act_on, transition_problems

CUSTOMER_CARD_ORDERS = 5
# Where each status's clock starts: the stamp of the transition into it.
STATUS_SINCE = {
    Status.CREATED: "created_at",
    Status.CONFIRMED: "confirmed_at",
    Status.PROCESSING: "processing_at",
}


def orders_for_list(user):
    return Order.objects.visible_to(user).select_related("customer", "owner")


def orders_with_number(queryset, text):
    """Orders whose number (or invoice number) contains `text`; numbers are stored upper-case."""
    fragment = text.strip().upper()
    return queryset.filter(Q(number__contains=fragment) | Q(invoice_number__contains=fragment))


def search_orders(queryset, text):
    """Orders whose number contains `text`, or whose customer's name does."""
    text = text.strip()
    if not text:
        return queryset
    customers = Customer.objects.filter(name__icontains=text).values("pk")
    return orders_with_number(queryset, text) | queryset.filter(customer__in=customers)


def get_order(user, pk):
    """The order if the user may see it; 404 otherwise, whether it exists or not."""
    orders = Order.objects.visible_to(user).select_related("customer", "owner", "source_opportunity")
    return get_object_or_404(orders, pk=pk)


def order_detail(user, pk):
    order = get_order(user, pk)
    return {
        "order": order,
        "lines": list(order.lines.select_related("product")),
        "payments": list(order.payments.select_related("recorded_by")),
        "events": list(order.events.select_related("actor").order_by("-at", "-id")),
        "history": field_changes(order.history.select_related("history_user")),
        "actions": available_actions(user, order),
    }


@dataclass
class Action:
    """A transition as the order page offers it: a button, or the reasons it is not available."""

    name: str
    label: str
    allowed: bool
    problems: list = field(default_factory=list)
    needs_override: bool = False
    form: object = None  # the view's form for it


ACTION_LABELS = {
    "confirm": gettext_lazy("Confirm"),
    "start_processing": gettext_lazy("Start processing"),
    "finish": gettext_lazy("Finish"),
    "close": gettext_lazy("Close"),
}


def available_actions(user, order):
    """The transitions the order could take from its status, each allowed for `user` or not, and why."""
    if not can_act_on(user, order):
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
            action.problems.append(_("Above the approval limit: a manager confirms this order."))
        elif name == "finish" and order.balance != 0:
            action.needs_override = True
            if not is_manager(user):
                action.allowed = False
                action.problems.append(
                    _("The balance is %(balance)s: record the payments first, or ask a manager.")
                    % {"balance": order.balance}
                )
        actions.append(action)
    return actions


def customer_orders(user, customer):
    """The customer card: the latest orders, how many there are, and the lifetime value, the total of
    the finished orders (one sum per currency)."""
    orders = Order.objects.visible_to(user).filter(customer=customer)
    finished = orders.filter(status=Status.FINISHED).order_by("currency").values("currency")
    return {
        "latest": list(orders.order_by("-created_at", "-id")[:CUSTOMER_CARD_ORDERS]),
        "count": orders.count(),
        # SQLite sums decimals in floats: round back to the cent.
        "lifetime_values": [
            (currency, amount.quantize(CENT))
            for currency, amount in finished.annotate(amount=Sum("total")).values_list("currency", "amount")
        ],
    }


def balance_due() -> Q:
    """Orders with money still to collect: a closed order owes nothing, whatever was left unpaid."""
    return Q(balance__gt=0) & ~Q(status=Status.CLOSED)


def stuck_orders(status, older_than, now=None):
    """Orders that have been in `status` (created, confirmed or processing) longer than `older_than`."""
    since = STATUS_SINCE[status]
    cutoff = (now or timezone.now()) - older_than
    return (
        Order.objects.filter(status=status, **{f"{since}__lt": cutoff})
        .select_related("customer", "owner")
        .order_by(since, "id")
    )


def stale_orders(older_than, statuses=(Status.CREATED,), now=None):
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


def products_for_list():
    return Product.objects.all()


def search_products(queryset, text):
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(sku__contains=text.upper()) | Q(name__icontains=text))


def orderable_products():
    return Product.objects.filter(active=True).order_by("sku")


def in_status_for(order, now=None):
    """How long the order has been in its current status."""
    stamp = getattr(order, STATUS_SINCE.get(order.status, "updated_at")) or order.updated_at
    return (now or timezone.now()) - stamp
