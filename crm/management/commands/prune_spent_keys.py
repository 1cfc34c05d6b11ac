"""`manage.py prune_spent_keys`: forget the API's stored answers older than API_IDEMPOTENCY_HOURS and the
one-time form tokens spent more than FORM_TOKEN_DAYS ago (the scheduler runs the same nightly)."""

from typing import Any

from django.core.management.base import BaseCommand

from crm.api import idempotency
from orders import once


class Command(BaseCommand):
    help = "Delete old Idempotency-Key answers and spent one-time form tokens."

    def handle(self, *args: Any, **options: Any) -> None:
        answers, tokens = idempotency.prune(), once.prune()
        self.stdout.write(f"Deleted {answers} stored answers and {tokens} spent form tokens.")
