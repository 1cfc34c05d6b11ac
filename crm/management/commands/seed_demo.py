from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from crm.demo import DEMO_PASSWORD, DEMO_USERS, seed_all


class Command(BaseCommand):
    help = "Create the demo users and realistic bilingual demo data (idempotent, fixed seed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never on a real database)."
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="How much data to make: 1 (the default) is the full demo, 0.1 a tenth of it.",
        )

    def handle(self, *args: Any, force: bool = False, scale: float = 1.0, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like production. Demo users have the password 'demo'; "
                "pass --force if you really mean it."
            )
        if not scale > 0:
            raise CommandError("--scale must be a positive number, e.g. 0.1 for a tenth of the demo.")
        with transaction.atomic():
            seed_all(scale)
        self.stdout.write(self.style.SUCCESS("Demo data is in place. Log in with:"))
        for username, group, *_ in DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {DEMO_PASSWORD}   ({group})")
