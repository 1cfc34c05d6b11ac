from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from crm.demo import DEMO_PASSWORD, DEMO_USERS, seed_all


class Command(BaseCommand):
    help = "Create the demo users and realistic bilingual demo data (idempotent, fixed seed)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never on a real database)."
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like production. Demo users have the password 'demo'; "
                "pass --force if you really mean it."
            )
        with transaction.atomic():
            seed_all()
        self.stdout.write(self.style.SUCCESS("Demo data is in place. Log in with:"))
        for username, group, *_ in DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {DEMO_PASSWORD}   ({group})")
