from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

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
                _(
                    "DEBUG is off: this looks like production. This command adds invented customers in "
                    "bulk; pass --force if you really mean it."
                )
            )
        for name in ("customers", "chunk"):
            if options[name] < 1:
                raise CommandError(_("--%(option)s must be at least 1.") % {"option": name})
        if options["salespeople"] < 2:
            raise CommandError(_("--salespeople must be at least 2 (sales1 and sales2)."))
        counts = generate(
            options["customers"],
            seed=options["seed"],
            chunk=options["chunk"],
            salespeople=options["salespeople"],
            report=self._report,
        )
        for label, count in counts.items():
            self.stdout.write(f"  {label:<45} {count:>12,}")
        self.stdout.write(
            self.style.SUCCESS(_("Done: %(rows)s rows.") % {"rows": f"{sum(counts.values()):,}"})
        )

    def _report(self, progress: Progress) -> None:
        line = _(
            "%(customers)s customers, %(rows)s rows, %(seconds)s s, %(rate)s rows/s; "
            "CPU seconds: generator %(cpu)s"
        ) % {
            "customers": f"{progress.customers:,}",
            "rows": f"{progress.rows:,}",
            "seconds": f"{progress.seconds:.1f}",
            "rate": f"{progress.rate:,.0f}",
            "cpu": f"{progress.cpu:.1f}",
        }
        if progress.server_cpu is not None:
            line += _(", database %(cpu)s") % {"cpu": f"{progress.server_cpu:.1f}"}
        self.stdout.write(line)
        self.stdout.flush()
