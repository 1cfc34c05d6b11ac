"""Pieces the list filters of every app share."""

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.forms import DateInput

ANY = _("Any")


def start_of_day(day):
    """The first instant of a local calendar day."""
    return timezone.make_aware(datetime.combine(day, time.min))


def end_of_day(day):
    """The first instant of the next local day: a day is the range [start_of_day, end_of_day)."""
    return start_of_day(day + timedelta(days=1))


class DayFromFilter(django_filters.DateFilter):
    """Rows of a datetime field from the start of a local day on, as a range its index serves."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", DateInput)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return qs.filter(**{f"{self.field_name}__gte": start_of_day(value)}) if value else qs


class DayUntilFilter(DayFromFilter):
    """Rows of a datetime field up to the end of a local day."""

    def filter(self, qs, value):
        return qs.filter(**{f"{self.field_name}__lt": end_of_day(value)}) if value else qs


def yes_no_any():
    return forms.Select(choices=[("", ANY), ("true", _("Yes")), ("false", _("No"))])


def owner_filter():
    """An owner filter; the FilterSet keeps it for managers only (see OwnerFilterMixin)."""
    return django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.none(), label=_("Owner"), empty_label=ANY
    )


class OwnerFilterMixin:
    """For a FilterSet with an `owner` filter: `owners` (the users to choose from) keeps it, for
    managers; without it the filter is removed."""

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if owners is not None:
            self.filters["owner"].queryset = owners
        else:
            del self.filters["owner"]
