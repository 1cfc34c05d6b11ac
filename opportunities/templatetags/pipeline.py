from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def money(value):
    """An amount as people read it: 1,234,567.50."""
    if value in (None, ""):
        return ""
    return f"{Decimal(value):,.2f}"


@register.filter
def duration(value):
    """A timedelta in days and hours (or hours and minutes when under a day)."""
    if value is None:
        return "—"
    hours, seconds = divmod(int(value.total_seconds()), 3600)
    days, hours = divmod(hours, 24)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": seconds // 60}
