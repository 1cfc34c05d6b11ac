"""Reads of the automation pages. Only managers reach them (automation/views.py)."""

from django.db.models import Count, QuerySet

from automation.models import AutomationRule, OutgoingEmail, WebhookDelivery, WebhookEndpoint


def outbox() -> QuerySet[OutgoingEmail]:
    return OutgoingEmail.objects.select_related("customer", "rule")


def rules() -> QuerySet[AutomationRule]:
    return AutomationRule.objects.select_related("owner", "user", "webhook")


def rules_for_list() -> QuerySet[AutomationRule]:
    return rules().annotate(firings_count=Count("firings"))


def endpoints() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.all()


def deliveries(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.all()
