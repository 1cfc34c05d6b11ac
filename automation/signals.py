"""Webhook events from the other apps' typed events (OrderEvent, OpportunityEvent) and customers.

Each receiver runs inside the transaction that wrote the event, so a delivery exists exactly when
the change it reports committed. Rows inserted in bulk (the demo data) send no webhooks.
"""

from typing import Any

from django.db.models.signals import post_save

from automation.models import WebhookEvent
from automation.webhooks import queue_event
from customers.models import Customer
from opportunities.models import OpportunityEvent
from orders.models import OrderEvent


def _order_event(sender: type[OrderEvent], instance: OrderEvent, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    order = instance.order
    facts: dict[str, Any] = {
        "order": {
            "id": order.pk,
            "number": order.number,
            "customer_id": order.customer_id,
            "status": order.status,
            "total": order.total,
            "currency": order.currency,
        }
    }
    if instance.type in OrderEvent.STATUS_TYPES:
        facts |= {"from_status": instance.from_status, "to_status": instance.to_status, "note": instance.note}
        queue_event(WebhookEvent.ORDER_STATUS_CHANGED, facts, instance.at)
    elif instance.type in (OrderEvent.Type.PAYMENT_RECORDED, OrderEvent.Type.REFUND_RECORDED):
        parameters = instance.parameters
        facts["payment"] = {
            "id": parameters.get("payment"),
            "amount": parameters.get("amount"),
            "currency": parameters.get("currency"),
            "method": parameters.get("method"),
            "refund": instance.type == OrderEvent.Type.REFUND_RECORDED,
        }
        queue_event(WebhookEvent.PAYMENT_RECORDED, facts, instance.at)


def _opportunity_event(
    sender: type[OpportunityEvent], instance: OpportunityEvent, created: bool, **kwargs: Any
) -> None:
    types = {
        OpportunityEvent.Type.WON: WebhookEvent.OPPORTUNITY_WON,
        OpportunityEvent.Type.LOST: WebhookEvent.OPPORTUNITY_LOST,
    }
    if not created or instance.type not in types:
        return
    opportunity = instance.opportunity
    facts = {
        "opportunity": {
            "id": opportunity.pk,
            "title": opportunity.title,
            "customer_id": opportunity.customer_id,
            "amount": opportunity.amount,
        },
        **instance.parameters,
    }
    queue_event(types[OpportunityEvent.Type(instance.type)], facts, instance.at)


def _customer_saved(sender: type[Customer], instance: Customer, created: bool, **kwargs: Any) -> None:
    facts = {
        "customer": {
            "id": instance.pk,
            "name": instance.name,
            "kind": instance.kind,
            "lifecycle_stage": instance.lifecycle_stage,
            "owner_id": instance.owner_id,
        }
    }
    queue_event(WebhookEvent.CUSTOMER_CREATED if created else WebhookEvent.CUSTOMER_UPDATED, facts)


def connect() -> None:
    """Connects the receivers; called once from AutomationConfig.ready()."""
    post_save.connect(_order_event, sender=OrderEvent, dispatch_uid="automation.order_event")
    post_save.connect(
        _opportunity_event, sender=OpportunityEvent, dispatch_uid="automation.opportunity_event"
    )
    post_save.connect(_customer_saved, sender=Customer, dispatch_uid="automation.customer_saved")
