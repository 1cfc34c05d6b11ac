"""Every write to communications and follow-ups.

Each function takes its arguments by keyword, the acting user as `actor`; `None` is the system
(automation, commands), which acts with managers' rights and is named by no history row. Bad input
raises ValidationError keyed by field and writes nothing; acting on a follow-up one may not touch
raises PermissionDenied (who may is decided in followups/access.py). Every change is kept in the
records' field history.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.names import display_name
from crm.access import can_see, require_manager
from crm.history import change_reason, set_history_context
from customers.activity import record_activity, refresh_last_activity
from customers.models import Customer
from customers.services import touch_customer
from followups import selectors
from followups.access import may_add_to, require_change_communication, require_change_followup
from followups.models import Communication, FollowUp, ReminderDigest

logger = logging.getLogger(__name__)

# A communication is logged after it happened; a little clock skew is forgiven.
FUTURE_GRACE = timedelta(minutes=5)


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _text(text: str | None) -> str:
    return (text or "").strip()


def _now_to_the_minute() -> datetime:
    """Times are entered to the minute: a time within the current minute has not passed yet."""
    return timezone.now().replace(second=0, microsecond=0)


def _model_errors(instance: models.Model, exclude: list[str]) -> dict[str, list[str]]:
    """What the model's own field validation (lengths, choices) says, keyed by field."""
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as error:
        return error.message_dict
    return {}


def _check_link_names(model: type[Communication] | type[FollowUp], links: Mapping[str, Any]) -> None:
    unknown = set(links) - set(model.LINK_FIELDS)
    if unknown:
        raise TypeError(f"{model.__name__} has no links {sorted(unknown)}")


def _link_errors(
    model: type[Communication] | type[FollowUp],
    actor: User | None,
    customer: Customer,
    links: Mapping[str, Any],
) -> dict[str, list[str]]:
    """Each optional link (model.LINK_FIELDS) must be a record of the same customer that the user sees.

    Whatever is wrong, the message is the same: it does not tell whether someone else's record exists.
    """
    _check_link_names(model, links)
    return {
        name: [_("Choose one of this customer's records.")]
        for name, record in links.items()
        if record is not None and not (record.customer_id == customer.pk and can_see(actor, record))
    }


def _require_customer(actor: User | None, customer: Customer, links: Mapping[str, Any]) -> None:
    if not may_add_to(actor, customer, links):
        raise ValidationError({"customer": _("Choose one of your own customers.")})


def _save(actor: User | None, instance: Communication | FollowUp, reason: str | None = None) -> Any:
    set_history_context(instance, user=actor, reason=reason)
    instance.save()
    return instance


def _new_communication(
    actor: User | None,
    customer: Customer,
    *,
    staff: User | None,
    channel: str,
    subject: str,
    content: str,
    occurred_at: datetime | None,
    direction: str,
    outcome: str,
    links: Mapping[str, Any],
) -> tuple[Communication, dict[str, list[str]]]:
    _check_link_names(Communication, links)
    staff = staff or actor
    if staff is not None and (actor is None or staff.pk != actor.pk):
        require_manager(actor)
    communication = Communication(
        customer=customer,
        staff=staff,
        channel=channel,
        direction=direction,
        occurred_at=occurred_at or timezone.now(),
        subject=_one_line(subject),
        content=_text(content),
        outcome=_one_line(outcome),
        **links,
    )
    errors = _communication_errors(actor, communication)
    if staff is None:
        errors["staff"] = [_("Say who talked to the customer.")]
    return communication, errors


def _links(record: Communication | FollowUp) -> dict[str, models.Model | None]:
    return {name: getattr(record, name) for name in record.LINK_FIELDS}


def _communication_errors(actor: User | None, communication: Communication) -> dict[str, list[str]]:
    """What is wrong with a communication about to be saved, keyed by field."""
    errors = _model_errors(communication, exclude=["customer", "staff", *Communication.LINK_FIELDS])
    if not communication.subject:
        errors["subject"] = [_("Enter a subject.")]
    if not communication.content:
        errors["content"] = [_("Write down what was said.")]
    if communication.occurred_at > timezone.now() + FUTURE_GRACE:
        errors["occurred_at"] = [_("This is in the future: schedule a follow-up for it instead.")]
    return errors | _link_errors(Communication, actor, communication.customer, _links(communication))


def due_errors(due_at: datetime | None) -> dict[str, list[str]]:
    """What is wrong with a follow-up's due time, keyed by field: forms check it early with the rest."""
    if due_at is None:
        return {"due_at": [_("Enter when it is due.")]}
    if due_at < _now_to_the_minute():
        return {"due_at": [_("This time has passed: choose a time from now on.")]}
    return {}


