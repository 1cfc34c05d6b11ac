"""Who may see and change what: the core every app's access rules are built on.

Two questions, each answered in one place:
- May the user see a record? `VisibleQuerySet.visible_to` (crm/models.py) in SQL, and `can_see` here for
  a record already loaded, both from the owner paths its queryset names.
- May the actor change it? One `can_change_<kind>(actor, record)` per kind of record, in the app's
  access.py, built on `acts_for`; services, views, template tags and selectors all ask that function.

`None` as the actor is the system (automation, commands, imports run by operations): it acts with
managers' rights on every record.

Pages fetch a record by id only through the apps' access helpers (Zulip's `access_stream_by_id`),
`access_<kind>(user, pk, *, for_write=False)`, built on `access` below: a record the user may not see,
or may not change when they mean to change it, answers 404 whether it exists or not.
"""

from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from accounts.scope import visibility_scope
from crm.fields import parse_id
from crm.models import owner_paths
from crm.roles import is_manager

RecordT = TypeVar("RecordT", bound=Model)


def acts_as_manager(actor: User | None) -> bool:
    """The system and managers act on every record."""
    return actor is None or is_manager(actor)


def acts_for(actor: User | None, *user_ids: int | None) -> bool:
    """Whether the actor may act on a record that belongs to these users (its owner, its assignee, its
    customer's owner): the system and managers always, a team lead for their team's members, everyone
    else for themselves (accounts/scope.py)."""
    return visibility_scope(actor).covers(*user_ids)


def require(allowed: bool, message: str | Promise) -> None:
    """Raises PermissionDenied with `message` unless `allowed`."""
    if not allowed:
        raise PermissionDenied(message)


def require_manager(actor: User | None) -> None:
    if not acts_as_manager(actor):  # the message is translated only when refused: imports call this per row
        raise PermissionDenied(_("Only managers may do this."))


def _owner_id(record: Model, path: str) -> int | None:
    """The id of the user `path` (e.g. "customer__owner") names for a loaded record."""
    *hops, last = path.split("__")
    target: Model | None = record
    for hop in hops:
        target = getattr(target, hop)
        if target is None:
            return None
    return getattr(target, f"{last}_id")


def can_see(user: User | None, record: Model) -> bool:
    """In memory, what `visible_to` decides in SQL: by the owner paths of the record's queryset."""
    if visibility_scope(user).sees_all:
        return True
    records = type(record)._default_manager.all()
    parent_field = getattr(records, "visible_with", None)
    if parent_field is not None:
        parent = getattr(record, parent_field)
        return parent is not None and can_see(user, parent)
    paths = owner_paths(records)
    if not paths:  # a record without owners, e.g. a product: everyone signed in sees it
        return True
    return acts_for(user, *(_owner_id(record, path) for path in paths))


def access(
    records: QuerySet[RecordT],
    user: User | None,
    pk: object,
    *,
    can_change: Callable[[User | None, RecordT], bool],
    for_write: bool = False,
) -> RecordT:
    """The record `pk` among `records` if the user sees it, and, `for_write`, may change it; else 404.

    The answer is the same whether the record exists or not, so ids cannot be probed.
    """
    record_id = parse_id(pk)
    if record_id is None:  # no id ("²", twenty digits): it never reaches the database
        raise Http404
    try:
        record = records.visible_to(user).get(pk=record_id)  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        raise Http404 from None
    if for_write and not can_change(user, record):
        raise Http404
    return record
