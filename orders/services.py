"""Every write to products, orders, their lines and payments.

Writes to one order are serialised by locking its row (SELECT … FOR UPDATE) for the length of the
transaction, so checks such as "refunds at most what was paid" hold however many people act at
once. A transition is applied only if the order still has the status the user acted on; otherwise
nothing is written and OrderConflict names the status it has now. The model's
ConcurrentTransitionMixin refuses, besides, any save of a copy whose status is out of date.

Each function takes its arguments by keyword, the acting user as `actor`; `None` is the system
(automation, commands, imports run by operations): it acts with managers' rights and its events and
history name no user. Who may change an order is decided in orders/access.py.
"""

import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from crm.access import require, require_manager
from crm.formatting import money
from crm.history import change_reason, set_history_context
from customers.access import can_change_customer
from customers.models import ContactMethod, Customer
from customers.services import mark_active
from orders import events
from orders.access import can_approve, require_change_order
from summaries.upkeep import count_orders, uncount_orders

if TYPE_CHECKING:
    from opportunities.models import Opportunity

from crm.models import model_field
from orders.models import (
    ZERO,
    ApprovalRequest,
    CreditNote,
    CreditNoteLine,
    DocumentCounter,
    Order,
    OrderLine,
    Payment,
    Product,
    SellerProfile,
    Status,
)

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # what DecimalField(max_digits=14, decimal_places=2) holds
ORDER_NUMBER, INVOICE_NUMBER, CREDIT_NOTE_NUMBER = "SO", "INV", "CN"
REASON_LENGTH = 300  # CreditNote.reason
APPROVAL_NOTE_LENGTH = 2000
FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of the browser and the server differ a little

# Fields an order takes at creation and while it is created; the details can change until it ends.
MONEY_FIELDS = {"currency", "discount", "tax_rate"}
DETAIL_FIELDS = {"payment_method", "shipping_address", "carrier", "tracking_number", "notes"}
ORDER_FIELDS = MONEY_FIELDS | DETAIL_FIELDS
PRODUCT_FIELDS = {"sku", "name", "series", "unit_price", "active", "external_id"}


class OrderConflict(ValidationError):
    """Someone else changed the order's status since the user saw it; nothing was written."""

    def __init__(self, order: Order) -> None:
        self.current_status = order.status
        super().__init__(
            _(
                "Someone else changed this order meanwhile: it is now “%(status)s”. "
                "Nothing was changed; check the order and try again."
            )
            % {"status": order.get_status_display()},
            code="conflict",
        )


# Money


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


def line_total(quantity: int, unit_price: Decimal, discount: Decimal = ZERO) -> Decimal:
    """quantity × unit price − discount, exact (whole quantities, prices in cents)."""
    return quantity * unit_price - discount


def compute_totals(lines: Iterable[Any], *, discount: Decimal = ZERO, tax_rate: Decimal = ZERO) -> Totals:
    """An order's totals from its lines: each line's total, summed; the order's discount off that;
    tax at `tax_rate` percent of what remains, rounded half up to the cent; and the total."""
    subtotal = sum((line_total(line.quantity, line.unit_price, line.discount) for line in lines), ZERO)
    taxable = subtotal - discount
    tax = (taxable * tax_rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return Totals(subtotal=subtotal, discount=discount, tax=tax, total=taxable + tax)


def _apply_totals(order: Order, lines: Iterable[OrderLine]) -> None:
    totals = compute_totals(lines, discount=order.discount, tax_rate=order.tax_rate)
    errors = {}
    if totals.discount > totals.subtotal:
        errors["discount"] = _("The discount cannot be more than the lines add up to (%(subtotal)s).") % {
            "subtotal": money(totals.subtotal)
        }
    elif totals.total > MAX_AMOUNT:
        errors["__all__"] = _("The order's total is too large.")
    if errors:
        raise ValidationError(errors)
    order.subtotal, order.tax, order.total = totals.subtotal, totals.tax, totals.total
    _settle(order)


def _settle(order: Order) -> None:
    """balance = net total − net paid: what the customer still owes (negative: what is owed back)."""
    order.balance = order.total - order.credited - order.paid_amount


# Who may do what


def _locked(actor: User | None, order: Order) -> Order:
    """The order as committed now, its row locked until the transaction ends.

    Raises OrderConflict when its status is no longer that of `order`, the copy the user acted on.
    """
    current = Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)
    require_change_order(actor, current)
    set_history_context(current, user=actor)
    if current.status != order.status:
        raise OrderConflict(current)
    return current


