from typing import Any

from django.core.management.base import BaseCommand

from automation.scheduler import build_scheduler


class Command(BaseCommand):
    help = (
        "Enqueue the periodic tasks (automation rules, the outbox sweep, reminder digests, RFM) at their "
        "times; `manage.py db_worker` processes run them. Run one scheduler per installation."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        scheduler = build_scheduler()
        for job in scheduler.get_jobs():
            self.stdout.write(f"{job.id}: {job.trigger}")
        scheduler.start()
