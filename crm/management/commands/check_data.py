from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.data_rules import breaches, rules


class Command(BaseCommand):
    help = (
        "Lists the rows that break a rule of the data: a check constraint, or a date, time or number "
        "outside its bounds (crm/data_rules.py). Exits non-zero when there is one; run it after an import "
        "or a restore."
    )

    def handle(self, *args, **options):
        found = breaches()
        for breach in found:
            line = ngettext(
                "%(model)s, rule %(rule)s: %(count)s row, id %(ids)s",
                "%(model)s, rule %(rule)s: %(count)s rows, e.g. ids %(ids)s",
                breach.count,
            ) % {
                "model": breach.rule.model._meta.label,
                "rule": breach.rule.name,
                "count": breach.count,
                "ids": ", ".join(map(str, breach.sample)),
            }
            self.stdout.write(self.style.ERROR(line))
        if found:
            raise CommandError(
                ngettext("%(count)s rule is broken.", "%(count)s rules are broken.", len(found))
                % {"count": len(found)}
            )
        self.stdout.write(self.style.SUCCESS(_("All %(count)s rules hold.") % {"count": len(list(rules()))}))
