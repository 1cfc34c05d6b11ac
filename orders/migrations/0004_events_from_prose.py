"""Order events become typed: each existing row gets its type and parameters, and the prose the
services wrote into its note ("From opportunity #361 “…”", in English or 简体中文) becomes
parameters. A closing event's note was the reason: it becomes the reason parameter. What a user typed
stays the note. Payments, which recorded no event before, get theirs.
"""

import re
from typing import Any

from django.db import migrations

TRANSITION_TYPES = {
    "confirmed": "confirmed",
    "processing": "processing_started",
    "finished": "finished",
    "closed": "closed",
}
FROM_OPPORTUNITY = [
    re.compile(r"^From opportunity #(?P<id>\d+) “(?P<title>.*)”$", re.S),
    re.compile(r"^来自商机 #(?P<id>\d+)“(?P<title>.*)”$", re.S),
]
BATCH = 1000


def convert_order_event(from_status: str, to_status: str, note: str) -> tuple[str, dict[str, Any], str]:
    """(type, parameters, note) of an event stored as from_status → to_status with a note."""
    note = note or ""
    if not from_status:
        for pattern in FROM_OPPORTUNITY:
            match = pattern.match(note.strip())
            if match:
                opportunity = {"id": int(match["id"]), "title": match["title"]}
                return "created", {"opportunity": opportunity}, ""
        return "created", {}, note
    event_type = TRANSITION_TYPES[to_status]
    if event_type == "closed":
        return event_type, ({"reason": note.strip()} if note.strip() else {}), ""
    return event_type, {}, note


def order_facts(event_type: str, order: dict[str, Any]) -> dict[str, Any]:
    """What the event of `event_type` names of the order: carrier and tracking number, the invoice."""
    if event_type == "processing_started":
        return {"carrier": order["carrier"], "tracking_number": order["tracking_number"]}
    if event_type == "finished":
        return {"invoice_number": order["invoice_number"]}
    return {}


def forwards(apps: Any, schema_editor: Any) -> None:
    OrderEvent = apps.get_model("orders", "OrderEvent")
    Payment = apps.get_model("orders", "Payment")
    pending = []
    events = OrderEvent.objects.order_by("pk").select_related("order")
    for event in events.iterator(chunk_size=BATCH):
        event.type, parameters, event.note = convert_order_event(
            event.from_status, event.to_status, event.note
        )
        order = {
            name: getattr(event.order, name) for name in ("carrier", "tracking_number", "invoice_number")
        }
        facts = {name: value for name, value in order_facts(event.type, order).items() if value}
        event.parameters = {**parameters, **facts}
        pending.append(event)
        if len(pending) >= BATCH:
            OrderEvent.objects.bulk_update(pending, ["type", "parameters", "note"])
            pending = []
    OrderEvent.objects.bulk_update(pending, ["type", "parameters", "note"])

    new_events = []
    payments = (
        Payment.objects.order_by("pk")
        .select_related("order")
        .only("pk", "amount", "method", "reference", "paid_at", "recorded_by_id", "order__currency")
    )
    for payment in payments.iterator(chunk_size=BATCH):
        new_events.append(
            OrderEvent(
                order_id=payment.order_id,
                actor_id=payment.recorded_by_id,
                at=payment.paid_at,
                type="refund_recorded" if payment.amount < 0 else "payment_recorded",
                parameters={
                    key: value
                    for key, value in {
                        "payment": payment.pk,
                        "amount": str(abs(payment.amount)),
                        "currency": payment.order.currency,
                        "method": payment.method,
                        "reference": payment.reference,
                    }.items()
                    if value
                },
            )
        )
        if len(new_events) >= BATCH:
            OrderEvent.objects.bulk_create(new_events)
            new_events = []
    OrderEvent.objects.bulk_create(new_events)


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_typed_events_and_line_history")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