def _just(order: Order) -> QuerySet[Order]:
    """The order as a queryset: what the summaries count (summaries.upkeep)."""
    return Order.objects.filter(pk=order.pk)


# Numbers


def next_number(kind: str, at: datetime | None = None) -> str:
    """The next SO-/INV- number of the year: never handed out twice, even to concurrent transactions.

    The year's counter row stays locked until the caller's transaction ends, so creators queue for it
    for a moment; a transaction that rolls back leaves a gap, which is acceptable.
    """
    year = timezone.localdate(at).year
    DocumentCounter.objects.bulk_create([DocumentCounter(kind=kind, year=year)], ignore_conflicts=True)
    counters = DocumentCounter.objects.filter(kind=kind, year=year)
    counters.update(last=F("last") + 1)
    return f"{kind}-{year}-{counters.values_list('last', flat=True).get():06d}"


# Orders and lines


def _clean_order_fields(fields: Mapping[str, Any], allowed: set[str] = ORDER_FIELDS) -> dict[str, Any]:
    unknown = set(fields) - ORDER_FIELDS
    if unknown:
        raise TypeError(f"unknown order fields: {sorted(unknown)}")
    cleaned = {}
    for name, value in fields.items():
        if name not in allowed:
            raise ValidationError({name: _("This can no longer be changed: the order is no longer created.")})
        if isinstance(value, str):
            value = " ".join(value.split()) if name != "notes" else value.strip()
        cleaned[name] = value
    if "currency" in cleaned:
        cleaned["currency"] = (cleaned["currency"] or "").upper()
    return cleaned


