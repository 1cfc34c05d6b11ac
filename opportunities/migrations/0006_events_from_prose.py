"""Opportunity events become typed: each existing row gets its type (created, stage moved, won, lost,
reopened) from the stages it moved between, and the prose the services wrote becomes parameters: a
lost event's note was the reason; a reopening's note ended with "Order SO-… unlinked." (or
"已解除与订单 SO-… 的关联。"), which names the order of the win before it. What a user typed stays the note.
"""

import re
from typing import Any
from itertools import groupby

from django.db import migrations

UNLINKED = [
    re.compile(r"(?:^|\s)Order (?P<number>\S+) unlinked\.$"),
    re.compile(r"(?:^|\s)已解除与订单 (?P<number>\S+) 的关联。$"),
]
BATCH = 1000


def _unlinked(note: str) -> tuple[str | None, str]:
    """The order number a reopening's note says was unlinked, and the note without that sentence."""
    for pattern in UNLINKED:
        match = pattern.search(note)
        if match:
            return match["number"], note[: match.start()].strip()
    return None, note


def convert_opportunity_events(
    events: list[tuple[str | None, str, str]], linked_order_number: str | None = None
) -> list[tuple[str, dict[str, Any], str]]:
    """(type, parameters, note) for each of one opportunity's events, given oldest first as
    (kind of the stage left or None, kind of the stage entered, note); `linked_order_number` is the
    order the opportunity is linked to now, which its last win made."""
    converted, open_win = [], None
    for from_kind, to_kind, note in events:
        note = note or ""
        if from_kind is None:
            converted.append(["created", {}, note])
        elif to_kind == "won":
            open_win = len(converted)
            converted.append(["won", {}, note])
        elif to_kind == "lost":
            converted.append(["lost", {"reason": note.strip()} if note.strip() else {}, ""])
        elif from_kind == "open":
            converted.append(["stage_moved", {}, note])
        else:
            number, note = _unlinked(note)
            parameters = {"unlinked_order_number": number} if number else {}
            if number and open_win is not None:
                converted[open_win][1]["order_number"] = number
            open_win = None
            converted.append(["reopened", parameters, note])
    if linked_order_number and open_win is not None:
        converted[open_win][1]["order_number"] = linked_order_number
    return [tuple(event) for event in converted]


def forwards(apps: Any, schema_editor: Any) -> None:
    OpportunityEvent = apps.get_model("opportunities", "OpportunityEvent")
    events = OpportunityEvent.objects.select_related("from_stage", "to_stage", "opportunity__order").order_by(
        "opportunity_id", "at", "pk"
    )
    pending = []
    for _opportunity, group in groupby(
        events.iterator(chunk_size=BATCH), key=lambda event: event.opportunity_id
    ):
        group = list(group)
        order = group[0].opportunity.order
        converted = convert_opportunity_events(
            [(e.from_stage.kind if e.from_stage else None, e.to_stage.kind, e.note) for e in group],
            order.number if order else None,
        )
        for event, (event_type, parameters, note) in zip(group, converted, strict=True):
            if parameters.get("order_number") and order and parameters["order_number"] == order.number:
                parameters["order"] = order.pk
            event.type, event.parameters, event.note = event_type, parameters, note
            pending.append(event)
        if len(pending) >= BATCH:
            OpportunityEvent.objects.bulk_update(pending, ["type", "parameters", "note"])
            pending = []
    OpportunityEvent.objects.bulk_update(pending, ["type", "parameters", "note"])


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0005_typed_events")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
