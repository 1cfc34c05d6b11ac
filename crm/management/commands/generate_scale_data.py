from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.scale.generate import Progress, generate


class Command(BaseCommand):
    help = (
        "Adds N customers with the orders, events, conversations, follow-ups and opportunities a busy CRM "
        "keeps, in bulk (COPY on PostgreSQL), for measuring speed at scale. Deterministic: the same seed "
        "on the same day makes the same data. See crm/scale/generate.py."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, required=True, help="How many customers to add.")
        parser.add_argument("--seed", type=int, default=17, help="The random seed (default 17).")
        parser.add_argument(
            "--chunk", type=int, default=2000, help="Customers written per transaction (default 2000)."
        )
        parser.add_argument(
            "--salespeople",
            type=int,
            default=20,
            help="Sales users owning the customers: sales1, sales2 and more up to this many (default 20).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never on a real database)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off: this looks like production. This command adds invented customers in bulk; "
                "pass --force if you really mean it."
            )
        for name in ("customers", "chunk"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1.")
        if options["salespeople"] < 2:
            raise CommandError("--salespeople must be at least 2 (sales1 and sales2).")
        counts = generate(
            options["customers"],
            seed=options["seed"],
            chunk=options["chunk"],
            salespeople=options["salespeople"],
            report=self._report,
        )
        for label, count in counts.items():
            self.stdout.write(f"  {label:<45} {count:>12,}")
        self.stdout.write(self.style.SUCCESS(f"Done: {sum(counts.values()):,} rows."))

    def _report(self, progress: Progress) -> None:
        self.stdout.write(
            f"{progress.customers:>10,} customers  {progress.rows:>12,} rows  "
            f"{progress.seconds:8.1f} s  {progress.rate:>9,.0f} rows/s  "
            f"CPU: generator {progress.cpu:.1f} s"
            + ("" if progress.server_cpu is None else f", database {progress.server_cpu:.1f} s")
        )
        self.stdout.flush()
