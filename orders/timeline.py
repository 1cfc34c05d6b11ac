"""Orders on the customer timeline: every step of each order's life (see crm/timeline.py)."""

from crm import timeline
from orders.models import OrderEvent


def register_sources():
    timeline.register(
        timeline.Source(
            "order_event",
            "orders/timeline/order_event.html",
            OrderEvent.objects.select_related("order", "actor"),
            "at",
            customer_path="order__customer",
        )
    )