def _validate_order_fields(order: Order) -> None:
    errors: dict[str, list[str]] = {}
    try:
        order.full_clean(
            exclude=["customer", "owner", "number", "status"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as error:
        errors = error.message_dict
    rules = {
        "currency": (
            lambda: len(order.currency) == 3 and order.currency.isalpha(),
            _("Enter a three-letter currency code such as CNY."),
        ),
        "tax_rate": (
            lambda: ZERO <= order.tax_rate <= 100,
            _("The tax rate is a percentage between 0 and 100."),
        ),
        "discount": (lambda: order.discount >= 0, _("The discount cannot be negative.")),
    }
    for name, (holds, message) in rules.items():
        if name not in errors and not holds():
            errors[name] = [message]
    if errors:
        raise ValidationError(errors)
    order.discount = order.discount.quantize(CENT)


def _new_lines(order: Order, lines: Sequence[Mapping[str, Any]]) -> list[OrderLine]:
    """Unsaved, validated lines from dicts of product or description, quantity, unit_price, discount.

    A product fills in the description and unit price it is missing. Raises a ValidationError with
    each bad line's messages under lines-<index>.
    """
    prepared: list[OrderLine] = []
    errors: dict[str, list[str]] = {}
    for index, spec in enumerate(lines):
        try:
            prepared.append(_new_line(order, index, **spec))
        except ValidationError as error:
            errors[f"lines-{index}"] = _line_messages(error)
    if errors:
        raise ValidationError(errors)
    return prepared


def _new_line(
    order: Order,
    index: int,
    *,
    product: Product | None = None,
    description: str = "",
    quantity: Any = None,  # as typed: validated here
    unit_price: Decimal | None = None,
    discount: Decimal | None = None,
) -> OrderLine:
    description = " ".join((description or "").split()) or (product.name if product else "")
    if unit_price is None and product is not None:
        unit_price = product.unit_price
    line = OrderLine(  # type: ignore[misc]  # the unit price may be missing: full_clean says so
        order=order,
        position=index,
        product=product,
        description=description,
        quantity=quantity,
        unit_price=unit_price,
        discount=ZERO if discount is None else discount,
        line_total=ZERO,
    )
    line.full_clean(exclude=["order", "line_total"], validate_constraints=False)
    line.unit_price, line.discount = line.unit_price.quantize(CENT), line.discount.quantize(CENT)
    errors: dict[str, str] = {}
    if product is not None and not product.active and not _already_ordered(order, product):
        errors["product"] = _("“%(product)s” is no longer sold.") % {"product": product}
    if line.quantity <= 0:
        errors["quantity"] = _("The quantity must be at least 1.")
    if line.unit_price < 0:
        errors["unit_price"] = _("The unit price cannot be negative.")
    gross = line.quantity * line.unit_price
    if line.discount < 0:
        errors["discount"] = _("The discount cannot be negative.")
    elif line.discount > gross:
        errors["discount"] = _("The discount cannot be more than quantity × unit price (%(amount)s).") % {
            "amount": money(gross)
        }
    if gross > MAX_AMOUNT:
        errors["quantity"] = _("This line's amount is too large.")
    if errors:
        raise ValidationError(errors)
    line.line_total = line_total(line.quantity, line.unit_price, line.discount)
    return line


def _already_ordered(order: Order, product: Product) -> bool:
    """A line kept while its product was withdrawn stays valid when the lines are saved again."""
    return order.pk is not None and order.lines.filter(product=product).exists()


def _line_messages(error: ValidationError) -> list[str]:
    """A line's errors, each led by the name of the field it is about."""
    if not hasattr(error, "error_dict"):
        return error.messages
    messages: list[str] = []
    for name, texts in error.message_dict.items():
        label = model_field(OrderLine, name).verbose_name if name != "__all__" else ""
        messages += [f"{label.capitalize()}: {text}" if label else text for text in texts]
    return messages


def _order_owner(
    actor: User | None, customer: Customer, owner: User | None, opportunity: "Opportunity | None"
) -> User:
    """The customer's owner by default; the deal's owner for an order won from a deal; anyone else only
    when a manager says so."""
    if owner is None:
        return customer.owner
    if owner.pk != customer.owner_id and (opportunity is None or owner.pk != opportunity.owner_id):
        require_manager(actor)
    return owner


def _may_create_for(actor: User | None, customer: Customer, opportunity: "Opportunity | None") -> bool:
    """Orders are created for one's own customers, or won from a deal one may change (an agent's deal on
    another agent's customer becomes the agent's order)."""
    if can_change_customer(actor, customer):
        return True
    from opportunities.access import can_change_opportunity

    return opportunity is not None and can_change_opportunity(actor, opportunity)


def _validated_lines(order: Order, lines: Sequence[Mapping[str, Any]]) -> list[OrderLine]:
    """Validates the order's fields and its new lines together, then sets its totals from them."""
    errors: dict[str, Any] = {}
    new_lines: list[OrderLine] = []
    try:
        _validate_order_fields(order)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    try:
        new_lines = _new_lines(order, lines)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if not errors:
        try:
            _apply_totals(order, new_lines)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    return new_lines


@transaction.atomic
def create_order(
    *,
    actor: User | None,
    customer: Customer,
    lines: Sequence[Mapping[str, Any]] = (),
    owner: User | None = None,
    note: str = "",
    opportunity: "Opportunity | None" = None,
    at: datetime | None = None,
    external_id: str = "",
    **order_fields: Any,
) -> Order:
    """A new order (status created) for `customer`, with its lines, numbered SO-YYYY-NNNNNN.

    `lines` is a sequence of dicts with product (a Product) or description, quantity, unit_price
    (default: the product's) and discount (an amount, default 0). `owner` defaults to the customer's
    owner; only managers choose another. `opportunity` is the one won into this order, which its
    first event names. Everything is validated before anything is written: a ValidationError has
    messages keyed by field, or by lines-<index> for the lines.

    `at` is when it was created, for an order brought from another system (default: now): the
    order, its number's year and its first event carry that time. `external_id` is its id there.
    """
    require(
        _may_create_for(actor, customer, opportunity), _("You may only create orders for your own customers.")
    )
    order = Order(
        customer=customer,
        owner=_order_owner(actor, customer, owner, opportunity),
        external_id=" ".join(external_id.split()),
        **_clean_order_fields(order_fields),
    )
    new_lines = _validated_lines(order, lines)
    if at is not None:
        _check_time(at, None)
    order.number = next_number(ORDER_NUMBER, at)
    set_history_context(order, user=actor)
    order.save()
    if at is not None:  # created_at is stamped on insert; the historical time replaces it
        Order.objects.filter(pk=order.pk).update(created_at=at)
        order.created_at = at
    bulk_create_with_history(new_lines, OrderLine, default_user=actor)
    events.order_created(order=order, actor=actor, note=note, opportunity=opportunity)
    return order


@transaction.atomic
def update_order(
    *,
    actor: User | None,
    order: Order,
    lines: Sequence[Mapping[str, Any]] | None = None,
    owner: User | None = None,
    **order_fields: Any,
) -> Order:
    """Change an order: its details and owner until it is finished or closed; its money fields and
    lines (replaced by `lines` when given) only while it is created. Each kind of change is an event."""
    current = _locked(actor, order)
    if current.status in (Status.FINISHED, Status.CLOSED):
        raise ValidationError(_("A finished or closed order cannot be changed."))
    uncount_orders(_just(current))
    allowed = ORDER_FIELDS if current.is_editable else DETAIL_FIELDS
    if not current.is_editable and lines is not None:
        raise ValidationError(_("Lines can be edited only while the order is created."))
    before = {name: getattr(current, name) for name in ORDER_FIELDS}
    old_owner, old_total = current.owner, current.total
    for name, value in _clean_order_fields(order_fields, allowed).items():
        setattr(current, name, value)
    if owner is not None:
        current.owner = _order_owner(actor, current.customer, owner, None)
    lines_changed = False
    if lines is None:
        _validate_order_fields(current)
        _apply_totals(current, list(current.lines.all()))
    else:
        lines_changed = _replace_lines(actor, current, _validated_lines(current, lines))
    set_history_context(
        current, user=actor, reason=change_reason("lines_changed") if lines is not None else None
    )
    current.save()
    changed = sorted(name for name in ORDER_FIELDS if getattr(current, name) != before[name])
    if lines is not None:
        events.lines_changed(order=current, actor=actor, old_total=old_total)
    if current.owner_id != old_owner.pk:
        events.owner_changed(order=current, actor=actor, old_owner=old_owner)
    if changed:
        events.details_changed(order=current, actor=actor, fields=changed)
    if lines_changed or current.total != old_total or MONEY_FIELDS & set(changed):
        _void_approvals(actor, current)
    count_orders(_just(current))
    return current


def _replace_lines(user: User | None, order: Order, new_lines: list[OrderLine]) -> bool:
    """The order's lines become `new_lines`, line by line, so that each line's history shows what
    changed: the line at each position is updated, extra ones added, missing ones removed. True when
    anything changed."""
    old_lines = list(order.lines.order_by("position", "id"))
    fields = ["position", "product", "description", "quantity", "unit_price", "discount", "line_total"]
    updated = []
    for old, new in zip(old_lines, new_lines, strict=False):
        if any(getattr(old, name) != getattr(new, name) for name in fields):
            for name in fields:
                setattr(old, name, getattr(new, name))
            updated.append(old)
    for removed in old_lines[len(new_lines) :]:
        set_history_context(removed, user=user)
        removed.delete()
    if updated:
        bulk_update_with_history(updated, OrderLine, fields, default_user=user)
    bulk_create_with_history(new_lines[len(old_lines) :], OrderLine, default_user=user)
    return bool(updated) or len(old_lines) != len(new_lines)


# The lifecycle


def ensure_status(order: Order, seen_status: str) -> None:
    """Raises OrderConflict when the order no longer has the status the user saw (if one is given)."""
    if seen_status and seen_status != order.status:
        raise OrderConflict(order)


def _check_time(at: datetime, after: datetime | None) -> None:
    """A step dated `at` (of an order brought from another system) is not in the future, nor before
    the step before it (`after`)."""
    if at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"at": _("This cannot be dated in the future.")})
    if after is not None and at < after:
        raise ValidationError(
            {
                "at": _("This cannot be dated before the order's previous step (%(time)s).")
                % {"time": timezone.localtime(after).strftime("%Y-%m-%d %H:%M")}
            }
        )


