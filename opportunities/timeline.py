"""Opportunities on the customer timeline: each one's creation and every stage change, win, loss and
reopening (see crm/timeline.py)."""

from crm import timeline
from opportunities.models import OpportunityEvent


def register_sources():
    timeline.register(
        timeline.Source(
            "opportunity_event",
            "opportunities/timeline/opportunity_event.html",
            OpportunityEvent.objects.select_related("opportunity", "actor", "from_stage", "to_stage"),
            "at",
            customer_path="opportunity__customer",
        )
    )
