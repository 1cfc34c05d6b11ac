"""Pieces the list filters of every app share.

Every filter reads its value through a bounded form field (crm/fields.py): a value out of range
makes the filter form invalid, the list shows its message at the field and no rows, never a 500.
Use the filters below rather than django-filter's own where they differ.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import DecimalField as DecimalColumn
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.filters import QuerySetRequestMixin

from crm import fields
from crm.models import model_field

ANY = _("Any")


def start_of_day(day: date) -> datetime:
    """The first instant of a local calendar day."""
    return timezone.make_aware(datetime.combine(day, time.min))


def end_of_day(day: date) -> datetime:
    """The first instant of the next local day: a day is the range [start_of_day, end_of_day)."""
    return start_of_day(day + timedelta(days=1))


class DateFilter(django_filters.DateFilter):
    field_class = fields.DateField


class DecimalFilter(django_filters.NumberFilter):
    """A decimal bound with the digits of the column it compares with."""

    field_class = fields.DecimalField
    model: type[Model]  # set by the FilterSet

    @property
    def field(self) -> forms.Field:
        if not hasattr(self, "_field") and self.field_name:
            column = model_field(self.model, self.field_name)
            if isinstance(column, DecimalColumn):
                self.extra.setdefault("max_digits", column.max_digits)
                self.extra.setdefault("decimal_places", column.decimal_places)
        return super().field


class IdFilter(django_filters.Filter):
    """Rows that point at one record, by its number."""

    field_class = fields.IdField


class _ModelChoiceField(fields.ModelChoiceField, django_filters.fields.ModelChoiceField):
    """django-filter's choice of a record (its empty and null choices), taking ids only."""


class _ModelMultipleChoiceField(
    fields.ModelMultipleChoiceField, django_filters.fields.ModelMultipleChoiceField
):
    """django-filter's choice of records, taking ids only."""


class ModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = _ModelChoiceField


class ModelMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = _ModelMultipleChoiceField


class DayFromFilter(DateFilter):
    """Rows of a datetime field from the start of a local day on, as a range its index serves."""

    def filter(self, qs: QuerySet[Any], value: date | None) -> QuerySet[Any]:
        return qs.filter(**{f"{self.field_name}__gte": start_of_day(value)}) if value else qs


class DayUntilFilter(DayFromFilter):
    """Rows of a datetime field up to the end of a local day."""

    def filter(self, qs: QuerySet[Any], value: date | None) -> QuerySet[Any]:
        return qs.filter(**{f"{self.field_name}__lt": end_of_day(value)}) if value else qs


def yes_no_any() -> forms.Select:
    return forms.Select(choices=[("", ANY), ("true", _("Yes")), ("false", _("No"))])


def owner_filter() -> django_filters.ModelChoiceFilter:
    """An owner filter; the FilterSet keeps it for managers only (see OwnerFilterMixin)."""
    return ModelChoiceFilter(queryset=get_user_model().objects.none(), label=_("Owner"), empty_label=ANY)


def offer_choices(filterset: django_filters.FilterSet, name: str, queryset: QuerySet[Any]) -> None:
    """What the model choice filter `name` of this filterset instance offers (and accepts)."""
    choice_filter = filterset.filters[name]
    if not isinstance(choice_filter, QuerySetRequestMixin):
        raise TypeError(
            f"The filter {name!r} is a {type(choice_filter).__name__}, not a model choice filter."
        )
    choice_filter.queryset = queryset


class OwnerFilterMixin(django_filters.FilterSet):
    """The base of a FilterSet with an `owner` filter: `owners` (the users to choose from) keeps it,
    for managers; without it the filter is removed."""

    def __init__(self, *args: Any, owners: QuerySet[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if owners is not None:
            offer_choices(self, "owner", owners)
        else:
            del self.filters["owner"]
