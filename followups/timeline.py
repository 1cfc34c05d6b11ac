"""Communications and follow-ups on the customer timeline."""

from crm import timeline
from followups.models import Communication, FollowUp


def register_sources():
    timeline.register(
        timeline.Source(
            "communication",
            "followups/timeline/communication.html",
            Communication.objects.select_related("staff", "contact_person", "order", "opportunity"),
            "occurred_at",
        )
    )
    # A follow-up shows when it was scheduled (with its due time and current state) and when it was done.
    timeline.register(
        timeline.Source(
            "followup_scheduled",
            "followups/timeline/followup_scheduled.html",
            FollowUp.objects.select_related("assignee", "created_by", "order", "opportunity"),
            "created_at",
        )
    )
    timeline.register(
        timeline.Source(
            "followup_done",
            "followups/timeline/followup_done.html",
            FollowUp.objects.select_related("completed_by", "order", "opportunity"),
            "completed_at",
        )
    )