def _transition(
    actor: User | None,
    order: Order,
    name: str,
    *,
    note: str = "",
    at: datetime | None = None,
    **kwargs: Any,
) -> Order:
    """Apply one transition to the order as the user saw it, at `at` (default: now), log it, and return
    the saved order."""
    current = _locked(actor, order)
    method = getattr(current, name)
    if not can_proceed(method, check_conditions=False):
        raise ValidationError(
            _("This cannot be done to an order that is “%(status)s”.")
            % {"status": current.get_status_display()},
            code="invalid_transition",
        )
    problems = transition_problems(current, name)
    if problems:
        raise ValidationError(problems, code="incomplete")
    if actor is not None and not has_transition_perm(method, actor):
        raise PermissionDenied(
            _("This order's total is above the approval limit of %(limit)s: a manager must confirm it.")
            % {"limit": money(settings.ORDER_APPROVAL_LIMIT)}
        )
    if at is None:
        at = timezone.now()
    else:
        _check_time(at, max(filter(None, (current.created_at, current.confirmed_at, current.processing_at))))
    from_status = current.status
    uncount_orders(_just(current))
    method(at, **kwargs)
    set_history_context(current, user=actor, reason=change_reason(f"order_{current.status}"))
    try:
        current.save()
    except ConcurrentTransition:
        raise OrderConflict(Order.objects.get(pk=current.pk)) from None
    if name == "close":
        events.order_closed(order=current, actor=actor, from_status=from_status)
    else:
        TRANSITION_EVENTS[name](order=current, actor=actor, note=note)
    count_orders(_just(current))
    return current


