"""Running automation rules: what each trigger matches, and acting once per occurrence.

A trigger yields matches: a record (an order, a customer, an opportunity, a follow-up), the customer
it belongs to, and an *occurrence*, the fact the rule reacts to (the order's entry into its status,
the customer's last conversation, an event's id…). A rule acts on a match at most once: the firing
row (RuleFiring, unique on rule, record and occurrence) is inserted in the same transaction as the
action, so a second run, or two workers at once, cannot act twice; an action that fails rolls its
firing back, and the next run tries again. The system acts (actor None); every action leaves the
firing on the customer's timeline, "by automation rule X".

Event triggers (order transitions, opportunities won or lost) read the typed events (OrderEvent,
OpportunityEvent) recorded since the rule was created, within the last EVENT_WINDOW.
"""

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.scope import leads_of
from automation.models import Action, AutomationRule, OutgoingEmail, RuleFiring, Trigger
from automation.notifications import notify
from automation.outbox import queue_email
from customers.models import ContactMethod, Customer
from followups.models import FollowUp
from opportunities.models import Opportunity, OpportunityEvent
from orders.models import Order, OrderEvent, Status

logger = logging.getLogger(__name__)

# Event triggers look this far back (and never before the rule was created).
EVENT_WINDOW = timedelta(days=7)
# A rule acts at most this many times per run; the rest waits for the next run.
MAX_FIRINGS_PER_RUN = 200

# The time stamp of an order's entry into each status it can be stuck in.
STUCK_STAMPS: dict[str, str] = {
    Status.CREATED: "created_at",
    Status.CONFIRMED: "confirmed_at",
    Status.PROCESSING: "processing_at",
}
TRANSITION_STATUSES: tuple[str, ...] = (Status.CONFIRMED, Status.PROCESSING, Status.FINISHED, Status.CLOSED)

VARIABLES = (
    "customer",
    "owner",
    "order_number",
    "order_total",
    "currency",
    "status",
    "carrier",
    "tracking_number",
    "opportunity",
    "amount",
    "followup",
    "due",
)
VARIABLE = re.compile(r"\{(\w+)\}")


@dataclass
class Match:
    record_type: str
    record: models.Model
    occurrence: str
    customer: Customer
    owner: User
    order: Order | None = None
    opportunity: Opportunity | None = None
    variables: dict[str, str] = field(default_factory=dict)


@dataclass
class RunResult:
    rule: AutomationRule
    matched: int = 0
    fired: int = 0
    failed: int = 0
    matches: list[Match] = field(default_factory=list)


def _money(value: Decimal) -> str:
    return formats.number_format(value, 2, use_l10n=True, force_grouping=True)


def _order_match(order: Order, occurrence: str) -> Match:
    return Match(
        "order",
        order,
        occurrence,
        order.customer,
        order.owner,
        order=order,
        variables={
            "order_number": order.number,
            "order_total": _money(order.total),
            "currency": order.currency,
            "status": str(order.get_status_display()),
            "carrier": order.carrier,
            "tracking_number": order.tracking_number,
        },
    )


def _opportunity_match(opportunity: Opportunity, occurrence: str) -> Match:
    return Match(
        "opportunity",
        opportunity,
        occurrence,
        opportunity.customer,
        opportunity.owner,
        opportunity=opportunity,
        variables={"opportunity": opportunity.title, "amount": _money(opportunity.amount)},
    )


def _conditions(rule: AutomationRule, owner_field: str, amount_field: str | None) -> Q:
    q = Q()
    if rule.owner_id:
        q &= Q(**{owner_field: rule.owner_id})
    if rule.min_amount is not None and amount_field:
        q &= Q(**{f"{amount_field}__gte": rule.min_amount})
    return q


