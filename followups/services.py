"""Every write to communications and follow-ups. Each function takes the acting user first.

Bad input raises ValidationError keyed by field and writes nothing; acting on a follow-up one
may not touch raises PermissionDenied. Every change is kept in the records' field history.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from crm.history import change_reason
from crm.roles import is_manager
from customers.services import can_edit_customer, touch_customer
from followups import selectors
from followups.models import Communication, FollowUp, ReminderDigest

logger = logging.getLogger(__name__)

# A communication is logged after it happened; a little clock skew is forgiven.
FUTURE_GRACE = timedelta(minutes=5)


def _one_line(text):
    return " ".join((text or "").split())


def _text(text):
    return (text or "").strip()


def _now_to_the_minute():
    """Times are entered to the minute: a time within the current minute has not passed yet."""
    return timezone.now().replace(second=0, microsecond=0)


def _model_errors(instance, exclude):
    """What the model's own field validation (lengths, choices) says, keyed by field."""
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as error:
        return error.message_dict
    return {}


def _link_errors(model, user, customer, links):
    """Each optional link (model.LINK_FIELDS) must be a record of the same customer that the user sees.

    Whatever is wrong, the message is the same: it does not tell whether someone else's record exists.
    """
    unknown = set(links) - set(model.LINK_FIELDS)
    if unknown:
        raise TypeError(f"{model.__name__} has no links {sorted(unknown)}")
    return {
        name: [_("Choose one of this customer's records.")]
        for name, record in links.items()
        if record is not None and not (record.customer_id == customer.pk and _visible(user, record))
    }


def _visible(user, record):
    records = type(record)._default_manager
    return not hasattr(records, "visible_to") or records.visible_to(user).filter(pk=record.pk).exists()


def _require_customer(user, customer):
    if not can_edit_customer(user, customer):
        raise ValidationError({"customer": _("Choose one of your own customers.")})


def _save(user, instance, reason=None):
    instance._history_user = user  # the history names the acting user, in a command too
    instance._change_reason = reason
    instance.save()
    return instance


def _new_communication(user, customer, *, channel, subject, content, occurred_at, direction, outcome, links):
    communication = Communication(
        customer=customer,
        staff=user,
        channel=channel,
        direction=direction,
        occurred_at=occurred_at or timezone.now(),
        subject=_one_line(subject),
        content=_text(content),
        outcome=_one_line(outcome),
        **links,
    )
    errors = _model_errors(communication, exclude=["customer", "staff", *links])
    if not communication.subject:
        errors["subject"] = [_("Enter a subject.")]
    if not communication.content:
        errors["content"] = [_("Write down what was said.")]
    if communication.occurred_at > timezone.now() + FUTURE_GRACE:
        errors["occurred_at"] = [_("This is in the future: schedule a follow-up for it instead.")]
    return communication, errors | _link_errors(Communication, user, customer, links)


def due_errors(due_at):
    """What is wrong with a follow-up's due time, keyed by field: forms check it early with the rest."""
    if due_at is None:
        return {"due_at": [_("Enter when it is due.")]}
    if due_at < _now_to_the_minute():
        return {"due_at": [_("This time has passed: choose a time from now on.")]}
    return {}


def _assignee_errors(assignee):
    if assignee is None or not assignee.is_active:
        return {"assignee": [_("Choose an active user.")]}
    return {}


def _new_followup(
    user, customer, *, subject, due_at, assignee=None, priority=FollowUp.Priority.NORMAL, notes="", **links
):
    followup = FollowUp(
        customer=customer,
        subject=_one_line(subject),
        notes=_text(notes),
        due_at=due_at,
        assignee=assignee or user,
        priority=priority,
        created_by=user,
        **links,
    )
    errors = _model_errors(followup, exclude=["customer", "assignee", "created_by", "due_at", *links])
    if not followup.subject:
        errors["subject"] = [_("Say what is to be done.")]
    errors |= due_errors(due_at) | _assignee_errors(followup.assignee)
    return followup, errors | _link_errors(FollowUp, user, customer, links)


def _shared_links(links):
    """The links of a communication that the follow-up it calls for takes over: the same person and record."""
    return {name: record for name, record in links.items() if name in FollowUp.LINK_FIELDS}