TRANSITION_EVENTS = {
    "confirm": events.order_confirmed,
    "start_processing": events.processing_started,
    "finish": events.order_finished,
}


def transition_problems(order: Order, name: str) -> list[str]:
    """Why the order is not ready for a transition it could otherwise take (empty when it is)."""
    problems: list[str] = []
    if name == "confirm":
        if not order.lines.exists():
            problems.append(_("Add at least one line before confirming."))
        if order.total <= 0:
            problems.append(_("The total must be more than zero to confirm."))
    return problems


@transaction.atomic
def confirm_order(*, actor: User | None, order: Order, note: str = "", at: datetime | None = None) -> Order:
    """created → confirmed: the order is complete and approved (above the limit, by a manager or an
    approval). Its customer becomes Active (customers.services.mark_active).

    This and the other transitions take `at`, the time it happened, for an order brought from another
    system (default: now); it is not in the future nor before the order's previous step."""
    confirmed = _transition(actor, order, "confirm", note=note, at=at)
    mark_active(actor=actor, customer=confirmed.customer, reason="active_by_order")
    return confirmed


def won_order_fields(customer: Customer) -> dict[str, Any]:
    """What an order won from a deal starts with besides its lines: the customer's primary address
    (or its address field) to ship to, and the default tax rate (DEFAULT_TAX_RATE)."""
    addresses = customer.contact_methods.filter(type=ContactMethod.Type.ADDRESS).order_by("-is_primary", "id")
    address = next(iter(addresses.values_list("value", flat=True)[:1]), "") or customer.address
    return {"shipping_address": address[:300], "tax_rate": settings.DEFAULT_TAX_RATE}


