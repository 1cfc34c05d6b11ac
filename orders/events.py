"""The order's event log: one function per kind of fact, the only code that writes an OrderEvent.

Each stores the type and the facts it needs as parameters (numbers, amounts as text, codes), never a
sentence: OrderEvent.summary renders it in the reader's language. `actor` is the acting user, None for
the system. With `commit=False` a function returns the event unsaved, for callers that insert many at
once (the demo data).
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from crm.history import actor_name
from customers.activity import record_activity
from orders.models import ApprovalRequest, CreditNote, Order, OrderEvent, Payment, Status

Actor = User | None


def _event(
    order: Order,
    actor: Actor,
    type: str,
    *,
    at: datetime | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    commit: bool = True,
    **parameters: Any,
) -> OrderEvent:
    event = OrderEvent(
        order=order,
        actor=actor,
        type=type,
        at=at or timezone.now(),
        from_status=from_status,
        to_status=to_status,
        note=note,
        parameters={name: value for name, value in parameters.items() if value not in (None, "")},
    )
    if commit:
        event.save()
        record_activity(customer_id=order.customer_id, at=event.at)
    return event


def _amount(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def order_created(
    *,
    order: Order,
    actor: Actor,
    at: datetime | None = None,
    note: str = "",
    opportunity: Any = None,
    commit: bool = True,
) -> OrderEvent:
    """The order was made, by hand or by winning `opportunity` (which the event then names)."""
    source = {"id": opportunity.pk, "title": opportunity.title} if opportunity is not None else None
    return _event(
        order,
        actor,
        OrderEvent.Type.CREATED,
        at=at or order.created_at,
        to_status=Status.CREATED,
        note=note,
        opportunity=source,
        commit=commit,
    )


def order_confirmed(
    *, order: Order, actor: Actor, at: datetime | None = None, note: str = "", commit: bool = True
) -> OrderEvent:
    return _event(
        order,
        actor,
        OrderEvent.Type.CONFIRMED,
        at=at or order.confirmed_at,
        from_status=Status.CREATED,
        to_status=Status.CONFIRMED,
        note=note,
        commit=commit,
    )


def processing_started(
    *, order: Order, actor: Actor, at: datetime | None = None, note: str = "", commit: bool = True
) -> OrderEvent:
    """Fulfilment started; the event keeps the carrier and tracking number the order had then."""
    return _event(
        order,
        actor,
        OrderEvent.Type.PROCESSING_STARTED,
        at=at or order.processing_at,
        from_status=Status.CONFIRMED,
        to_status=Status.PROCESSING,
        note=note,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        commit=commit,
    )


def order_finished(
    *, order: Order, actor: Actor, at: datetime | None = None, note: str = "", commit: bool = True
) -> OrderEvent:
    """Delivered and settled; the event names the invoice issued. `note` says why, when a manager
    finished it with a balance due."""
    return _event(
        order,
        actor,
        OrderEvent.Type.FINISHED,
        at=at or order.finished_at,
        from_status=Status.PROCESSING,
        to_status=Status.FINISHED,
        note=note,
        invoice_number=order.invoice_number,
        commit=commit,
    )


def order_closed(
    *, order: Order, actor: Actor, from_status: str, at: datetime | None = None, commit: bool = True
) -> OrderEvent:
    """Cancelled or abandoned from `from_status`; the reason is the one the user gave the order."""
    return _event(
        order,
        actor,
        OrderEvent.Type.CLOSED,
        at=at or order.closed_at,
        from_status=from_status,
        to_status=Status.CLOSED,
        reason=order.close_reason,
        commit=commit,
    )


def payment_recorded(*, order: Order, actor: Actor, payment: Payment, commit: bool = True) -> OrderEvent:
    """Money received: amount, currency, method and reference of `payment`."""
    return _payment_event(order, actor, payment, OrderEvent.Type.PAYMENT_RECORDED, commit)


def refund_recorded(*, order: Order, actor: Actor, payment: Payment, commit: bool = True) -> OrderEvent:
    """Money refunded (`payment` has a negative amount; the event keeps the amount refunded)."""
    return _payment_event(order, actor, payment, OrderEvent.Type.REFUND_RECORDED, commit)


def _payment_event(order: Order, actor: Actor, payment: Payment, type: str, commit: bool) -> OrderEvent:
    return _event(
        order,
        actor,
        type,
        at=payment.paid_at,
        payment=payment.pk,
        amount=_amount(abs(payment.amount)),
        currency=order.currency,
        method=payment.method,
        reference=payment.reference,
        commit=commit,
    )


def credit_note_issued(*, order: Order, actor: Actor, credit_note: CreditNote) -> OrderEvent:
    """A credit note lowered the order's net total: its number, amount, currency and reason."""
    return _event(
        order,
        actor,
        OrderEvent.Type.CREDIT_NOTE_ISSUED,
        at=credit_note.created_at,
        credit_note=credit_note.pk,
        number=credit_note.number,
        amount=_amount(credit_note.amount),
        currency=order.currency,
        reason=credit_note.reason,
    )


def approval_requested(*, order: Order, actor: Actor, approval: ApprovalRequest) -> OrderEvent:
    """Someone asked for the order to be approved; the event keeps the total asked for and the note."""
    return _event(
        order,
        actor,
        OrderEvent.Type.APPROVAL_REQUESTED,
        at=approval.requested_at,
        note=approval.note,
        approval=approval.pk,
        total=_amount(approval.total),
        currency=approval.currency,
    )


def approval_decided(*, order: Order, actor: Actor, approval: ApprovalRequest) -> OrderEvent:
    """The request was approved or refused (by `actor`), with the answer's note."""
    granted = approval.status == ApprovalRequest.Status.APPROVED
    return _event(
        order,
        actor,
        OrderEvent.Type.APPROVAL_GRANTED if granted else OrderEvent.Type.APPROVAL_REJECTED,
        at=approval.decided_at,
        note=approval.decision_note,
        approval=approval.pk,
        requested_by=approval.requested_by_id,
    )


def approval_voided(*, order: Order, actor: Actor, approval: ApprovalRequest) -> OrderEvent:
    """A pending or granted approval no longer holds: the order's lines or money changed."""
    return _event(order, actor, OrderEvent.Type.APPROVAL_VOIDED, approval=approval.pk)


def lines_changed(*, order: Order, actor: Actor, old_total: Decimal) -> OrderEvent:
    """The lines were replaced; the event keeps the total before and after."""
    return _event(
        order,
        actor,
        OrderEvent.Type.LINES_CHANGED,
        old_total=_amount(old_total),
        new_total=_amount(order.total),
        currency=order.currency,
    )


def owner_changed(*, order: Order, actor: Actor, old_owner: User) -> OrderEvent:
    """Someone else works the order now; the event names both, as they were named then."""
    return _event(
        order,
        actor,
        OrderEvent.Type.OWNER_CHANGED,
        old_owner=actor_name(old_owner),
        old_owner_id=old_owner.pk,
        new_owner=actor_name(order.owner),
        new_owner_id=order.owner_id,
    )


def details_changed(*, order: Order, actor: Actor, fields: list[str]) -> OrderEvent:
    """Some of the order's details (shipping address, carrier, notes…) changed: which ones, by name."""
    return _event(order, actor, OrderEvent.Type.DETAILS_CHANGED, fields=sorted(fields))
