"""What automation adds to a customer's timeline: each rule's action, "by automation rule X"."""

from automation.models import RuleFiring
from crm import timeline


def register_sources() -> None:
    """Registers the automation's timeline sources; called once from AutomationConfig.ready()."""
    timeline.register(
        timeline.Source(
            "rule_firing",
            "automation/timeline/rule_firing.html",
            RuleFiring.objects.select_related("rule"),
            "fired_at",
        )
    )
