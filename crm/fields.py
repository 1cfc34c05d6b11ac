"""Input bounds in one place: what a date, a number, a text or an id may be before it reaches a query.

Every form, filter, htmx fragment, export and cursor of the project reads its input through the
fields below (or through `bounded_formfield`, which gives a ModelForm's fields the same bounds), so
a value the database or the code after it cannot hold gets the field's message instead of a 500:

- a date, or the local day of a time: 1 January 1900 to 31 December 2999 (EARLIEST_DAY, LATEST_DAY),
  far enough from the ends of Python's and the databases' calendars that adding a day, converting
  to UTC or to another time zone never overflows;
- an integer: the range of its PostgreSQL column (SQLite would store more; PostgreSQL refuses it),
  by default a 32-bit `integer`;
- a decimal: its column's digits;
- a text: no NUL character (PostgreSQL cannot store one; Django's CharField refuses it);
- a record's id: ASCII digits, 1 to 2⁶³−1 (`parse_id`), so a huge or exotic number ("²") never
  becomes a query parameter.

tests/test_bounds.py walks every form and filter of the project and fails on a field that is not
bounded, and every form of the admin (crm.admin_site.BoundedFieldsAdmin). The database holds the same
rules for the dates and quantities that matter (see `instants_in_range`, `days_in_range` and
`manage.py check_data`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import reduce
from operator import and_
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
# A stored instant whose local day is in range lies within a day of it in UTC, whatever the time zone.
EARLIEST_INSTANT = datetime(1899, 12, 31, tzinfo=UTC)
LATEST_INSTANT = datetime(3000, 1, 2, tzinfo=UTC)

# The integer columns as PostgreSQL holds them, by the model field's internal type.
INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges
INTEGER_MIN, INTEGER_MAX = INTEGER_RANGES["IntegerField"]
MAX_ID = INTEGER_RANGES["BigIntegerField"][1]


def day_of(value: date) -> date:
    """The calendar day of a date, or the local day of a time as it was given (no conversion)."""
    return value.date() if isinstance(value, datetime) else value


def is_day_in_range(value: date) -> bool:
    return EARLIEST_DAY <= day_of(value) <= LATEST_DAY


def validate_day_in_range(value: date) -> None:
    if not is_day_in_range(value):
        raise ValidationError(
            _("Enter a date between %(earliest)s and %(latest)s."),
            code="out_of_range",
            params={"earliest": date_format(EARLIEST_DAY), "latest": date_format(LATEST_DAY)},
        )


def parse_id(text: object) -> int | None:
    """The record id `text` spells (ASCII digits, 1 to MAX_ID), or None."""
    text = str(text)
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def integer_range(model_field: models.Field[Any, Any]) -> tuple[int, int]:
    """The smallest and largest value the model field's PostgreSQL column holds."""
    return INTEGER_RANGES[model_field.get_internal_type()]


def is_value_in_bounds(model_field: models.Field[Any, Any], value: object) -> bool:
    """Whether a value read from outside (a cursor) fits the model field's column and the bounds above."""
    if value is None:
        return model_field.null
    if isinstance(model_field, models.DateTimeField):
        return isinstance(value, datetime) and value.tzinfo is not None and is_day_in_range(value)
    if isinstance(model_field, models.DateField):
        return isinstance(value, date) and is_day_in_range(value)
    if isinstance(model_field, models.DecimalField):
        try:
            DecimalValidator(model_field.max_digits, model_field.decimal_places)(Decimal(str(value)))
        except (ValidationError, ArithmeticError):
            return False
        return True
    if isinstance(model_field, models.IntegerField):
        low, high = integer_range(model_field)
        return isinstance(value, int) and low <= value <= high
    if isinstance(value, str):
        return "\x00" not in value and len(value) <= (model_field.max_length or len(value))
    return True


# Conditions for database check constraints, null-safe so that `exclude(condition)` finds exactly
# the rows that break them (manage.py check_data).


def instants_in_range(*names: str) -> Q:
    """Datetime columns: each empty, or within the range every form accepts."""
    return _each(names, lambda name: Q(**{f"{name}__gte": EARLIEST_INSTANT, f"{name}__lt": LATEST_INSTANT}))