@transaction.atomic
def log_communication(
    user,
    customer,
    *,
    channel,
    subject,
    content,
    occurred_at=None,
    direction=Communication.Direction.OUT,
    outcome="",
    followup=None,
    **links,
):
    """Record a conversation the acting user had with a customer.

    `links` are those of Communication.LINK_FIELDS: a contact person, an order, an opportunity.
    With `followup` (a dict of schedule_followup's keyword arguments; the subject defaults to the
    communication's), the follow-up it calls for is scheduled in the same step, linked to it and to
    the communication's links; its field errors are keyed followup_<field>. Nothing is written unless
    both are valid.
    """
    _require_customer(user, customer)
    communication, errors = _new_communication(
        user,
        customer,
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
        task, task_errors = _new_followup(user, customer, **fields)
        errors |= {f"followup_{name}": messages for name, messages in task_errors.items()}
    if errors:
        raise ValidationError(errors)
    _save(user, communication)
    if followup is not None:
        task.communication = communication
        for name, record in _shared_links(links).items():  # checked with the communication
            setattr(task, name, record)
        _save(user, task)
    touch_customer(customer)
    return communication


@transaction.atomic
def schedule_followup(user, customer, **fields):
    """Schedule what is to be done next with a customer.

    Takes subject, due_at, and optionally assignee (default: the acting user), priority, notes and
    the links of FollowUp.LINK_FIELDS (a contact person, an order, an opportunity).
    """
    _require_customer(user, customer)
    followup, errors = _new_followup(user, customer, **fields)
    if errors:
        raise ValidationError(errors)
    _save(user, followup)
    touch_customer(customer)
    return followup


def can_act_on_followup(user, followup):
    """Managers, the customer's owner and the assignee may complete, move or cancel a follow-up."""
    return is_manager(user) or user.pk in (followup.assignee_id, followup.customer.owner_id)


def _open_for(user, followup):
    """Re-reads the follow-up under a row lock, so that people acting at once act one after the other,
    and checks that the user may act on it and that it is still open."""
    if not can_act_on_followup(user, followup):
        raise PermissionDenied(_("You may not change this follow-up."))
    followup.refresh_from_db(from_queryset=FollowUp.objects.select_for_update())
    if not followup.is_open:
        raise ValidationError(
            _("This follow-up is no longer open: it is %(status)s.")
            % {"status": followup.get_status_display().lower()}
        )


@transaction.atomic
def reschedule_followup(user, followup, due_at):
    _open_for(user, followup)
    errors = due_errors(due_at)
    if errors:
        raise ValidationError(errors)
    followup.due_at = due_at
    return _save(user, followup, change_reason("rescheduled"))


def postponed_due_at(followup, day):
    """The follow-up's due time moved to another day, at the same time of day."""
    due = timezone.localtime(followup.due_at)
    return timezone.make_aware(datetime.combine(day, due.time()))


def postpone_followup(user, followup, day):
    """Move the follow-up to another day, keeping its time of day."""
    return reschedule_followup(user, followup, postponed_due_at(followup, day))


@transaction.atomic
def reassign_followup(user, followup, assignee):
    _open_for(user, followup)
    errors = _assignee_errors(assignee)
    if errors:
        raise ValidationError(errors)
    if assignee.pk == followup.assignee_id:
        return followup
    followup.assignee = assignee
    return _save(user, followup, change_reason("reassigned"))


@transaction.atomic
def complete_followup(user, followup, result):
    """Mark the follow-up done with what came of it (required)."""
    _open_for(user, followup)
    result = _text(result)
    if not result:
        raise ValidationError({"result": [_("Write down the result.")]})
    followup.status, followup.result = FollowUp.Status.DONE, result
    followup.completed_at, followup.completed_by = timezone.now(), user
    _save(user, followup, change_reason("completed"))
    touch_customer(followup.customer)
    return followup


@transaction.atomic
def cancel_followup(user, followup, reason=""):
    """Drop a follow-up that is no longer needed; the reason is kept as its result."""
    _open_for(user, followup)
    followup.status, followup.result = FollowUp.Status.CANCELLED, _text(reason)
    return _save(user, followup, change_reason("cancelled"))


# --- reminders -------------------------------------------------------------------------------

SENT, ALREADY_SENT, NO_EMAIL, WOULD_SEND, FAILED = "sent", "already sent", "no email", "would send", "failed"


@dataclass
class DigestOutcome:
    digest: selectors.Digest
    status: str


def digest_language(user):
    """The language of a user's emails: the CRM keeps no per-user language yet, so the site's."""
    return settings.LANGUAGE_CODE


def _digest_message(digest, today):
    user = digest.user
    with translation.override(digest_language(user)):
        context = {
            "digest": digest,
            "name": user.get_full_name() or user.get_username(),
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


def _send_digest(digest, today, dry_run):
    if not digest.user.email:
        return NO_EMAIL
    if dry_run:
        return WOULD_SEND
    try:
        with transaction.atomic():
            ReminderDigest.objects.create(
                user=digest.user, date=today, overdue=digest.overdue_count, due_today=digest.due_today_count
            )
            _digest_message(digest, today).send()
    except IntegrityError:
        return ALREADY_SENT  # another run recorded this user's digest first
    except OSError:  # the mail server refused or is unreachable (smtplib's errors are OSErrors)
        logger.exception("Reminder digest to %s failed; the next run retries it.", digest.user.email)
        return FAILED
    return SENT


def send_reminder_digests(*, now=None, dry_run=False):
    """Email each user with open follow-ups overdue or due today a digest of them, once a day.

    The system acts here, for nobody in particular (`manage.py send_followup_reminders`, run by
    cron). A user's digest is recorded (ReminderDigest, unique per user and day) in the transaction
    that sends it: a second run the same day sends nothing twice, even when both run at once, and
    a send that fails is retried by the next run. Returns a DigestOutcome per user with follow-ups due.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent_today = set(ReminderDigest.objects.filter(date=today).values_list("user_id", flat=True))
    return [
        DigestOutcome(
            digest, ALREADY_SENT if digest.user.pk in sent_today else _send_digest(digest, today, dry_run)
        )
        for digest in selectors.reminder_digests(now)
    ]
