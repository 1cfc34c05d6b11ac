"""Field history as pages show it: who changed a record, when, why, and each field's old → new value.

Why a record changed (simple-history's `history_change_reason`) is stored as a code from REASONS,
with its parameters when it has any, never as a sentence: `change_reason("merged_into", customer=12)`
is what a service assigns to `instance._change_reason`, and `describe_reason` turns it into a sentence
in the reader's language when a page shows it. A stored value that is no code (written by hand, or by
an older version) is shown as it is.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import BooleanField, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.names import display_name

HISTORY_LIMIT = 30
quote_name = connection.ops.quote_name
# The attributes of an instance that django-simple-history writes its next record with.
HISTORY_DATE, HISTORY_USER = "_history_date", "_history_user"

# Every reason a service records, by code. A text's %(name)s placeholders are the parameters.
REASONS: dict[str, Promise] = {
    # customers
    "owner_reassigned": _("Owner reassigned"),
    "tags_changed": _("Tags changed"),
    "merged_from": _("Merged customer #%(customer)s “%(name)s” into this one"),
    "merged_into": _("Merged into customer #%(customer)s"),
    "active_by_order": _("Active: an order was confirmed"),
    "active_by_deal": _("Active: a deal was won"),
    "moved_by_merge": _("Moved from customer #%(customer)s “%(name)s”, merged into this one"),
    # orders
    "lines_changed": _("Lines changed"),
    "payment_recorded": _("Payment recorded"),
    "refund_recorded": _("Refund recorded"),
    "credit_note_issued": _("Credit note %(number)s issued"),
    "order_confirmed": _("Order confirmed"),
    "order_processing": _("Processing started"),
    "order_finished": _("Order finished"),
    "order_closed": _("Order closed"),
    # opportunities
    "stage_moved": _("Moved to another stage"),
    "won": _("Won: order %(order_number)s"),
    "lost": pgettext_lazy("stage kind", "Lost"),
    "reopened": _("Reopened"),
    "imported": _("Imported with its history"),
    # follow-ups
    "rescheduled": _("Rescheduled"),
    "reassigned": _("Reassigned"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
    # users leaving (accounts.services.deactivate_user)
    "handed_over": _("Handed over from %(name)s, who left"),
}


def change_reason(code: str, **parameters: Any) -> str:
    """What to store as a history record's change reason: the code, with its parameters as JSON."""
    if code not in REASONS:
        raise ValueError(f"unknown change reason {code!r}")
    if not parameters:
        return code
    return json.dumps({"code": code, **parameters}, ensure_ascii=False, sort_keys=True)


def date_history(instance: Model, at: datetime, user: Any = None) -> None:
    """Dates the history record that the instance's next save or bulk_history_create writes, for a
    record made in the past (demo data); `user`, when given, is who made it."""
    setattr(instance, HISTORY_DATE, at)
    if user is not None:
        setattr(instance, HISTORY_USER, user)


def parse_reason(stored: str | None) -> tuple[str, dict[str, Any]] | None:
    """The code and parameters of a stored change reason, or None when it is no code."""
    if not stored:
        return None
    if stored in REASONS:
        return stored, {}
    if stored.startswith("{"):
        try:
            parameters = json.loads(stored)
        except ValueError:
            return None
        if isinstance(parameters, dict) and parameters.get("code") in REASONS:
            code = parameters.pop("code")
            return code, parameters
    return None


def describe_reason(stored: str | None) -> str:
    """A stored change reason as a sentence in the active language ("" when there is none).

    Any reason may name tags added and removed with it (`tags_added`, `tags_removed`).
    """
    parsed = parse_reason(stored)
    if parsed is None:
        return stored or ""
    code, parameters = parsed
    text = str(REASONS[code])  # in the active language
    text = text % parameters if parameters else text
    tags = _describe_tags(parameters)
    if not tags:
        return text
    return gettext("%(reason)s: %(tags)s") % {"reason": text, "tags": tags}


def _describe_tags(parameters: Mapping[str, Any]) -> str:
    parts = []
    if parameters.get("tags_added"):
        parts.append(gettext("added %(tags)s") % {"tags": ", ".join(parameters["tags_added"])})
    if parameters.get("tags_removed"):
        parts.append(gettext("removed %(tags)s") % {"tags": ", ".join(parameters["tags_removed"])})
    return gettext("; ").join(parts)


def set_history_context(instance: Model, *, user: Any, reason: str | None = None) -> None:
    """Who makes the next change to `instance` and why (a change_reason()): its history record says so.

    `user` None is the system; the reason of an earlier change of the same instance is never reused.
    """
    instance._history_user = user  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]


def actor_name(user: Any) -> str:
    """Who did something, as pages name them: a person by their full name, nobody as the system."""
    if user is None:
        return gettext("System")
    return display_name(user)


