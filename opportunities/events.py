"""The opportunity's event log: one function per kind of fact, the only code that writes an
OpportunityEvent.

Each stores the type, the stages it moved between (the stage entered is the one the opportunity is
in, unless `stage` says otherwise) and the facts it needs as parameters, never a sentence:
OpportunityEvent.summary renders it in the reader's language. `actor` is the acting user, None for
the system. With `commit=False` a function returns the event unsaved, for callers that insert many at
once (the demo data).
"""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from crm.history import actor_name
from customers.activity import record_activity
from opportunities.models import Opportunity, OpportunityEvent, Stage

Actor = User | None


def _event(
    opportunity: Opportunity,
    actor: Actor,
    type: str,
    *,
    at: datetime | None = None,
    from_stage: Stage | None = None,
    to_stage: Stage | None = None,
    note: str = "",
    commit: bool = True,
    **parameters: Any,
) -> OpportunityEvent:
    event = OpportunityEvent(
        opportunity=opportunity,
        actor=actor,
        type=type,
        at=at or timezone.now(),
        from_stage=from_stage,
        to_stage=to_stage,
        note=note,
        parameters={name: value for name, value in parameters.items() if value not in (None, "")},
    )
    if commit:
        event.save()
        record_activity(customer_id=opportunity.customer_id, at=event.at)
    return event


def opportunity_created(
    *,
    opportunity: Opportunity,
    actor: Actor,
    at: datetime | None = None,
    stage: Stage | None = None,
    commit: bool = True,
) -> OpportunityEvent:
    """The opportunity entered the pipeline, in its stage."""
    return _event(
        opportunity,
        actor,
        OpportunityEvent.Type.CREATED,
        at=at or opportunity.stage_entered_at,
        to_stage=stage or opportunity.stage,
        commit=commit,
    )


def stage_moved(
    *,
    opportunity: Opportunity,
    actor: Actor,
    from_stage: Stage,
    at: datetime | None = None,
    note: str = "",
    stage: Stage | None = None,
    commit: bool = True,
) -> OpportunityEvent:
    """From one open stage to the open stage the opportunity is in now."""
    return _event(
        opportunity,
        actor,
        OpportunityEvent.Type.STAGE_MOVED,
        at=at or opportunity.stage_entered_at,
        from_stage=from_stage,
        to_stage=stage or opportunity.stage,
        note=note,
        commit=commit,
    )


def opportunity_won(
    *,
    opportunity: Opportunity,
    actor: Actor,
    from_stage: Stage,
    at: datetime | None = None,
    note: str = "",
    stage: Stage | None = None,
    commit: bool = True,
) -> OpportunityEvent:
    """Won; the event names the order it became."""
    order = opportunity.order
    return _event(
        opportunity,
        actor,
        OpportunityEvent.Type.WON,
        at=at or opportunity.stage_entered_at,
        from_stage=from_stage,
        to_stage=stage or opportunity.stage,
        note=note,
        order=order.pk if order else None,
        order_number=order.number if order else None,
        commit=commit,
    )


def opportunity_lost(
    *,
    opportunity: Opportunity,
    actor: Actor,
    from_stage: Stage,
    at: datetime | None = None,
    stage: Stage | None = None,
    commit: bool = True,
) -> OpportunityEvent:
    """Lost; the reason is the one the user gave the opportunity."""
    return _event(
        opportunity,
        actor,
        OpportunityEvent.Type.LOST,
        at=at or opportunity.stage_entered_at,
        from_stage=from_stage,
        to_stage=stage or opportunity.stage,
        reason=opportunity.lost_reason,
        commit=commit,
    )


def opportunity_reopened(
    *,
    opportunity: Opportunity,
    actor: Actor,
    from_stage: Stage,
    unlinked_order: Any = None,
    note: str = "",
    stage: Stage | None = None,
    commit: bool = True,
) -> OpportunityEvent:
    """Back in the pipeline from won or lost; a won one's order, now unlinked, is named."""
    return _event(
        opportunity,
        actor,
        OpportunityEvent.Type.REOPENED,
        at=opportunity.stage_entered_at,
        from_stage=from_stage,
        to_stage=stage or opportunity.stage,
        note=note,
        unlinked_order=unlinked_order.pk if unlinked_order else None,
        unlinked_order_number=unlinked_order.number if unlinked_order else None,
        commit=commit,
    )


def owner_changed(*, opportunity: Opportunity, actor: Actor, old_owner: User) -> OpportunityEvent:
    """Someone else works the opportunity now; the event names both, as they were named then."""
    return _event(
        opportunity,
        actor,
        OpportunityEvent.Type.OWNER_CHANGED,
        old_owner=actor_name(old_owner),
        old_owner_id=old_owner.pk,
        new_owner=actor_name(opportunity.owner),
        new_owner_id=opportunity.owner_id,
    )
