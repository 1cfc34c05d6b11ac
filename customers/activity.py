"""A customer's last activity: the latest conversation, order event or opportunity event.

`Customer.last_activity_at` is a column kept by the services, so the list shows and sorts it from
an index: each event function and the logging of a conversation call `record_activity` in the same
transaction (it only ever moves the time forward, in one UPDATE); a correction that may move it back
(a conversation's time edited, a merge) calls `refresh_last_activity`, which recomputes it from the
records. A customer with no activity yet has its creation time. Reassignments, imports and edits of
the customer's details are not activity.
"""

from collections.abc import Mapping
from datetime import datetime

from django.apps import apps
from django.db.models import Case, DateTimeField, Max, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest

from customers.models import Customer

# (app label, model, path to the customer, the field that dates a record)
SOURCES = [
    ("followups", "Communication", "customer", "occurred_at"),
    ("orders", "OrderEvent", "order__customer", "at"),
    ("opportunities", "OpportunityEvent", "opportunity__customer", "at"),
]


def record_activity(*, customer_id: int, at: datetime) -> None:
    """Something happened with the customer at `at`: its last activity becomes `at` if later."""
    record_activities({customer_id: at})


def record_activities(latest: Mapping[int, datetime]) -> None:
    """Things happened with these customers ({customer id: the time of the latest}): the last activity
    of each becomes that time if later, in one UPDATE."""
    if not latest:
        return
    at = Case(
        *(When(pk=pk, then=Value(moment)) for pk, moment in latest.items()), output_field=DateTimeField()
    )
    Customer.objects.filter(pk__in=latest, last_activity_at__lt=at).update(last_activity_at=at)


def latest_activity() -> Greatest:
    """An expression for a customer row: its latest activity, or its creation when it has none."""
    latest = []
    for app_label, model_name, path, field in SOURCES:
        model = apps.get_model(app_label, model_name)
        newest = (
            model._base_manager.filter(**{path: OuterRef("pk")})
            .order_by()
            .values(path)
            .annotate(latest=Max(field))
            .values("latest")
        )
        latest.append(Coalesce(Subquery(newest, output_field=DateTimeField()), "created_at"))
    return Greatest("created_at", *latest, output_field=DateTimeField())


def refresh_last_activity(customers: QuerySet[Customer]) -> int:
    """Recomputes the last activity of these customers from their records (one UPDATE)."""
    return customers.update(last_activity_at=latest_activity())