# Reading histories


def _related_fields(model: type[Model]) -> list[str]:
    return [field.name for field in model._meta.concrete_fields if field.is_relation]


def field_changes(history: QuerySet, *parts: QuerySet, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """The latest changes of a record and of its `parts` (e.g. an order's lines), newest first.

    Each is who, when, why, and each field's old → new value; a part's names what it is. Costs one
    query per history, whatever the data.
    """
    records: list[Any] = []
    previous: dict[tuple[type, Any], Any] = {}
    for queryset in (history, *parts):
        found, before = read_window(queryset.order_by("-history_date", "-history_id")[:limit])
        records += found
        previous |= before
    records.sort(key=lambda record: (record.history_date, record.history_id), reverse=True)
    return describe_changes(records[:limit], previous, main_model=history.model)


def read_window(window: QuerySet) -> tuple[list[Any], dict[tuple[type, Any], Any]]:
    """The history records of `window` (a sliced queryset, newest first) and the record before each
    (of the same object), in one query whatever they hold, with who made them and the records they
    name; each record carries `previous_history_id`.

    The query's subqueries are written here around the window's own SQL: composing them with the
    ORM cost several times what running them does, and a customer's timeline reads three histories.
    """
    model = window.model
    table = quote_name(model._meta.db_table)
    shown, params = window.values(
        model.instance_type._meta.pk.attname, "history_id", "history_date"
    ).query.sql_with_params()
    ids = (
        f"SELECT shown.history_id FROM ({shown}) shown "
        f"UNION ALL SELECT {_previous_id(model, 'shown')} FROM ({shown}) shown"
    )
    rows = list(
        model._default_manager.select_related(*_related_fields(model))
        .filter(history_id__in=RawSQL(ids, (*params, *params)))
        .annotate(
            previous_history_id=RawSQL(_previous_id(model, table), ()),
            in_window=RawSQL(
                f"{table}.history_id IN (SELECT shown.history_id FROM ({shown}) shown)",
                params,
                output_field=BooleanField(),
            ),
        )
        .order_by("-history_date", "-history_id")
    )
    return [row for row in rows if row.in_window], {(model, row.history_id): row for row in rows}


def _previous_id(model: Any, record: str) -> str:
    """SQL for the id of the record in history `model` before `record` (an alias of a row with the
    object's id, history_id and history_date) of the same object, or NULL."""
    table = quote_name(model._meta.db_table)
    object_id = quote_name(model.instance_type._meta.pk.column)
    return (
        f"(SELECT earlier.history_id FROM {table} earlier WHERE earlier.{object_id} = {record}.{object_id} "
        f"AND (earlier.history_date < {record}.history_date OR (earlier.history_date = {record}.history_date "
        f"AND earlier.history_id < {record}.history_id)) "
        "ORDER BY earlier.history_date DESC, earlier.history_id DESC LIMIT 1)"
    )


def describe_changes(
    records: Sequence[Any], previous: Mapping[tuple[type, Any], Any], main_model: type[Model] | None = None
) -> list[dict[str, Any]]:
    """Each history record with its fields' old → new values, its reason, and what it is about.

    Each record is compared with the record before it, found in `previous` (see read_window). A
    record of another model than `main_model` (a part of the record the page is about) names itself
    as its `subject`.
    """
    described = []
    for record in records:
        older = previous.get((type(record), getattr(record, "previous_history_id", None)))
        entry = {
            "record": record,
            "changes": [],
            "reason": describe_reason(record.history_change_reason),
            "subject": _subject(record) if main_model and type(record) is not main_model else "",
        }
        if older is not None and record.history_type == "~":
            delta = record.diff_against(older, foreign_keys_are_objs=False)
            for change in delta.changes:
                field = record.instance_type._meta.get_field(change.field)
                entry["changes"].append(
                    {
                        "field": field.verbose_name,
                        "old": _display(field, change.old, older),
                        "new": _display(field, change.new, record),
                    }
                )
        described.append(entry)
    return described


def _subject(record: Any) -> str:
    """A part's kind and name as a change history shows it, e.g. Order line “2 × Widget”."""
    return gettext("%(kind)s “%(name)s”") % {
        "kind": str(record.instance_type._meta.verbose_name).capitalize(),
        "name": record.instance,
    }


def _display(field: Any, value: Any, record: Any) -> Any:
    """A field's value as a change history shows it; a related record by its name (read with
    `record`), or by its id once it is gone."""
    if field.choices:
        return dict(field.flatchoices).get(value, value) or "—"
    if field.is_relation:
        if not value:
            return "—"
        related = getattr(record, field.name, None)
        if related is None:
            return f"#{value}"
        return actor_name(related) if isinstance(related, get_user_model()) else str(related)
    return value if value not in (None, "") else "—"
