from django.core.management.base import BaseCommand, CommandError

from followups import services


class Command(BaseCommand):
    help = (
        "Email each active user a digest of their overdue and due-today follow-ups. "
        "Once a day per user: running it again the same day sends nothing twice. Run it from cron "
        "each morning."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Say who would get a digest; send and record nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        outcomes = services.send_reminder_digests(dry_run=dry_run)
        for outcome in outcomes:
            digest = outcome.digest
            self.stdout.write(
                f"{digest.user.get_username()}: {outcome.status} "
                f"({digest.overdue_count} overdue, {digest.due_today_count} due today)"
            )
        statuses = [outcome.status for outcome in outcomes]
        summary = (
            ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
            or "nobody has follow-ups due"
        )
        if services.FAILED in statuses:
            raise CommandError(f"Some digests could not be sent ({summary}); the outbox retries them.")
        self.stdout.write(self.style.SUCCESS(f"Reminder digests: {summary}."))
