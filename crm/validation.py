"""Vouching for many rows of text fields at once, with the bounds the model's fields declare.

`Model.full_clean` builds the checks of every field for every instance, which costs a large import
more than anything else it does per row. `text_fields_valid` checks the same bounds (length,
choices, blank) from rules read once per field, and only says yes or "cannot vouch": when it cannot,
the caller runs `full_clean`, whose messages say why, so that every message stays Django's own.
"""

from collections.abc import Mapping
from functools import cache
from typing import Any

from django.core.validators import MaxLengthValidator
from django.db import models


class _TextRule:
    """What Field.clean checks of a text field: the most characters, the choices, whether it may be blank."""

    def __init__(self, field: models.Field[Any, Any]) -> None:
        self.max_length = field.max_length
        self.choices = frozenset(str(value) for value, _label in field.flatchoices) if field.choices else None
        self.blank = field.blank

    def passes(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        if not value:
            return self.blank
        if self.max_length is not None and len(value) > self.max_length:
            return False
        return self.choices is None or value in self.choices


def _plain_text(field: models.Field[Any, Any]) -> bool:
    """A CharField or TextField checked by nothing but its length, choices and blank."""
    if not isinstance(field, models.CharField | models.TextField) or field.null:
        return False
    return all(isinstance(validator, MaxLengthValidator) for validator in field.validators)


@cache
def _rules(model: type[models.Model]) -> tuple[dict[str, _TextRule], tuple[str, ...]] | None:
    """The model's text rules by field name, and the fields a row must give (no blank, no default);
    None when the model's own `clean` checks more than its fields."""
    if model.clean is not models.Model.clean:
        return None
    fields = [field for field in model._meta.concrete_fields if isinstance(field, models.Field)]
    rules = {field.name: _TextRule(field) for field in fields if _plain_text(field)}
    required = tuple(
        field.name
        for field in fields
        if not field.blank and not field.has_default() and not field.is_relation
    )
    return rules, required


def text_fields_valid(model: type[models.Model], values: Mapping[str, Any]) -> bool:
    """True when `values` (by field name) are all text fields of `model` that pass what `full_clean`
    checks of them, and give every field the model requires without a default; False when some value
    fails, or is of a field this does not judge: `full_clean` then says why."""
    model_rules = _rules(model)
    if model_rules is None:
        return False
    rules, required = model_rules
    for name, value in values.items():
        rule = rules.get(name)
        if rule is None or not rule.passes(value):
            return False
    return all(name in values for name in required)
