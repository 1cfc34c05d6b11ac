"""Serializer fields with the input bounds of crm/fields.py, and references to records by id.

`ModelSerializer` subclasses `BoundedModelSerializer`, whose dates are bounded like every form's
(1900–2999); texts refuse NUL (DRF's CharField does); numbers keep their column's range.
"""

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import models
from rest_framework import serializers

from crm.fields import INTEGER_MAX, INTEGER_MIN, parse_id, validate_day_in_range


class DateTimeField(serializers.DateTimeField):
    default_validators = [validate_day_in_range]


class DateField(serializers.DateField):
    default_validators = [validate_day_in_range]


class IntegerField(serializers.IntegerField):
    """An integer within a 32-bit column unless `min_value`/`max_value` say less."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["min_value"] = max(kwargs.get("min_value", INTEGER_MIN), INTEGER_MIN)
        kwargs["max_value"] = min(kwargs.get("max_value", INTEGER_MAX), INTEGER_MAX)
        super().__init__(**kwargs)


class RecordField(serializers.PrimaryKeyRelatedField):
    """A record by its id, among those the requesting user may see (an owned model's `visible_to`).

    An id that is no record id (text, a float, a huge number) is refused as "does not exist", before it
    reaches a query.
    """

    def __init__(self, model: type[models.Model], **kwargs: Any) -> None:
        super().__init__(queryset=model._default_manager.all(), **kwargs)

    def get_queryset(self) -> Any:
        queryset: Any = super().get_queryset()
        if hasattr(queryset, "visible_to"):
            queryset = queryset.visible_to(self.context["request"].user)
        if queryset.model is User:
            queryset = queryset.filter(is_active=True)
        return queryset

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or parse_id(data) is None:
            self.fail("does_not_exist", pk_value=str(data)[:20])
        return super().to_internal_value(data)


def money(*, not_negative: bool = False, **kwargs: Any) -> serializers.DecimalField:
    """An amount as the money columns hold it (14 digits, 2 decimals), optionally at least 0."""
    if not_negative:
        kwargs["min_value"] = Decimal("0")
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def many(serializer: serializers.Serializer, *, max_length: int, **kwargs: Any) -> serializers.ListField:
    """A list of up to `max_length` items, each checked by `serializer`."""
    return serializers.ListField(child=serializer, max_length=max_length, **kwargs)


class BoundedModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose date fields are bounded like the forms' (see crm/fields.py)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: DateTimeField,
        models.DateField: DateField,
    }
