from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from automation.models import AutomationRule
from automation.rules import run_rules
from crm.fields import parse_id


class Command(BaseCommand):
    help = (
        "Run the enabled automation rules (or one, with --rule) now. Each acts at most once per record and "
        "occurrence, so running it again, or while the worker runs them, acts on nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rule", help="The id of one rule to run (even a disabled one).")
        parser.add_argument("--dry-run", action="store_true", help="Say what would match; change nothing.")

    def handle(self, *args: Any, rule: str | None = None, dry_run: bool = False, **options: Any) -> None:
        rule_id = None
        if rule is not None:
            rule_id = parse_id(rule)
            if rule_id is None or not AutomationRule.objects.filter(pk=rule_id).exists():
                raise CommandError(f"No automation rule with the id {rule!r}.")
        results = run_rules(rule_id=rule_id, dry_run=dry_run)
        for result in results:
            if dry_run:
                self.stdout.write(f"#{result.rule.pk} {result.rule.name}: would act on {result.matched}")
                for match in result.matches[:20]:
                    self.stdout.write(f"  {match.record_type} {match.record.pk} ({match.occurrence})")
            else:
                self.stdout.write(
                    f"#{result.rule.pk} {result.rule.name}: acted {result.fired} times"
                    + (f", {result.failed} failed (retried next run)" if result.failed else "")
                )
        if not results:
            self.stdout.write("No enabled rules.")
        if any(result.failed for result in results):
            raise CommandError("Some actions failed; the next run tries them again.")
