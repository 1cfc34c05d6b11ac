from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from summaries.upkeep import drifted, rebuild


class Command(BaseCommand):
    help = (
        "Recompute the dashboard's summary rows from the orders and deals (after a bulk load or a restore); "
        "with --check, only say whether the rows kept by the services differ from a recomputation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Compare with a recomputation; change nothing."
        )

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        if not check:
            rebuild()
            self.stdout.write(self.style.SUCCESS(_("The summaries are rebuilt.")))
            return
        differing = drifted()
        if differing:
            raise CommandError(
                _("These summaries differ from the facts: %(names)s. Run rebuild_summaries.")
                % {"names": ", ".join(differing)}
            )
        self.stdout.write(self.style.SUCCESS(_("The summaries agree with the facts.")))
