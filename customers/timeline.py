"""The customer's own entries on its timeline: needs raised and resolved, and changes to its fields."""

from crm import timeline
from crm.history import describe_changes
from customers.models import Customer, Need


class FieldChangesSource(timeline.Source):
    """Changes to the customer's fields: each history record, against the one before it."""

    def entries(self, customer, cursor, limit):
        # One record more than asked for: the oldest entry needs the record before it.
        described = describe_changes(self.rows(customer, cursor, limit + 1))[:limit]
        return [
            timeline.Entry(d["record"].history_date, self.kind, d["record"].pk, self.template, d)
            for d in described
        ]


def register_sources():
    timeline.register(
        timeline.Source(
            "need_raised",
            "customers/timeline/need_raised.html",
            Need.objects.select_related("raised_by"),
            "raised_at",
        )
    )
    timeline.register(
        timeline.Source(
            "need_resolved", "customers/timeline/need_resolved.html", Need.objects.all(), "resolved_at"
        )
    )
    timeline.register(
        FieldChangesSource(
            "customer_change",
            "customers/timeline/customer_change.html",
            Customer.history.select_related("history_user"),
            "history_date",
            customer_path="id",
        )
    )
