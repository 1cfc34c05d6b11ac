import argparse
from datetime import timedelta

from django.utils.translation import gettext as _

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def duration(text):
    """A command-line duration such as 90m, 72h, 30d or 2w (an argparse type)."""
    text = (text or "").strip().lower()
    if len(text) < 2 or text[-1] not in UNITS or not text[:-1].isdigit():
        raise argparse.ArgumentTypeError(
            _("a number with m, h, d or w, such as 72h or 30d, not “%(value)s”") % {"value": text}
        )
    return timedelta(**{UNITS[text[-1]]: int(text[:-1])})
