"""The scheduler process: enqueues the periodic tasks at their times; workers run them.

Run exactly one (`manage.py run_scheduler`): it holds no state, and a second one would only enqueue
each task twice, which the tasks tolerate (they are idempotent) but need not do.
"""

import logging
from collections.abc import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from django.conf import settings
from django.db import close_old_connections
from django_tasks.base import Task

from automation import tasks

logger = logging.getLogger(__name__)


def _enqueuer(periodic: Task) -> Callable[[], None]:
    def enqueue() -> None:
        close_old_connections()
        periodic.enqueue()
        logger.info("Enqueued %s", periodic.name)

    return enqueue


def schedule() -> list[tuple[Task, IntervalTrigger | CronTrigger]]:
    """Each periodic task and when it runs (in TIME_ZONE)."""
    zone = settings.TIME_ZONE
    return [
        (tasks.sweep, IntervalTrigger(minutes=1)),
        (tasks.run_rules, IntervalTrigger(minutes=settings.AUTOMATION_RULES_EVERY_MINUTES)),
        (tasks.send_reminder_digests, CronTrigger(hour=settings.REMINDER_DIGEST_HOUR, timezone=zone)),
        (tasks.compute_rfm, CronTrigger(hour=2, minute=30, timezone=zone)),
        (tasks.prune_spent_keys, CronTrigger(hour=3, minute=15, timezone=zone)),
        (tasks.expire_exports, IntervalTrigger(hours=1)),
    ]


def build_scheduler() -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=settings.TIME_ZONE)
    for periodic, trigger in schedule():
        scheduler.add_job(
            _enqueuer(periodic),
            trigger,
            id=periodic.name,
            name=periodic.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=300,
        )
    return scheduler
