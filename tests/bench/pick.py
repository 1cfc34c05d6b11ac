"""For the benchmark: the records a user's detail pages show, or the database's row counts, as JSON.

    python -m tests.bench.pick USERNAME    # {"customer": id, "order": id, "fragment": "…"}
    python -m tests.bench.pick --counts    # {"customers.Customer": n, …}

Reads through the project's visibility rules, so a salesperson's pages are ones they may open.
"""

import json
import sys

import django


def records_of(username: str) -> dict[str, object]:
    from django.contrib.auth import get_user_model

    from customers.models import Customer
    from orders.models import Order

    user = get_user_model().objects.get(username=username)
    visible = Customer.objects.visible_to(user).order_by("pk")
    customer = visible[visible.count() // 2]
    order = Order.objects.visible_to(user).filter(customer=customer).order_by("-created_at", "-id").first()
    if order is None:
        raise SystemExit(f"{username}'s customer {customer.pk} has no order: generate the scale data first.")
    return {"customer": customer.pk, "order": order.pk, "fragment": customer.name[:3]}


def counts() -> dict[str, int]:
    from django.apps import apps

    labels = [
        "customers.Customer",
        "orders.Order",
        "orders.OrderLine",
        "orders.OrderEvent",
        "followups.Communication",
        "followups.FollowUp",
        "opportunities.Opportunity",
    ]
    return {label: apps.get_model(label).objects.count() for label in labels}


if __name__ == "__main__":
    django.setup()
    argument = sys.argv[1]
    print(json.dumps(counts() if argument == "--counts" else records_of(argument), ensure_ascii=False))
