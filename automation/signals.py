"""Hooks into the other apps' typed events (filled in with the webhooks)."""


def connect() -> None:
    """Connects the automation's receivers; called once from AutomationConfig.ready()."""
