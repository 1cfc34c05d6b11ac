"""Readiness: what must answer before a load balancer sends this process traffic (`/readyz`).

Each check raises when its part is not ready. `/healthz` stays the cheaper liveness probe.
"""

import logging
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")


class MigrationsPending(Exception):
    pass


def check_migrations() -> None:
    """A new release is not ready before `migrate` has run: its code may need the new schema."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise MigrationsPending


# Name → check. The task queue's check (the worker's heartbeat) joins here once there is a worker.
READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "migrations": check_migrations,
}


def readiness() -> dict[str, bool]:
    """Each check's name and whether it passed; a failure is logged with its reason, never shown."""
    results = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception:
            logger.warning("Readiness check %s failed", name, exc_info=True)
            results[name] = False
        else:
            results[name] = True
    return results
