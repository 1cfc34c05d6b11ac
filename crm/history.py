"""Field history as pages show it: who changed a record, when, and each field's old → new value."""

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import models

# A historical record of django-simple-history (untyped): the row as it was, plus history_* fields.
HistoricalRecord = Any

HISTORY_LIMIT = 30
# The attributes of an instance that django-simple-history writes its next record with.
HISTORY_DATE, HISTORY_USER = "_history_date", "_history_user"


def date_history(instance: models.Model, at: datetime, user: User | None = None) -> None:
    """Dates the history record that the instance's next save or bulk_history_create writes, for a
    record made in the past (demo data); `user`, when given, is who made it."""
    setattr(instance, HISTORY_DATE, at)
    if user is not None:
        setattr(instance, HISTORY_USER, user)


def field_changes(
    history: models.QuerySet[HistoricalRecord], limit: int = HISTORY_LIMIT
) -> list[dict[str, Any]]:
    """The latest changes of a record, newest first: who, when, and each field's old → new value."""
    records = list(history.order_by("-history_date", "-history_id")[: limit + 1])
    return describe_changes(records)[:limit]


def describe_changes(records: list[HistoricalRecord]) -> list[dict[str, Any]]:
    """Each history record of `records` (one record's, newest first) with its fields' old → new values.

    A record is compared with the next one in the list; the last one, having nothing to compare
    with, lists no changes. Related records are named, read with one query per related model.
    """
    described: list[dict[str, Any]] = []
    related: defaultdict[type[models.Model], set[Any]] = defaultdict(set)
    for index, newer in enumerate(records):
        older = records[index + 1] if index + 1 < len(records) else None
        entry = {"record": newer, "changes": []}
        if older is not None and newer.history_type == "~":
            delta = newer.diff_against(older, foreign_keys_are_objs=False)
            for change in delta.changes:
                field = newer.instance_type._meta.get_field(change.field)
                if field.is_relation:
                    related[field.related_model] |= {value for value in (change.old, change.new) if value}
                entry["changes"].append({"field": field, "old": change.old, "new": change.new})
        described.append(entry)
    names = {model: _names(model, pks) for model, pks in related.items()}
    for entry in described:
        for change in entry["changes"]:
            field = change["field"]
            change.update(
                field=field.verbose_name,
                old=_display(field, change["old"], names),
                new=_display(field, change["new"], names),
            )
    return described


def _names(model: type[models.Model], pks: Collection[Any]) -> dict[Any, str]:
    """How each of these records is named in a change history: people by their full name."""
    return {pk: _name(record) for pk, record in model._base_manager.in_bulk(pks).items()}


def _name(record: models.Model) -> str:
    if isinstance(record, get_user_model()):
        return record.get_full_name() or record.get_username()
    return str(record)


def _display(field: models.Field, value: Any, names: dict[type[models.Model], dict[Any, str]]) -> Any:
    if field.choices:
        return dict(field.flatchoices).get(value, value) or "—"
    if field.related_model is not None:
        return names[field.related_model].get(value, f"#{value}") if value else "—"
    return value if value not in (None, "") else "—"