def _orders_stuck(rule: AutomationRule) -> Iterator[Match]:
    stamp = STUCK_STAMPS.get(rule.status)
    if stamp is None or rule.threshold is None:
        return
    cutoff = timezone.now() - timedelta(hours=rule.threshold)
    orders = Order.objects.filter(
        _conditions(rule, "owner", "total"), status=rule.status, **{f"{stamp}__lt": cutoff}
    )
    for order in orders.select_related("customer", "owner").order_by(stamp, "pk"):
        yield _order_match(order, f"{rule.status}@{getattr(order, stamp).isoformat()}")


def _customers_silent(rule: AutomationRule) -> Iterator[Match]:
    if rule.threshold is None:
        return
    cutoff = timezone.now() - timedelta(days=rule.threshold)
    customers = (
        Customer.objects.filter(_conditions(rule, "owner", None), lifecycle_stage=Customer.Lifecycle.ACTIVE)
        .annotate(last_contact=Max("communications__occurred_at"))
        .filter(Q(last_contact__lt=cutoff) | Q(last_contact__isnull=True, created_at__lt=cutoff))
        .select_related("owner")
        .order_by("pk")
    )
    for customer in customers:
        since = customer.last_contact or customer.created_at
        yield Match("customer", customer, f"silent since {since.isoformat()}", customer, customer.owner)


def _opportunities_overdue(rule: AutomationRule) -> Iterator[Match]:
    today = timezone.localdate()
    opportunities = (
        Opportunity.objects.open()
        .filter(_conditions(rule, "owner", "amount"), expected_close_date__lt=today)
        .select_related("customer", "owner")
        .order_by("expected_close_date", "pk")
    )
    for opportunity in opportunities:
        match = _opportunity_match(opportunity, f"close {opportunity.expected_close_date.isoformat()}")
        match.variables["due"] = formats.date_format(opportunity.expected_close_date, "SHORT_DATE_FORMAT")
        yield match


def _followups_overdue(rule: AutomationRule) -> Iterator[Match]:
    if rule.threshold is None:
        return
    cutoff = timezone.now() - timedelta(days=rule.threshold)
    followups = (
        FollowUp.objects.open()
        .filter(_conditions(rule, "assignee", None), due_at__lt=cutoff)
        .select_related("customer", "assignee", "order", "opportunity")
        .order_by("due_at", "pk")
    )
    for followup in followups:
        due = timezone.localtime(followup.due_at)
        yield Match(
            "followup",
            followup,
            f"due {followup.due_at.isoformat()}",
            followup.customer,
            followup.assignee,
            order=followup.order,
            opportunity=followup.opportunity,
            variables={
                "followup": followup.subject,
                "due": formats.date_format(due, "SHORT_DATETIME_FORMAT"),
            },
        )


def _since(rule: AutomationRule) -> Any:
    return max(rule.created_at, timezone.now() - EVENT_WINDOW)


def _order_events(rule: AutomationRule, **which: Any) -> Iterator[Match]:
    """The orders of the typed events `which` selects, recorded since the rule began: one per event."""
    events = (
        OrderEvent.objects.filter(
            _conditions(rule, "order__owner", "order__total"), at__gte=_since(rule), **which
        )
        .select_related("order__customer", "order__owner")
        .order_by("at", "pk")
    )
    for event in events:
        yield _order_match(event.order, f"event {event.pk}")


def _order_transitions(rule: AutomationRule) -> Iterator[Match]:
    if rule.status in TRANSITION_STATUSES:
        yield from _order_events(rule, type__in=OrderEvent.STATUS_TYPES, to_status=rule.status)


def _approvals_requested(rule: AutomationRule) -> Iterator[Match]:
    yield from _order_events(rule, type=OrderEvent.Type.APPROVAL_REQUESTED)


def _opportunity_outcomes(rule: AutomationRule, type: str) -> Iterator[Match]:
    events = (
        OpportunityEvent.objects.filter(
            _conditions(rule, "opportunity__owner", "opportunity__amount"), type=type, at__gte=_since(rule)
        )
        .select_related("opportunity__customer", "opportunity__owner")
        .order_by("at", "pk")
    )
    for event in events:
        yield _opportunity_match(event.opportunity, f"event {event.pk}")


