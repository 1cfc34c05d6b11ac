from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.management.users import active_user
from orders import services
from orders.management.durations import duration
from orders.models import Order
from orders.selectors import stale_orders


class Command(BaseCommand):
    help = (
        "Close the orders left in one status, untouched, longer than a time (default: created orders). "
        "Without --commit it is a dry run that lists them and closes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            required=True,
            type=duration,
            help="How long untouched: a number with m, h, d or w (30d).",
        )
        parser.add_argument("--reason", required=True, help="Why they are closed; recorded on every order.")
        parser.add_argument(
            "--status",
            action="append",
            choices=[str(status) for status in Order.OPEN_STATUSES],
            help="Which open status to look in; repeatable (default: created).",
        )
        parser.add_argument(
            "--user", help="Username to close them as (default: the system, with no user on the events)."
        )
        parser.add_argument("--commit", action="store_true", help="Close them (default: dry run).")

    def handle(self, *args, older_than, reason, status, user, commit, **options):
        if not " ".join(reason.split()):
            raise CommandError(_("Say why the orders are closed."))
        actor = active_user(user) if user else None
        orders = list(stale_orders(older_than, statuses=status or [Order.Status.CREATED]))
        closed, refused = 0, 0
        for order in orders:
            untouched = f"{timezone.localtime(order.updated_at):%Y-%m-%d}"
            line = f"{order.number}\t{order.customer.name}\t{order.get_status_display()}\t{untouched}"
            if not commit:
                self.stdout.write(line)
                continue
            try:
                services.close_order(actor=actor, order=order, reason=reason)
            except (ValidationError, PermissionDenied) as error:
                messages = error.messages if isinstance(error, ValidationError) else [str(error)]
                self.stdout.write(self.style.ERROR(f"{line}\t{' '.join(messages)}"))
                refused += 1
            else:
                closed += 1
                self.stdout.write(f"{line}\t{_('closed')}")
        if commit:
            self.stdout.write(self.style.SUCCESS(_("%(count)d orders closed.") % {"count": closed}))
            if refused:  # cron reports a non-zero exit; the lines above say which and why
                raise CommandError(_("%(count)d orders could not be closed.") % {"count": refused})
        else:
            self.stdout.write(_("%(count)d orders would be closed.") % {"count": len(orders)})
            self.stdout.write(
                self.style.WARNING(_("Dry run: nothing was closed. Run again with --commit to close them."))
            )
