from decimal import Decimal

from django import template
from django.utils.timezone import localdate

from crm.report_tables import CHANGE, COUNT, DATE, DAYS, MONEY, NUMBER, PERCENT
from crm.reporting import one_decimal

register = template.Library()


@register.filter
def figure(value, kind):
    """A report's value as people read it: 1,234,567.50 for money, 1,234 for counts, 12.3% for
    percentages, 4.2 for days, +3 for a change; — when there is none."""
    if value is None or value == "":
        return "—"
    if kind == MONEY:
        return f"{Decimal(value):,.2f}"
    if kind == COUNT:
        return f"{int(value):,}"
    if kind == CHANGE:
        return f"{int(value):+,}"
    if kind == PERCENT:
        return f"{Decimal(value):.1f}%"
    if kind == DAYS:
        return f"{one_decimal(value):,}"
    if kind == NUMBER:
        return f"{Decimal(value):,.2f}"
    if kind == DATE:
        return f"{localdate(value):%Y-%m-%d}"
    return value


# How long a shown figure is, from which its tile lets it shrink further (static/crm/crm.css): at most
# 10 characters none, then "m", "l" and, from 18 (hundreds of billions), "xl".
FIGURE_LENGTHS = ((17, "xl"), (13, "l"), (10, "m"))


@register.filter
def figure_length(shown: str) -> str:
    """The length class of a figure as `figure` shows it: "", "m", "l" or "xl"."""
    return next((name for longer_than, name in FIGURE_LENGTHS if len(shown) > longer_than), "")
