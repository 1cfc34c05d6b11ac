"""Field history as pages show it: who changed a record, when, and each field's old → new value."""

from collections import defaultdict

from django.contrib.auth import get_user_model

HISTORY_LIMIT = 30


def field_changes(history, limit=HISTORY_LIMIT):
    """The latest changes of a record, newest first: who, when, and each field's old → new value."""
    records = list(history.order_by("-history_date", "-history_id")[: limit + 1])
    return describe_changes(records)[:limit]


def describe_changes(records):
    """Each history record of `records` (one record's, newest first) with its fields' old → new values.

    A record is compared with the next one in the list; the last one, having nothing to compare
    with, lists no changes. Related records are named, read with one query per related model.
    """
    described, related = [], defaultdict(set)
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


def _names(model, pks):
    """How each of these records is named in a change history: people by their full name."""
    user_model = get_user_model()
    return {
        pk: (record.get_full_name() or record.get_username()) if model is user_model else str(record)
        for pk, record in model._base_manager.in_bulk(pks).items()
    }


def _display(field, value, names):
    if field.choices:
        return dict(field.flatchoices).get(value, value) or "—"
    if field.is_relation:
        return names[field.related_model].get(value, f"#{value}") if value else "—"
    return value if value not in (None, "") else "—"
