"""Reads on a PostgreSQL replica: reports and exports read there when one is configured.

`DATABASE_REPLICA_URL` adds the database alias "replica" (crm/settings.py). ReplicaRouter sends a
read there only inside `replica_reads()` (the report pages, through the `reads_on_replica` view
decorator, and the list exports, crm/lists.py), and only when it cannot precede a write:

- every write goes to the primary ("default");
- a read inside a transaction of the primary stays there (a transaction reads to write);
- once the request has written, its reads stay on the primary: it sees what it wrote.

A replica is a little behind its primary, so a report may miss the last second of changes; the
pages that act on data (forms, lists, records) always read the primary.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.core.signals import request_started
from django.db import DEFAULT_DB_ALIAS, connections
from django.dispatch import receiver

REPLICA = "replica"
P = ParamSpec("P")
R = TypeVar("R")

_reading_replica: ContextVar[bool] = ContextVar("reading_replica", default=False)
_wrote: ContextVar[bool] = ContextVar("wrote", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES and settings.REPLICA_READS


@receiver(request_started)
def _new_request(**kwargs: Any) -> None:
    _wrote.set(False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads in this block may go to the replica (see the module's docstring)."""
    token = _reading_replica.set(True)
    try:
        yield
    finally:
        _reading_replica.reset(token)


def reads_on_replica(view: Callable[P, R]) -> Callable[P, R]:
    """A view whose reads may go to the replica."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped


def read_database() -> str:
    """Where a read goes now: the replica when the rules above allow it, else the primary."""
    allowed = _reading_replica.get() and not _wrote.get() and replica_configured()
    if not allowed or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return REPLICA


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str:
        return read_database()

    def db_for_write(self, model: type, **hints: Any) -> str:
        _wrote.set(True)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # a replica follows its primary's schema
