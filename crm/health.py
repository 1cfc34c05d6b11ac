"""Readiness: what must answer before a load balancer sends this process traffic (`/readyz`).

Each check raises when its part is not ready. `/healthz` stays the cheaper liveness probe.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import get_date_max

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")


class MigrationsPending(Exception):
    pass


def check_migrations() -> None:
    """A new release is not ready before `migrate` has run: its code may need the new schema."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise MigrationsPending


class TaskQueueStalled(Exception):
    pass


def check_task_queue() -> None:
    """The workers' heartbeat, read from the queue: no task due to run has waited longer than
    TASKS_MAX_WAIT_SECONDS to be started. (No worker running fails it once work waits; an idle queue
    passes.)"""
    from django_tasks_db.models import DBTaskResult

    waited = timezone.now() - timedelta(seconds=settings.TASKS_MAX_WAIT_SECONDS)
    due_long_ago = Q(run_after__lt=waited) | Q(run_after=get_date_max())
    if DBTaskResult.objects.ready().filter(due_long_ago, enqueued_at__lt=waited).exists():
        raise TaskQueueStalled


# Name → check.
READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "migrations": check_migrations,
    "task_queue": check_task_queue,
}


def readiness() -> dict[str, bool]:
    """Each check's name and whether it passed; a failure is logged with its reason, never shown."""
    results = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception:
            logger.warning("Readiness check %s failed", name, exc_info=True)
            results[name] = False
        else:
            results[name] = True
    return results
