"""What automation adds to a customer's timeline (filled in with the rules)."""


def register_sources() -> None:
    """Registers the automation's timeline sources; called once from AutomationConfig.ready()."""
