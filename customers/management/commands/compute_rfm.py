from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from customers.segmentation import compute_rfm


class Command(BaseCommand):
    help = (
        "Score every customer with finished orders by recency, frequency and monetary value (1–5) and "
        "store their RFM segment with today's date. Run it nightly; running it again the same day "
        "replaces that day's scores."
    )

    def handle(self, *args, **options):
        scored = compute_rfm(actor=None)
        self.stdout.write(_("%(count)d customers scored.") % {"count": scored})