def _assignee_errors(assignee: User | None) -> dict[str, list[str]]:
    if assignee is None or not assignee.is_active:
        return {"assignee": [_("Choose an active user.")]}
    return {}


def _new_followup(
    actor: User | None,
    customer: Customer,
    *,
    subject: str,
    due_at: datetime | None,
    assignee: User | None = None,
    priority: str = FollowUp.Priority.NORMAL,
    notes: str = "",
    **links: Any,
) -> tuple[FollowUp, dict[str, list[str]]]:
    _check_link_names(FollowUp, links)
    followup = FollowUp(  # type: ignore[misc]  # the due time may be missing: _followup_errors says so
        customer=customer,
        subject=_one_line(subject),
        notes=_text(notes),
        due_at=due_at,
        assignee=assignee or actor,
        priority=priority,
        created_by=actor,
        **links,
    )
    return followup, _followup_errors(actor, followup, due_changed=True, assignee_changed=True)


def _followup_errors(
    actor: User | None, followup: FollowUp, *, due_changed: bool, assignee_changed: bool
) -> dict[str, list[str]]:
    """What is wrong with a follow-up about to be saved, keyed by field; an overdue follow-up keeps its
    due time, and a follow-up its assignee, unless they are changed."""
    exclude = ["customer", "assignee", "created_by", "completed_by", "due_at", *FollowUp.LINK_FIELDS]
    errors = _model_errors(followup, exclude=exclude)
    if not followup.subject:
        errors["subject"] = [_("Say what is to be done.")]
    if due_changed:
        errors |= due_errors(followup.due_at)
    if assignee_changed:
        errors |= _assignee_errors(followup.assignee if followup.assignee_id else None)
    return errors | _link_errors(FollowUp, actor, followup.customer, _links(followup))


def _shared_links(links: Mapping[str, Any]) -> dict[str, Any]:
    """The links of a communication that the follow-up it calls for takes over: the same person and record."""
    return {name: record for name, record in links.items() if name in FollowUp.LINK_FIELDS}


@transaction.atomic
def log_communication(
    *,
    actor: User | None,
    customer: Customer,
    channel: str,
    subject: str,
    content: str,
    occurred_at: datetime | None = None,
    direction: str = Communication.Direction.OUT,
    outcome: str = "",
    followup: Mapping[str, Any] | None = None,
    staff: User | None = None,
    **links: Any,
) -> Communication:
    """Record a conversation a staff member (default: the actor) had with a customer; only managers
    and the system log one on behalf of someone else.

    `links` are those of Communication.LINK_FIELDS: a contact person, an order, an opportunity.
    With `followup` (a dict of schedule_followup's keyword arguments; the subject defaults to the
    communication's), the follow-up it calls for is scheduled in the same step, linked to it and to
    the communication's links; its field errors are keyed followup_<field>. Nothing is written unless
    both are valid.
    """
    _require_customer(actor, customer, links)
    communication, errors = _new_communication(
        actor,
        customer,
        staff=staff,
        channel=channel,
        subject=subject,
        content=content,
        occurred_at=occurred_at,
        direction=direction,
        outcome=outcome,
        links=links,
    )
    if followup is not None:
        fields = {**followup, "subject": _one_line(followup.get("subject")) or communication.subject}
        task, task_errors = _new_followup(actor, customer, **fields)
        errors |= {f"followup_{name}": messages for name, messages in task_errors.items()}
    if errors:
        raise ValidationError(errors)
    _save(actor, communication)
    if followup is not None:
        task.communication = communication
        for name, record in _shared_links(links).items():  # checked with the communication
            setattr(task, name, record)
        _save(actor, task)
        _tell_assignee(actor, task)
    touch_customer(customer)
    record_activity(customer_id=customer.pk, at=communication.occurred_at)
    return communication


@transaction.atomic
def schedule_followup(*, actor: User | None, customer: Customer, **fields: Any) -> FollowUp:
    """Schedule what is to be done next with a customer.

    Takes subject, due_at, and optionally assignee (default: the acting user; the system names one),
    priority, notes and the links of FollowUp.LINK_FIELDS (a contact person, an order, an opportunity).
    """
    _require_customer(actor, customer, fields)
    followup, errors = _new_followup(actor, customer, **fields)
    if errors:
        raise ValidationError(errors)
    _save(actor, followup)
    _tell_assignee(actor, followup)
    touch_customer(customer)
    return followup


def _tell_assignee(actor: User | None, followup: FollowUp) -> None:
    """A follow-up someone else (or the system) gave a user shows in their notifications."""
    from automation.notifications import notify

    if actor is not None and followup.assignee_id == actor.pk:
        return

    def message() -> str:
        by = actor.get_full_name() or actor.get_username() if actor is not None else _("System")
        return _("%(by)s assigned you a follow-up: %(subject)s") % {"by": by, "subject": followup.subject}

    notify(user=followup.assignee, message=message, url=followup.get_absolute_url())