@transaction.atomic
def start_processing(
    *,
    actor: User | None,
    order: Order,
    carrier: str = "",
    tracking_number: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Order:
    """confirmed → processing: fulfilment has started; the carrier and tracking number may come with it."""
    carrier, tracking_number = " ".join(carrier.split()), "".join(tracking_number.split())
    errors: dict[str, str] = {}
    for name, value in (("carrier", carrier), ("tracking_number", tracking_number)):
        if len(value) > Order._meta.get_field(name).max_length:
            errors[name] = _("Ensure this value has at most 100 characters.")
    if errors:
        raise ValidationError(errors)
    return _transition(
        actor, order, "start_processing", carrier=carrier, tracking_number=tracking_number, note=note, at=at
    )


@transaction.atomic
def finish_order(
    *,
    actor: User | None,
    order: Order,
    note: str = "",
    override_balance: bool = False,
    at: datetime | None = None,
) -> Order:
    """processing → finished: delivered and settled; issues the invoice number.

    The balance must be zero, unless a manager overrides that with a note saying why.
    """
    current = _locked(actor, order)
    note = (note or "").strip()
    if current.balance != 0 and current.status == Status.PROCESSING:
        if not override_balance:
            raise ValidationError(
                _("The balance is %(balance)s %(currency)s: record the payments before finishing.")
                % {"balance": money(current.balance), "currency": current.currency},
                code="balance",
            )
        require_manager(actor)
        if not note:
            raise ValidationError(
                {
                    "note": _("Say why the order is finished with a balance of %(balance)s.")
                    % {"balance": money(current.balance)}
                }
            )
    return _transition(
        actor, order, "finish", note=note, at=at, invoice_number=next_number(INVOICE_NUMBER, at)
    )


@transaction.atomic
def close_order(*, actor: User | None, order: Order, reason: str, at: datetime | None = None) -> Order:
    """created, confirmed or processing → closed: cancelled or abandoned, always with a reason."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": _("Say why the order is closed.")})
    if len(reason) > Order._meta.get_field("close_reason").max_length:
        raise ValidationError(
            {"reason": _("Keep the reason under 300 characters; add details to the notes.")}
        )
    return _transition(actor, order, "close", reason=reason, at=at)


TRANSITIONS: dict[str, Callable[..., Order]] = {
    "confirm": confirm_order,
    "start_processing": start_processing,
    "finish": finish_order,
    "close": close_order,
}


# Payments


@transaction.atomic
def record_payment(
    *,
    actor: User | None,
    order: Order,
    amount: Decimal,
    method: str,
    paid_at: datetime | None = None,
    reference: str = "",
) -> Payment:
    """Money received (a positive amount) or refunded (negative, at most what has been paid).

    Payments are taken once the order is confirmed; a closed order takes refunds only. A payment
    cannot exceed the balance.
    """
    current = _locked(actor, order)
    uncount_orders(_just(current))
    payment = _add_payment(actor, current, amount, method=method, paid_at=paid_at, reference=reference)
    count_orders(_just(current))
    return payment


def _add_payment(
    actor: User | None,
    current: Order,
    amount: Decimal,
    *,
    method: str,
    paid_at: datetime | None,
    reference: str,
    field: str = "amount",
) -> Payment:
    """Records a payment or refund on the locked order `current`; errors about the amount go to `field`."""
    payment = Payment(
        order=current,
        amount=amount,
        method=method,
        paid_at=paid_at or timezone.now(),
        reference=" ".join((reference or "").split()),
        recorded_by=actor,
    )
    payment.full_clean(exclude=["order"], validate_constraints=False)
    if payment.paid_at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"paid_at": _("A payment cannot be dated in the future.")})
    try:
        _check_payment(current, payment.amount)
    except ValidationError as error:
        if field != "amount" and hasattr(error, "error_dict") and "amount" in error.error_dict:
            raise ValidationError({field: error.error_dict["amount"]}) from None
        raise
    payment.save()
    current.paid_amount += payment.amount
    _settle(current)
    reason = change_reason("refund_recorded" if payment.is_refund else "payment_recorded")
    set_history_context(current, user=actor, reason=reason)
    current.save()
    record_event = events.refund_recorded if payment.is_refund else events.payment_recorded
    record_event(order=current, actor=actor, payment=payment)
    return payment


def _check_payment(order: Order, amount: Decimal) -> None:
    if amount == 0:
        raise ValidationError(
            {"amount": _("Enter an amount: positive for a payment, negative for a refund.")}
        )
    if amount > 0 and order.status not in Order.PAYABLE_STATUSES:
        raise ValidationError(
            _("An order that is “%(status)s” takes no payments.") % {"status": order.get_status_display()}
        )
    if amount < 0 and order.status == Status.CREATED:
        raise ValidationError(_("Nothing has been paid for this order yet."))
    if amount < 0 and -amount > order.paid_amount:
        raise ValidationError(
            {
                "amount": _("At most %(paid)s can be refunded: that is what has been paid.")
                % {"paid": money(order.paid_amount)}
            }
        )
    if amount > order.balance:
        raise ValidationError(
            {"amount": _("That is more than the balance of %(balance)s.") % {"balance": money(order.balance)}}
        )


# Approvals


OPEN_APPROVALS = (ApprovalRequest.Status.PENDING, ApprovalRequest.Status.APPROVED)


@transaction.atomic
def request_approval(*, actor: User | None, order: Order, note: str = "") -> ApprovalRequest:
    """Asks for the created order above ORDER_APPROVAL_LIMIT to be approved, with an optional note.

    One request per order is open (pending or approved) at a time; a refused or voided one may be
    followed by a new request.
    """
    current = _locked(actor, order)
    note = (note or "").strip()
    if current.status != Status.CREATED:
        raise ValidationError(_("Only an order that is not yet confirmed needs approval."))
    if not current.needs_approval:
        raise ValidationError(_("This order is within the approval limit: it can be confirmed as it is."))
    if current.approvals.filter(status__in=OPEN_APPROVALS).exists():
        raise ValidationError(_("Approval was already asked for this order."))
    if len(note) > APPROVAL_NOTE_LENGTH:
        raise ValidationError({"note": _("Keep the note under 2000 characters.")})
    approval = ApprovalRequest.objects.create(
        order=current, total=current.total, currency=current.currency, requested_by=actor, note=note
    )
    events.approval_requested(order=current, actor=actor, approval=approval)
    return approval


@transaction.atomic
def decide_approval(
    *, actor: User | None, approval: ApprovalRequest, approve: bool, note: str = ""
) -> ApprovalRequest:
    """Approves or refuses a pending request (a refusal says why); only who may approve the order
    (orders.access.can_approve) decides. The requester sees the answer on the order and dashboard."""
    order = Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=approval.order_id)
    current = ApprovalRequest.objects.select_for_update().get(pk=approval.pk)
    require(can_approve(actor, order), _("You may not approve this order."))
    note = (note or "").strip()
    if current.status != ApprovalRequest.Status.PENDING:
        raise ValidationError(
            _("This request was answered already: %(status)s.") % {"status": current.get_status_display()},
            code="conflict",
        )
    if not approve and not note:
        raise ValidationError({"note": _("Say why the approval is refused.")})
    if len(note) > APPROVAL_NOTE_LENGTH:
        raise ValidationError({"note": _("Keep the note under 2000 characters.")})
    current.status = ApprovalRequest.Status.APPROVED if approve else ApprovalRequest.Status.REJECTED
    current.decided_by, current.decided_at, current.decision_note = actor, timezone.now(), note
    current.save()
    events.approval_decided(order=order, actor=actor, approval=current)
    return current


def _void_approvals(actor: User | None, order: Order) -> None:
    """A pending or granted approval does not cover changed lines or money: it becomes void."""
    for approval in order.approvals.filter(status__in=OPEN_APPROVALS):
        approval.status, approval.decided_by, approval.decided_at = (
            ApprovalRequest.Status.VOID,
            actor,
            timezone.now(),
        )
        approval.save()
        events.approval_voided(order=order, actor=actor, approval=approval)


# Credit notes


@dataclass(frozen=True)
class Return:
    """A returned quantity of one of the order's lines."""

    line: OrderLine
    quantity: int


@transaction.atomic
def issue_credit_note(
    *,
    actor: User | None,
    order: Order,
    reason: str,
    returns: Sequence[Return] = (),
    amount: Decimal | None = None,
    description: str = "",
    refund: Decimal | None = None,
    refund_method: str = "",
    reference: str = "",
) -> CreditNote:
    """A credit note CN-YYYY-NNNNNN that lowers the order's net total, and the refund it justifies.

    Allowed on confirmed, processing and finished orders (a finished order stays finished). Its lines
    are the `returns` (each valued at its share of the order's total: discount and tax included, to
    the cent) and a free `amount` described by `description`. Together they cannot exceed the net
    total. `refund` (a positive amount, at most what was paid) is recorded in the same transaction as
    a negative payment. Nothing is written unless everything is valid.
    """
    current = _locked(actor, order)
    reason = " ".join((reason or "").split())
    if current.status not in Order.PAYABLE_STATUSES:
        raise ValidationError(
            _("An order that is “%(status)s” takes no credit notes.")
            % {"status": current.get_status_display()}
        )
    lines = _credit_lines(current, returns, amount, description)
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the credit note is issued.")
    elif len(reason) > REASON_LENGTH:
        errors["reason"] = _("Keep the reason under 300 characters.")
    if refund and not refund_method:
        errors["refund_method"] = _("Choose how the money is paid back.")
    remaining = current.total - current.credited
    credit = _within_rounding(lines, remaining)
    if credit > remaining:
        errors["__all__"] = _(
            "The credit notes cannot add up to more than the total: at most %(amount)s is left."
        ) % {"amount": money(remaining)}
    if errors:
        raise ValidationError(errors)
    uncount_orders(_just(current))
    note = CreditNote(
        number=next_number(CREDIT_NOTE_NUMBER), order=current, reason=reason, amount=credit, created_by=actor
    )
    note.save()
    for line in lines:
        line.credit_note = note
    CreditNoteLine.objects.bulk_create(lines)
    current.credited += credit
    _settle(current)
    set_history_context(current, user=actor, reason=change_reason("credit_note_issued", number=note.number))
    current.save()
    events.credit_note_issued(order=current, actor=actor, credit_note=note)
    if refund:
        _add_payment(
            actor, current, -refund, method=refund_method, paid_at=None, reference=reference, field="refund"
        )
    count_orders(_just(current))
    return note


def _credit_lines(
    order: Order, returns: Sequence[Return], amount: Decimal | None, description: str
) -> list[CreditNoteLine]:
    """The credit note's unsaved lines, validated: errors under return-<line id>, amount or __all__."""
    errors: dict[str, str] = {}
    lines: list[CreditNoteLine] = []
    returned = _returned_quantities(order)
    for item in returns:
        if item.line.order_id != order.pk:
            raise ValidationError(_("That line is not one of this order's."))
        if not item.quantity:
            continue
        left = item.line.quantity - returned.get(item.line.pk, 0)
        if not 0 < item.quantity <= left:
            errors[f"return-{item.line.pk}"] = _("At most %(left)s can be returned.") % {"left": left}
            continue
        lines.append(
            CreditNoteLine(
                order_line=item.line,
                description=item.line.description,
                quantity=item.quantity,
                amount=return_value(order, item.line, item.quantity),
            )
        )
    if amount is not None and amount != 0:
        if amount < 0:
            errors["amount"] = _("The amount cannot be negative.")
        else:
            text = " ".join((description or "").split()) or _("Amount credited")
            lines.append(CreditNoteLine(description=text[:300], amount=amount.quantize(CENT)))
    if not lines and not errors:
        errors["__all__"] = _("Enter a quantity returned or an amount to credit.")
    if errors:
        raise ValidationError(errors)
    return lines


def _within_rounding(lines: list[CreditNoteLine], remaining: Decimal) -> Decimal:
    """The lines' sum; returns whose rounded values overshoot the rest of the net total by at most a
    cent each (returning everything) are brought down to it, on the last line."""
    credit = sum((line.amount for line in lines), ZERO)
    excess = credit - remaining
    if 0 < excess <= CENT * len(lines) and lines[-1].amount > excess and lines[-1].order_line is not None:
        lines[-1].amount -= excess
        credit = remaining
    return credit


def _returned_quantities(order: Order) -> dict[int, int]:
    """How many of each of the order's lines its credit notes returned so far."""
    rows = CreditNoteLine.objects.filter(credit_note__order=order, order_line__isnull=False)
    totals: dict[int, int] = {}
    for line_id, quantity in rows.values_list("order_line", "quantity"):
        totals[line_id] = totals.get(line_id, 0) + (quantity or 0)
    return totals


def return_value(order: Order, line: OrderLine, quantity: int) -> Decimal:
    """What returning `quantity` of `line` credits: its part of the line total, times the order's
    total over its subtotal (so the order's discount and tax apply), rounded half up to the cent."""
    if not order.subtotal:
        return ZERO
    share = line.line_total * quantity / line.quantity * order.total / order.subtotal
    return share.quantize(CENT, rounding=ROUND_HALF_UP)


# The seller


SELLER_FIELDS = {"company_name", "address", "tax_number", "bank_name", "bank_account", "phone"}


@transaction.atomic
def update_seller_profile(*, actor: User | None, **fields: Any) -> SellerProfile:
    """Managers set who sells, as every settlement statement names it."""
    require_manager(actor)
    unknown = set(fields) - SELLER_FIELDS
    if unknown:
        raise TypeError(f"unknown seller fields: {sorted(unknown)}")
    profile = SellerProfile.objects.select_for_update().filter(pk=1).first() or SellerProfile(pk=1)
    for name, value in fields.items():
        setattr(profile, name, " ".join((value or "").split()))
    profile.full_clean()
    set_history_context(profile, user=actor)
    profile.save()
    return profile


# Products


def _clean_product_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - PRODUCT_FIELDS
    if unknown:
        raise TypeError(f"unknown product fields: {sorted(unknown)}")
    cleaned = dict(fields)
    for name in ("sku", "name", "series", "external_id"):
        if name in cleaned:
            cleaned[name] = " ".join((cleaned[name] or "").split())
    if "sku" in cleaned:
        cleaned["sku"] = cleaned["sku"].upper()
    return cleaned


def _save_product(actor: User | None, product: Product) -> Product:
    product.full_clean()
    set_history_context(product, user=actor)
    product.save()
    return product


@transaction.atomic
def create_product(*, actor: User | None, **fields: Any) -> Product:
    require_manager(actor)
    return _save_product(actor, Product(**_clean_product_fields(fields)))


@transaction.atomic
def update_product(*, actor: User | None, product: Product, **fields: Any) -> Product:
    require_manager(actor)
    for name, value in _clean_product_fields(fields).items():
        setattr(product, name, value)
    return _save_product(actor, product)


def generated_sku(*, name: str, external_id: str = "") -> str:
    """A SKU for a product that came without one: P- and 8 characters derived from its external id (or,
    without one, its name), so importing the same file again gives the same SKU; "-2", "-3"… follow while
    a different product (another external id, or another name) holds it. The SKU returned is free, or
    held by this same product."""
    external_id, name = " ".join(external_id.split()), " ".join(name.split())
    source = (external_id or name).casefold()
    base = "P-" + hashlib.sha256(source.encode()).hexdigest()[:8].upper()
    holders = {
        sku: (held_name, held_external_id)
        for sku, held_name, held_external_id in Product.objects.filter(sku__startswith=base).values_list(
            "sku", "name", "external_id"
        )
    }
    for number in itertools.count(1):
        sku = base if number == 1 else f"{base}-{number}"
        holder = holders.get(sku)
        if holder is None or (holder[1] == external_id if external_id else holder == (name, "")):
            return sku
    raise AssertionError("unreachable")  # itertools.count never ends
