"""Serializer fields with the input bounds of crm/fields.py, and references to records by id.

`ModelSerializer` subclasses `BoundedModelSerializer`, whose dates are bounded like every form's
(1900–2999); texts refuse NUL (DRF's CharField does); numbers keep their column's range.
"""

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import FieldDoesNotExist
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


CHOICE_LABEL_HELP = "The label of `%s` in the request's language (Accept-Language: en or zh-hans)."


class LabelledModelSerializer(serializers.ModelSerializer):
    """An output ModelSerializer: each field of the model with choices (a status, a method, an
    industry…) is followed by `<field>_label`, its label in the language of the request (the
    LocaleMiddleware reads Accept-Language), read only and documented in the schema."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        labelled: dict[str, serializers.Field] = {}
        for name, field in fields.items():
            labelled[name] = field
            model_field = _model_field(self.Meta.model, field.source or name)  # unbound: no source yet
            if getattr(model_field, "choices", None) and f"{name}_label" not in fields:
                labelled[f"{name}_label"] = serializers.CharField(
                    source=f"get_{model_field.name}_display",
                    read_only=True,
                    help_text=CHOICE_LABEL_HELP % name,
                )
        return labelled


def _model_field(model: type[models.Model], name: str) -> Any:
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:  # a property or a method, not a column
        return None
