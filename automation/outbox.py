"""The e-mail outbox: every e-mail the CRM sends is an OutgoingEmail row, sent by a worker.

`queue_email` writes the row and enqueues its task in the caller's transaction: an e-mail exists
exactly when the change that caused it committed, and one whose transaction rolls back is never sent.
`deliver` (the task's body) claims the row (automation/delivery.py: one worker at a time, never twice),
sends it outside any transaction, and marks it sent; a customer e-mail is then logged as an outgoing
communication on the customer's timeline in the same transaction that marks it sent. A refusal or an
unreachable server schedules a retry with exponential backoff; after OUTBOX_MAX_ATTEMPTS the e-mail is
failed and shown to managers, who may retry it.
"""

import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from automation import delivery
from automation.models import AutomationRule, DeliveryStatus, OutgoingEmail
from crm.access import require_manager
from customers.models import Customer
from followups.models import Communication
from orders.models import Order

logger = logging.getLogger(__name__)


def queue_email(
    *,
    kind: str,
    to: str,
    subject: str,
    body: str,
    html_body: str = "",
    customer: Customer | None = None,
    order: Order | None = None,
    staff: User | None = None,
    rule: AutomationRule | None = None,
    account: User | None = None,
) -> OutgoingEmail:
    """Puts an e-mail in the outbox; it is sent once the caller's transaction commits."""
    from automation.tasks import send_email

    email = OutgoingEmail.objects.create(
        kind=kind,
        to=to,
        subject=" ".join(subject.split())[:200],
        body=body,
        html_body=html_body,
        customer=customer,
        order=order,
        staff=staff,
        rule=rule,
        account=account,
    )
    send_email.enqueue(email.pk)
    return email


def _message(email: OutgoingEmail) -> EmailMultiAlternatives:
    body = email.body
    if email.kind == OutgoingEmail.Kind.PASSWORD_LINK and email.account is not None:
        from accounts.services import with_password_token  # accounts.services queues through this module

        body = with_password_token(body, email.account)
    message = EmailMultiAlternatives(email.subject, body, to=[email.to])
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    return message


def _log_communication(email: OutgoingEmail) -> Communication | None:
    """The sent customer e-mail as an outgoing communication, by the staff member it was sent for."""
    from followups.services import log_communication

    customer = email.customer
    if customer is None:
        return None
    with translation.override(settings.LANGUAGE_CODE):  # what the system writes, in the site's language
        outcome = _("Sent by automation rule %(rule)s") % {"rule": email.rule.name} if email.rule else ""
    return log_communication(
        actor=None,
        customer=customer,
        staff=email.staff or customer.owner,
        channel=Communication.Channel.EMAIL,
        direction=Communication.Direction.OUT,
        subject=email.subject,
        content=email.body,
        outcome=outcome[:300],
        order=email.order,
    )


def deliver(email_id: int) -> str:
    """Sends one outbox e-mail if it is due and nobody else is sending it; returns its status after."""
    email = delivery.claim(OutgoingEmail, email_id)
    if email is None:
        return "skipped"
    assert isinstance(email, OutgoingEmail)
    try:
        _message(email).send()
    except Exception as error:  # refused, unreachable, timed out: retried later
        logger.warning("E-mail %s to %s failed (attempt %s): %s", email.pk, email.to, email.attempts, error)
        status = delivery.fail(email, f"{type(error).__name__}: {error}")
        if status == DeliveryStatus.PENDING:
            _schedule(email)
        return status
    with transaction.atomic():
        if delivery.finish(email):
            communication = _log_communication(email)
            if communication is not None:
                OutgoingEmail.objects.filter(pk=email.pk).update(communication=communication)
    return DeliveryStatus.SENT


def _schedule(email: OutgoingEmail) -> None:
    from automation.tasks import send_email

    send_email.using(run_after=email.next_attempt_at).enqueue(email.pk)


@transaction.atomic
def retry_email(*, actor: User | None, email: OutgoingEmail) -> bool:
    """A manager sends a failed e-mail again (a fresh round of attempts); False if it is not failed."""
    from automation.tasks import send_email

    require_manager(actor)
    if not delivery.reset(email):
        return False
    send_email.enqueue(email.pk)
    return True
