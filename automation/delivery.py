"""Claiming, finishing and retrying a delivery row (an outgoing e-mail, a webhook delivery).

The guarantees:
- Only one worker sends a row at a time: `claim` is one conditional UPDATE (pending and due, or
  sending with a claim older than OUTBOX_CLAIM_TIMEOUT_SECONDS, i.e. left by a worker that died), so
  however many workers try at once, one gets it.
- A row is never sent again once sent: `finish` marks it sent only if it is still this claim, and
  nothing claims a sent row.
- A failure schedules the next attempt after OUTBOX_RETRY_BASE_SECONDS · 2^(attempts − 1); after
  OUTBOX_MAX_ATTEMPTS attempts the row is failed, until a manager retries it.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from automation.models import Delivery, DeliveryStatus

Status = DeliveryStatus


def claim_timeout() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT_SECONDS)


def claimable(now: datetime, *, overdue_by: timedelta = timedelta(0)) -> Q:
    """Rows a worker may take now: pending ones due (for `overdue_by` already), and those whose worker
    died mid-send."""
    return Q(status=Status.PENDING, next_attempt_at__lte=now - overdue_by) | Q(
        status=Status.SENDING, claimed_at__lt=now - claim_timeout()
    )


def claim(model: type[Delivery], pk: int) -> Delivery | None:
    """The row, claimed for this worker (attempts counted), or None when it is not to be sent now."""
    now = timezone.now()
    rows = model._default_manager.filter(claimable(now), pk=pk)
    if not rows.update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1):
        return None
    return model._default_manager.get(pk=pk)


def finish(row: Delivery, **fields: object) -> bool:
    """Marks a claimed row sent; False when the claim was lost meanwhile (nothing is changed)."""
    now = timezone.now()
    mine = type(row)._default_manager.filter(pk=row.pk, status=Status.SENDING, claimed_at=row.claimed_at)
    return bool(mine.update(status=Status.SENT, sent_at=now, last_error="", **fields))


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))


def fail(row: Delivery, error: str, **fields: object) -> str:
    """Records a failed attempt of a claimed row: pending again later, or failed for good. Returns the
    new status."""
    final = row.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    status = Status.FAILED if final else Status.PENDING
    next_attempt = timezone.now() + retry_delay(row.attempts)
    mine = type(row)._default_manager.filter(pk=row.pk, status=Status.SENDING, claimed_at=row.claimed_at)
    mine.update(status=status, next_attempt_at=next_attempt, last_error=error[:2000], **fields)
    row.status, row.next_attempt_at = status, next_attempt
    return status


def reset(row: Delivery) -> bool:
    """A failed row back to pending, due now, with a fresh count of attempts (a manager's "retry")."""
    rows = type(row)._default_manager.filter(pk=row.pk, status=Status.FAILED)
    return bool(rows.update(status=Status.PENDING, attempts=0, next_attempt_at=timezone.now()))