def candidates(rule: AutomationRule) -> Iterator[Match]:
    """Every record the rule's trigger and conditions match now, fired before or not."""
    match rule.trigger:
        case Trigger.ORDER_STUCK:
            yield from _orders_stuck(rule)
        case Trigger.CUSTOMER_SILENT:
            yield from _customers_silent(rule)
        case Trigger.OPPORTUNITY_OVERDUE:
            yield from _opportunities_overdue(rule)
        case Trigger.FOLLOWUP_OVERDUE:
            yield from _followups_overdue(rule)
        case Trigger.ORDER_TRANSITION:
            yield from _order_transitions(rule)
        case Trigger.OPPORTUNITY_WON:
            yield from _opportunity_outcomes(rule, OpportunityEvent.Type.WON)
        case Trigger.OPPORTUNITY_LOST:
            yield from _opportunity_outcomes(rule, OpportunityEvent.Type.LOST)
        case Trigger.APPROVAL_REQUESTED:
            yield from _approvals_requested(rule)


def pending_matches(rule: AutomationRule) -> list[Match]:
    """The matches the rule has not acted on yet: what a run would act on now."""
    matches = list(candidates(rule))
    fired = set(
        RuleFiring.objects.filter(rule=rule, record_id__in={m.record.pk for m in matches}).values_list(
            "record_type", "record_id", "occurrence"
        )
    )
    return [m for m in matches if (m.record_type, m.record.pk, m.occurrence) not in fired]


# --- templates -------------------------------------------------------------------------------


def unknown_variables(text: str) -> list[str]:
    return sorted({name for name in VARIABLE.findall(text) if name not in VARIABLES})


def render(text: str, variables: dict[str, str]) -> str:
    """`text` with each {variable} replaced by its value (empty when the record has none)."""
    return VARIABLE.sub(lambda found: variables.get(found.group(1), found.group(0)), text)


def variables_of(match: Match) -> dict[str, str]:
    defaults = dict.fromkeys(VARIABLES, "")
    owner = match.owner.get_full_name() or match.owner.get_username()
    return defaults | {"customer": match.customer.name, "owner": owner} | match.variables


def message(rule: AutomationRule, match: Match | None, language: str) -> tuple[str, str]:
    """The rule's subject and body in `language` (the other language's when that one is empty), with
    the match's values (or the variables' names, without a match)."""
    chinese = language.startswith("zh")
    subject = (rule.subject_zh if chinese else rule.subject_en) or rule.subject_en or rule.subject_zh
    body = (rule.body_zh if chinese else rule.body_en) or rule.body_en or rule.body_zh
    if match is None:
        return subject, body
    values = variables_of(match)
    return render(subject, values), render(body, values)


# --- actions ---------------------------------------------------------------------------------


def _target(rule: AutomationRule, match: Match) -> User:
    if rule.assignee == AutomationRule.Assignee.USER and rule.user is not None:
        return rule.user
    if rule.assignee == AutomationRule.Assignee.TEAM_LEAD:
        # The first active lead of the owner's team; the owner when the team has none (or no team).
        lead = User.objects.filter(pk__in=leads_of(match.owner.pk)).order_by("pk").first()
        if lead is not None:
            return lead
    return match.owner


def _customer_email(customer: Customer) -> str:
    method = (
        ContactMethod.objects.filter(customer=customer, type=ContactMethod.Type.EMAIL)
        .order_by("-is_primary", "id")
        .first()
    )
    return method.value if method else ""