def _open_for(actor: User | None, followup: FollowUp) -> None:
    """Re-reads the follow-up under a row lock, so that people acting at once act one after the other,
    and checks that the actor may act on it and that it is still open."""
    require_change_followup(actor, followup)
    followup.refresh_from_db(from_queryset=FollowUp.objects.select_for_update())
    if not followup.is_open:
        raise ValidationError(
            _("This follow-up is no longer open: it is %(status)s.")
            % {"status": followup.get_status_display().lower()}
        )


COMMUNICATION_FIELDS = {"channel", "direction", "occurred_at", "subject", "content", "outcome"}
FOLLOWUP_FIELDS = {"subject", "notes", "priority", "due_at", "assignee"}
ONE_LINE_FIELDS, TEXT_FIELDS = {"subject", "outcome"}, {"content", "notes"}


def _apply(record: Communication | FollowUp, fields: Mapping[str, Any], allowed: set[str]) -> set[str]:
    """Sets the fields (among `allowed` and the record's links) as they are stored; returns those that
    change."""
    allowed = allowed | set(record.LINK_FIELDS)
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"{type(record).__name__} has no editable fields {sorted(unknown)}")
    changed = set()
    for name, value in fields.items():
        if name in ONE_LINE_FIELDS:
            value = _one_line(value)
        elif name in TEXT_FIELDS:
            value = _text(value)
        if getattr(record, name) != value:
            changed.add(name)
        setattr(record, name, value)
    return changed


@transaction.atomic
def update_communication(*, actor: User | None, communication: Communication, **fields: Any) -> Communication:
    """Correct a logged communication: its channel, direction, time, subject, content, outcome and links
    (of Communication.LINK_FIELDS), validated as when it was logged. Its customer and staff member stay."""
    require_change_communication(actor, communication)
    changed = _apply(communication, fields, COMMUNICATION_FIELDS)
    errors = _communication_errors(actor, communication)
    if errors:
        raise ValidationError(errors)
    _save(actor, communication)
    if "occurred_at" in changed:
        refresh_last_activity(Customer.objects.filter(pk=communication.customer_id))
    return communication


@transaction.atomic
def update_followup(*, actor: User | None, followup: FollowUp, **fields: Any) -> FollowUp:
    """Change an open follow-up: its subject, notes, priority, due time, assignee and links (of
    FollowUp.LINK_FIELDS). Completing and cancelling it have their own services."""
    _open_for(actor, followup)
    changed = _apply(followup, fields, FOLLOWUP_FIELDS)
    errors = _followup_errors(
        actor, followup, due_changed="due_at" in changed, assignee_changed="assignee" in changed
    )
    if errors:
        raise ValidationError(errors)
    return _save(actor, followup)


@transaction.atomic
def reschedule_followup(*, actor: User | None, followup: FollowUp, due_at: datetime) -> FollowUp:
    _open_for(actor, followup)
    errors = due_errors(due_at)
    if errors:
        raise ValidationError(errors)
    followup.due_at = due_at
    return _save(actor, followup, change_reason("rescheduled"))


def postponed_due_at(followup: FollowUp, day: date) -> datetime:
    """The follow-up's due time moved to another day, at the same time of day."""
    due = timezone.localtime(followup.due_at)
    return timezone.make_aware(datetime.combine(day, due.time()))


def postpone_followup(*, actor: User | None, followup: FollowUp, day: date) -> FollowUp:
    """Move the follow-up to another day, keeping its time of day."""
    return reschedule_followup(actor=actor, followup=followup, due_at=postponed_due_at(followup, day))


@transaction.atomic
def reassign_followup(*, actor: User | None, followup: FollowUp, assignee: User) -> FollowUp:
    _open_for(actor, followup)
    errors = _assignee_errors(assignee)
    if errors:
        raise ValidationError(errors)
    if assignee.pk == followup.assignee_id:
        return followup
    followup.assignee = assignee
    _save(actor, followup, change_reason("reassigned"))
    _tell_assignee(actor, followup)
    return followup


@transaction.atomic
def complete_followup(*, actor: User | None, followup: FollowUp, result: str) -> FollowUp:
    """Mark the follow-up done with what came of it (required)."""
    _open_for(actor, followup)
    result = _text(result)
    if not result:
        raise ValidationError({"result": [_("Write down the result.")]})
    followup.status, followup.result = FollowUp.Status.DONE, result
    followup.completed_at, followup.completed_by = timezone.now(), actor
    _save(actor, followup, change_reason("completed"))
    touch_customer(followup.customer)
    return followup


