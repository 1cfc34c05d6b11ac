"""Pieces the list filters of every app share."""

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ANY = _("Any")
DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def start_of_day(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def yes_no_any():
    return forms.Select(choices=[("", ANY), ("true", _("Yes")), ("false", _("No"))])


def owner_filter():
    """An owner filter; the FilterSet keeps it for managers only (see OwnerAndDaysMixin)."""
    return django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.none(), label=_("Owner"), empty_label=ANY
    )


class OwnerAndDaysMixin:
    """For a FilterSet with an `owner` filter and date filters on datetime fields.

    `owners` (the users to choose from) keeps the owner filter, for managers; without it the
    filter is removed. Date filters with method="filter_from" or "filter_until" take whole local
    days as datetime bounds of their field_name, so that the field's index serves the range.
    """

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if owners is not None:
            self.filters["owner"].queryset = owners
        else:
            del self.filters["owner"]

    def filter_from(self, queryset, name, value):
        return queryset.filter(**{f"{name}__gte": start_of_day(value)})

    def filter_until(self, queryset, name, value):
        return queryset.filter(**{f"{name}__lt": start_of_day(value + timedelta(days=1))})
