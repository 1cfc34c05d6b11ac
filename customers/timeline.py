"""The customer's own entries on its timeline: needs raised and resolved, and changes to its fields,
its tags, its contact methods and its contact persons."""

from django.db.models import Model, QuerySet

from crm import timeline
from crm.history import describe_changes, read_window
from customers.models import ContactMethod, ContactPerson, Customer, Need


class FieldChangesSource(timeline.Source):
    """Changes to the customer's fields, or to records of one kind that are part of it: each history
    record against the one before it (one query, see crm.history.read_window)."""

    def __init__(self, kind: str, template: str, history: QuerySet, customer_path: str = "customer") -> None:
        super().__init__(kind, template, history, "history_date", customer_path=customer_path)

    def entries(self, customer: Model, cursor: timeline.Cursor | None, limit: int) -> list[timeline.Entry]:
        records, previous = read_window(self.window(customer, cursor, limit))
        described = describe_changes(records, previous, main_model=Customer.history.model)
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
            "customer_change", "customers/timeline/customer_change.html", Customer.history.all(), "id"
        )
    )
    for kind, history in (
        ("contact_method_change", ContactMethod.history.all()),
        ("contact_person_change", ContactPerson.history.all()),
    ):
        timeline.register(FieldChangesSource(kind, "customers/timeline/part_change.html", history))
