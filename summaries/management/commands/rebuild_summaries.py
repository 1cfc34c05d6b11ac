from typing import Any

from django.core.management.base import BaseCommand

from summaries.upkeep import rebuild


class Command(BaseCommand):
    help = "Recompute the dashboard's summary rows from the orders and deals (e.g. after a bulk load)."

    def handle(self, *args: Any, **options: Any) -> None:
        rebuild()
        self.stdout.write(self.style.SUCCESS("Summaries rebuilt."))