@transaction.atomic
def cancel_followup(*, actor: User | None, followup: FollowUp, reason: str = "") -> FollowUp:
    """Drop a follow-up that is no longer needed; the reason is kept as its result."""
    _open_for(actor, followup)
    followup.status, followup.result = FollowUp.Status.CANCELLED, _text(reason)
    return _save(actor, followup, change_reason("cancelled"))


# --- reminders -------------------------------------------------------------------------------

SENT, ALREADY_SENT, SENDING, NO_EMAIL, WOULD_SEND, FAILED = (
    "sent",
    "already sent",
    "being sent by another run",
    "no email",
    "would send",
    "failed, the outbox retries it",
)
QUEUED = "queued"  # in the outbox inside the caller's transaction: sent once that commits


@dataclass
class DigestOutcome:
    digest: selectors.Digest
    status: str


def digest_language(user: User) -> str:
    """The language of a user's emails: the CRM keeps no per-user language yet, so the site's."""
    return settings.LANGUAGE_CODE


def _digest_message(digest: selectors.Digest, today: date) -> EmailMultiAlternatives:
    user = digest.user
    with translation.override(digest_language(user)):
        context = {
            "digest": digest,
            "name": display_name(user),
            "today": today,
            "my_day_url": f"{settings.SITE_URL}{reverse('followups:today')}" if settings.SITE_URL else "",
        }
        subject = _("Your follow-ups for %(date)s: %(overdue)s overdue, %(due_today)s due today") % {
            "date": formats.date_format(today, "SHORT_DATE_FORMAT"),
            "overdue": digest.overdue_count,
            "due_today": digest.due_today_count,
        }
        message = EmailMultiAlternatives(
            subject, render_to_string("followups/email/digest.txt", context), to=[user.email]
        )
        message.attach_alternative(render_to_string("followups/email/digest.html", context), "text/html")
    return message


def _queue(digest: selectors.Digest, today: date) -> ReminderDigest | None:
    """The user's digest for the day and its outbox e-mail, written in one transaction; None when another
    run has written it first (the row is unique on user and day)."""
    from automation.models import OutgoingEmail
    from automation.outbox import queue_email

    message = _digest_message(digest, today)
    html = next((str(content) for content, mimetype in message.alternatives if mimetype == "text/html"), "")
    try:
        with transaction.atomic():
            email = queue_email(
                kind=OutgoingEmail.Kind.DIGEST,
                to=digest.user.email,
                subject=str(message.subject),
                body=str(message.body),
                html_body=html,
            )
            return ReminderDigest.objects.create(
                user=digest.user,
                date=today,
                overdue=digest.overdue_count,
                due_today=digest.due_today_count,
                email=email,
            )
    except IntegrityError:
        return None


def _deliver(outcome: DigestOutcome, email_id: int) -> None:
    """Sends a committed digest e-mail now, through the outbox (which retries it if this fails)."""
    from automation.models import DeliveryStatus
    from automation.outbox import deliver

    status = deliver(email_id)
    outcome.status = {DeliveryStatus.SENT: SENT, "skipped": SENDING}.get(status, FAILED)


def _send_digest(
    digest: selectors.Digest, queued: ReminderDigest | None, today: date, dry_run: bool
) -> DigestOutcome:
    outcome = DigestOutcome(digest, QUEUED)
    if not digest.user.email:
        outcome.status = NO_EMAIL
    elif dry_run:
        outcome.status = WOULD_SEND
    elif queued is not None and queued.email is not None and queued.email.status == "sent":
        outcome.status = ALREADY_SENT
    else:
        queued = queued or _queue(digest, today)
        if queued is None or queued.email_id is None:
            outcome.status = SENDING
        else:
            # Sent once the row is committed: at once, or when the caller's transaction commits.
            transaction.on_commit(partial(_deliver, outcome, queued.email_id))
    return outcome


def send_reminder_digests(*, now: datetime | None = None, dry_run: bool = False) -> list[DigestOutcome]:
    """Email each user with open follow-ups overdue or due today a digest of them, once a day.

    The system acts here, for nobody in particular (`manage.py send_followup_reminders`, or the
    scheduler's task). Each user's digest row (ReminderDigest, unique per user and day) and its e-mail in
    the outbox are written in one transaction; the e-mail is then sent at once, outside any transaction,
    by the outbox, which marks it sent once the mail server accepted it and otherwise retries it with
    backoff (as does the next run of this function, for an e-mail whose retry is due). So a second run
    the same day sends nothing twice, even when both run at once; and called inside a transaction that
    rolls back, it sends nothing. Returns a DigestOutcome per user with follow-ups due (QUEUED while the
    caller's transaction has not committed yet).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    queued = {row.user_id: row for row in ReminderDigest.objects.filter(date=today).select_related("email")}
    return [
        _send_digest(digest, queued.get(digest.user.pk), today, dry_run)
        for digest in selectors.reminder_digests(now)
    ]
