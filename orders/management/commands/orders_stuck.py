from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.management.durations import duration
from orders.models import Status
from orders.selectors import STATUS_SINCE, in_status_for, stuck_orders


class Command(BaseCommand):
    help = (
        "List the orders that have been in one status longer than a time, "
        "e.g. --status processing --older-than 72h."
    )

    def add_arguments(self, parser):
        parser.add_argument("--status", required=True, choices=[str(status) for status in STATUS_SINCE])
        parser.add_argument(
            "--older-than",
            required=True,
            type=duration,
            help="How long in the status: a number with m, h, d or w (72h, 30d).",
        )

    def handle(self, *args, status, older_than, **options):
        now = timezone.now()
        orders = stuck_orders(status, older_than, now=now)
        count = 0
        for order in orders.iterator(chunk_size=500):
            count += 1
            waited = in_status_for(order, now)
            self.stdout.write(
                f"{order.number}\t{order.customer.name}\t{order.owner.get_username()}\t"
                f"{timezone.localtime(getattr(order, STATUS_SINCE[status])):%Y-%m-%d %H:%M}\t"
                + _("%(days)d d %(hours)d h")
                % {"days": waited.days, "hours": waited.seconds // 3600}
            )
        label = Status(status).label
        self.stdout.write(
            _("%(count)d orders have been “%(status)s” since before %(cutoff)s.")
            % {
                "count": count,
                "status": label,
                "cutoff": f"{timezone.localtime(now - older_than):%Y-%m-%d %H:%M}",
            }
        )
