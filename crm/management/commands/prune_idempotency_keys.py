"""`manage.py prune_idempotency_keys`: forget the stored answers older than API_IDEMPOTENCY_HOURS."""

from typing import Any

from django.core.management.base import BaseCommand

from crm.api.idempotency import prune


class Command(BaseCommand):
    help = "Delete the Idempotency-Key answers older than settings.API_IDEMPOTENCY_HOURS."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Deleted {prune()} stored answers.")
