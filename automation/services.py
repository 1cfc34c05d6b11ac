"""Every write to automation rules and webhook endpoints: managers only (and the system).

Each function takes its arguments by keyword, the acting user as `actor`; bad input raises a
ValidationError keyed by field and writes nothing, a user who is not a manager gets PermissionDenied.
"""

import secrets
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from automation import rules, webhooks
from automation.models import Action, AutomationRule, Trigger, WebhookEndpoint, WebhookEvent
from crm.access import require_manager

# The fields of a rule, in the order its form shows them.
RULE_FIELDS = (
    "name",
    "enabled",
    "trigger",
    "status",
    "threshold",
    "min_amount",
    "owner",
    "action",
    "assignee",
    "user",
    "due_in_days",
    "language",
    "subject_zh",
    "body_zh",
    "subject_en",
    "body_en",
    "webhook",
)
NEEDS_THRESHOLD = {Trigger.ORDER_STUCK, Trigger.CUSTOMER_SILENT, Trigger.FOLLOWUP_OVERDUE}


def _trigger_errors(rule: AutomationRule) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if rule.trigger == Trigger.ORDER_STUCK and rule.status not in rules.STUCK_STAMPS:
        errors["status"] = [_("Choose created, confirmed or processing: the statuses an order can wait in.")]
    if rule.trigger == Trigger.ORDER_TRANSITION and rule.status not in rules.TRANSITION_STATUSES:
        errors["status"] = [
            _("Choose the status the order reaches: confirmed, processing, finished or closed.")
        ]
    if rule.trigger in NEEDS_THRESHOLD and not rule.threshold:
        errors["threshold"] = [_("This trigger needs N (at least 1).")]
    return errors


def _template_errors(rule: AutomationRule) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("subject_zh", "body_zh", "subject_en", "body_en"):
        unknown = rules.unknown_variables(getattr(rule, name))
        if unknown:
            errors[name] = [
                _("Unknown variables: %(names)s. Available: %(available)s.")
                % {
                    "names": ", ".join(f"{{{n}}}" for n in unknown),
                    "available": ", ".join(f"{{{n}}}" for n in rules.VARIABLES),
                }
            ]
    return errors


def _action_errors(rule: AutomationRule) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if rule.action == Action.EMAIL and not (
        (rule.subject_zh and rule.body_zh) or (rule.subject_en and rule.body_en)
    ):
        errors["subject_zh"] = [_("An e-mail needs a subject and a body in at least one language.")]
    if rule.action == Action.NOTIFY and not (rule.subject_zh or rule.subject_en):
        errors["subject_zh"] = [_("A notification needs a subject: it is the message.")]
    if rule.action in (Action.FOLLOWUP, Action.NOTIFY) and rule.assignee == AutomationRule.Assignee.USER:
        if rule.user is None:
            errors["user"] = [_("Choose the user.")]
        elif not rule.user.is_active:
            errors["user"] = [_("This user is no longer active.")]
    if rule.action == Action.WEBHOOK and rule.webhook is None:
        errors["webhook"] = [_("Choose the webhook endpoint to call.")]
    return errors


@transaction.atomic
def save_rule(*, actor: User | None, rule: AutomationRule | None = None, **fields: Any) -> AutomationRule:
    """Creates a rule (without `rule`) or changes one; the fields are those of RULE_FIELDS."""
    require_manager(actor)
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"Not fields of a rule: {sorted(unknown)}")
    if rule is None:
        rule = AutomationRule(created_by=actor)
    for name, value in fields.items():
        setattr(rule, name, value.strip() if isinstance(value, str) else value)
    errors = _trigger_errors(rule) | _template_errors(rule) | _action_errors(rule)
    try:
        rule.full_clean(exclude=list(errors))
    except ValidationError as error:
        errors = error.message_dict | errors
    if errors:
        raise ValidationError(errors)
    rule.save()
    return rule


@transaction.atomic
def set_rule_enabled(*, actor: User | None, rule: AutomationRule, enabled: bool) -> AutomationRule:
    require_manager(actor)
    AutomationRule.objects.filter(pk=rule.pk).update(enabled=enabled)
    rule.enabled = enabled
    return rule


ENDPOINT_FIELDS = {"url", "description", "secret", "event_types", "active"}


@transaction.atomic
def save_endpoint(
    *, actor: User | None, endpoint: WebhookEndpoint | None = None, **fields: Any
) -> WebhookEndpoint:
    """Registers a webhook endpoint (without `endpoint`) or changes one. An empty secret gets a random one."""
    require_manager(actor)
    unknown = set(fields) - ENDPOINT_FIELDS
    if unknown:
        raise TypeError(f"Not fields of an endpoint: {sorted(unknown)}")
    endpoint = endpoint or WebhookEndpoint()
    for name, value in fields.items():
        setattr(endpoint, name, value.strip() if isinstance(value, str) else value)
    endpoint.secret = endpoint.secret or secrets.token_hex(32)
    errors: dict[str, list[str]] = {}
    if urlsplit(endpoint.url).scheme not in ("http", "https"):
        errors["url"] = [_("Enter an http or https address.")]
    elif refused := webhooks.refused_address(endpoint.url):
        errors["url"] = [refused]
    events = list(endpoint.event_types or [])
    if not events or not set(events) <= set(WebhookEvent.values):
        errors["event_types"] = [_("Choose at least one of the event types offered.")]
    try:
        endpoint.full_clean(exclude=list(errors))
    except ValidationError as error:
        errors = error.message_dict | errors
    if errors:
        raise ValidationError(errors)
    endpoint.event_types = sorted(events)
    endpoint.save()
    return endpoint