def _create_followup(rule: AutomationRule, match: Match) -> dict[str, Any]:
    from followups.services import schedule_followup

    subject, body = message(rule, match, settings.LANGUAGE_CODE)
    with translation.override(settings.LANGUAGE_CODE):
        notes = _("Created by automation rule %(rule)s.") % {"rule": rule.name}
    followup = schedule_followup(
        actor=None,
        customer=match.customer,
        subject=" ".join(subject.split())[:200] or rule.name,
        notes="\n\n".join(part for part in (body, notes) if part),
        due_at=timezone.now() + timedelta(days=rule.due_in_days),
        assignee=_target(rule, match),
        order=match.order,
        opportunity=match.opportunity,
    )
    return {"followup": followup.pk, "subject": followup.subject}


def _email_customer(rule: AutomationRule, match: Match) -> dict[str, Any]:
    to = _customer_email(match.customer)
    if not to:
        return {"skipped": "no email"}
    subject, body = message(rule, match, rule.language)
    email = queue_email(
        kind=OutgoingEmail.Kind.CUSTOMER,
        to=to,
        subject=subject,
        body=body,
        customer=match.customer,
        order=match.order,
        staff=match.owner,
        rule=rule,
    )
    return {"email": email.pk, "to": to}


def _notify(rule: AutomationRule, match: Match) -> dict[str, Any]:
    subject, _body = message(rule, match, settings.LANGUAGE_CODE)
    user = _target(rule, match)
    url = match.record.get_absolute_url() if hasattr(match.record, "get_absolute_url") else ""
    notification = notify(user=user, message=subject or rule.name, url=url)
    return {"notification": notification.pk, "user": user.get_username()}


def _call_webhook(rule: AutomationRule, match: Match) -> dict[str, Any]:
    from automation.webhooks import payload, queue_delivery

    if rule.webhook is None:
        raise LookupError("The rule names no webhook endpoint.")
    data = {
        "rule": {"id": rule.pk, "name": rule.name, "trigger": rule.trigger},
        "record": {"type": match.record_type, "id": match.record.pk},
        "occurrence": match.occurrence,
        "customer": {"id": match.customer.pk, "name": match.customer.name},
        "variables": variables_of(match),
    }
    row = queue_delivery(endpoint=rule.webhook, document=payload("automation.rule_fired", data))
    return {"delivery": row.pk}


ACTIONS = {
    Action.FOLLOWUP: _create_followup,
    Action.EMAIL: _email_customer,
    Action.NOTIFY: _notify,
    Action.WEBHOOK: _call_webhook,
}


def fire(rule: AutomationRule, match: Match) -> bool:
    """Acts on one match, once: False when the occurrence had been acted on (or is being, elsewhere)."""
    try:
        with transaction.atomic():
            firing = RuleFiring.objects.create(
                rule=rule,
                record_type=match.record_type,
                record_id=match.record.pk,
                occurrence=match.occurrence,
                customer=match.customer,
                action=rule.action,
            )
            firing.outcome = ACTIONS[Action(rule.action)](rule, match)
            firing.save(update_fields=["outcome"])
    except IntegrityError:
        return False
    return True


def run_rule(rule: AutomationRule, *, dry_run: bool = False) -> RunResult:
    result = RunResult(rule)
    matches = pending_matches(rule)
    result.matched, result.matches = len(matches), matches
    if dry_run:
        return result
    for match in matches[:MAX_FIRINGS_PER_RUN]:
        try:
            result.fired += fire(rule, match)
        except (ValidationError, LookupError) as error:
            logger.warning(
                "Rule %s could not act on %s %s: %s", rule.pk, match.record_type, match.record.pk, error
            )
            result.failed += 1
    AutomationRule.objects.filter(pk=rule.pk).update(last_run_at=timezone.now())
    return result


def run_rules(*, rule_id: int | None = None, dry_run: bool = False) -> list[RunResult]:
    """Runs every enabled rule (or the rule `rule_id`, enabled or not) once; the system acts."""
    rules = AutomationRule.objects.select_related("user", "webhook")
    rules = rules.filter(pk=rule_id) if rule_id is not None else rules.filter(enabled=True)
    return [run_rule(rule, dry_run=dry_run) for rule in rules.order_by("pk")]
