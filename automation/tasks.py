"""The background tasks (django-tasks). Each is safe to run twice or on several workers at once: the
rows they act on are claimed (deliveries) or keyed (rule firings) in the database.

The scheduler process (`manage.py run_scheduler`, automation/scheduler.py) enqueues the periodic ones;
business code enqueues the others inside its transaction.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from automation import delivery


@task()
def send_email(email_id: int) -> str:
    from automation.outbox import deliver

    return deliver(email_id)


@task()
def deliver_webhook(delivery_id: int) -> str:
    from automation.webhooks import deliver

    return deliver(delivery_id)


@task()
def run_rules(rule_id: int | None = None) -> int:
    """Runs the enabled rules (or one); returns how many times they acted."""
    from automation.rules import run_rules as run

    return sum(result.fired for result in run(rule_id=rule_id))


@task()
def send_reminder_digests() -> int:
    from followups.services import send_reminder_digests as send

    return len(send())


@task()
def write_export(export_id: int) -> str:
    from automation.exports import write

    return write(export_id)


@task()
def expire_exports() -> int:
    from automation.exports import expire_exports as expire

    return expire()


@task()
def compute_rfm() -> None:
    call_command("compute_rfm")


@task()
def prune_spent_keys() -> int:
    """Forgets old API idempotency answers and spent form tokens; returns how many rows went."""
    from crm.api import idempotency
    from orders import once

    return idempotency.prune() + once.prune()


# A pending row due this long ago whose task has not taken it was lost (e.g. a worker killed after
# claiming the task but before claiming the row): the sweep enqueues it again.
LOST_AFTER = timedelta(minutes=1)


def requeue_stalled_tasks() -> int:
    """Tasks left running by a worker that died (for longer than TASKS_RUNNING_TIMEOUT_SECONDS) are made
    ready again, for another worker: every task here is safe to run twice. Returns how many."""
    stalled = timezone.now() - timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT_SECONDS)
    rows = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=stalled)
    return rows.update(status=TaskResultStatus.READY, started_at=None)


@task()
def sweep() -> int:
    """Enqueues the deliveries a worker should have sent by now: pending ones whose task was lost and
    those left `sending` by a worker that died; and makes the tasks such a worker left running ready
    again. Returns how many deliveries were enqueued."""
    from automation.models import OutgoingEmail, WebhookDelivery

    requeue_stalled_tasks()

    due = delivery.claimable(timezone.now(), overdue_by=LOST_AFTER)
    count = 0
    for pk in OutgoingEmail.objects.filter(due).values_list("pk", flat=True)[:1000]:
        send_email.enqueue(pk)
        count += 1
    deliveries = WebhookDelivery.objects.filter(due, endpoint__paused_at__isnull=True)
    for pk in deliveries.values_list("pk", flat=True)[:1000]:
        deliver_webhook.enqueue(pk)
        count += 1
    return count