def days_in_range(*names: str) -> Q:
    """Date columns: each empty, or between EARLIEST_DAY and LATEST_DAY."""
    return _each(names, lambda name: Q(**{f"{name}__range": (EARLIEST_DAY, LATEST_DAY)}))


def integer_in_range(name: str, model_field_class: type[models.Field] = models.IntegerField) -> Q:
    """An integer column within its PostgreSQL range, which SQLite does not enforce."""
    low, high = INTEGER_RANGES[model_field_class().get_internal_type()]
    return Q(**{f"{name}__range": (low, high)})


def _each(names: tuple[str, ...], in_range: Callable[[str], Q]) -> Q:
    return reduce(and_, (Q(**{f"{name}__isnull": True}) | in_range(name) for name in names))


DATES_OUT_OF_RANGE = _("Dates lie between 1900 and 2999.")


# Form fields


class DateInput(forms.DateInput):
    """The browser's date picker; it sends and expects ISO dates whatever the language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        attrs = {"min": EARLIEST_DAY.isoformat(), "max": LATEST_DAY.isoformat(), **(attrs or {})}
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    """The browser's date and time picker, to the minute."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        attrs = {"min": f"{EARLIEST_DAY.isoformat()}T00:00", "max": f"{LATEST_DAY.isoformat()}T23:59"} | (
            attrs or {}
        )
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class DateField(forms.DateField):
    widget = DateInput
    default_validators = [validate_day_in_range]


class DateTimeField(forms.DateTimeField):
    widget = DateTimeInput
    default_validators = [validate_day_in_range]


class IntegerField(forms.IntegerField):
    """An integer within its column's range: a 32-bit `integer` unless `min_value`/`max_value` say less."""

    def __init__(self, *, min_value: int | None = None, max_value: int | None = None, **kwargs: Any) -> None:
        min_value = INTEGER_MIN if min_value is None else max(min_value, INTEGER_MIN)
        max_value = INTEGER_MAX if max_value is None else min(max_value, INTEGER_MAX)
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)


class IdField(forms.IntegerField):
    """A record's number, as typed or sent in an address."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class DecimalField(forms.DecimalField):
    """A decimal with the digits of its column: `max_digits` and `decimal_places` are required."""

    def __init__(self, *, max_digits: int, decimal_places: int, **kwargs: Any) -> None:
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)


def _is_id(field: forms.ModelChoiceField[Any], value: object) -> bool:
    """Whether a choice can name a record: no value that is no record id becomes a query parameter."""
    return field.to_field_name is not None or isinstance(value, models.Model) or parse_id(value) is not None


class ModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and not _is_id(self, value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if not _is_id(self, pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)  # type: ignore[misc]  # Django's, not in its stubs


# A ModelForm's fields, from its model's fields


def form_class_for(db_field: models.Field[Any, Any]) -> type[forms.Field] | None:
    """The bounded form field class for a model field, where Django's own is not bounded."""
    if isinstance(db_field, models.ManyToManyField):
        return ModelMultipleChoiceField
    if isinstance(db_field, models.ForeignKey):
        return ModelChoiceField
    if isinstance(db_field, models.DateTimeField):
        return DateTimeField
    if isinstance(db_field, models.DateField):
        return DateField
    return None


def bounded_formfield(db_field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    """The form field for a model field, with the bounds of this module (a ModelForm's formfield_callback)."""
    form_class = form_class_for(db_field)
    if form_class is not None and not db_field.choices:
        kwargs.setdefault("form_class", form_class)
    return bound(db_field, db_field.formfield(**kwargs))


def bound(db_field: models.Field[Any, Any], field: forms.Field | None) -> forms.Field | None:
    """Adds the bounds of the model field's kind to its form field, wherever that was made (the admin)."""
    if isinstance(db_field, models.DateField) and field is not None:
        if validate_day_in_range not in field.validators:
            field.validators.append(validate_day_in_range)
    elif isinstance(db_field, models.IntegerField) and isinstance(field, forms.IntegerField):
        low, high = integer_range(db_field)
        if not isinstance(field.min_value, int) or field.min_value < low:
            field.validators.append(MinValueValidator(low))
        if not isinstance(field.max_value, int) or field.max_value > high:
            field.validators.append(MaxValueValidator(high))
    return field
