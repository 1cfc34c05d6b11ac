"""PostgreSQL: a date or time outside Python's calendar loads as the calendar's nearest end.

psycopg refuses to load a timestamp or date before year 1 or after 9999 (a BC date, 'infinity'):
one such row would break every page that reads it. The check constraints keep them out
(crm/fields.py); a row written around them (an older schema, SQL typed by hand, another program)
loads here as 0001-01-02 or 9999-12-30, a day inside the calendar so that time zones never push it
out, which pages show, `manage.py check_data` reports and the forms refuse until it is corrected.
"""

from datetime import UTC, date, datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import DataError
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.postgres import types
from psycopg.pq import Format
from psycopg.types.datetime import DateLoader

EARLIEST: dict[str, date] = {"date": date(1, 1, 2), "timestamptz": datetime(1, 1, 2, tzinfo=UTC)}
LATEST: dict[str, date] = {"date": date(9999, 12, 30), "timestamptz": datetime(9999, 12, 30, tzinfo=UTC)}


class _Tolerant(Loader):
    """Loads what its next loader loads; a value psycopg refuses becomes `earliest` or `latest`."""

    earliest: date
    latest: date

    def load(self, data: Buffer) -> Any:
        try:
            return super().load(data)  # type: ignore[safe-super]  # the loader this one is mixed into
        except DataError:
            text = bytes(data)
            return self.earliest if text.endswith(b"BC") or text.startswith(b"-") else self.latest


def _tolerant(type_name: str, loader: type[Loader]) -> type[Loader]:
    return type(
        f"Tolerant{loader.__name__}",
        (_Tolerant, loader),
        {"earliest": EARLIEST[type_name], "latest": LATEST[type_name]},
    )


def load_dates_outside_the_calendar(sender: object, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """On each new PostgreSQL connection (connection_created). The timestamp loader wraps Django's,
    keeping its time zone (Django checks it on every cursor); dates take psycopg's Python loader, as
    its compiled one cannot be extended."""
    if connection.vendor != "postgresql":
        return
    adapters = connection.connection.adapters
    django_timestamptz_loader = adapters.get_loader(types["timestamptz"].oid, Format.TEXT)
    adapters.register_loader("timestamptz", _tolerant("timestamptz", django_timestamptz_loader))
    adapters.register_loader("date", _tolerant("date", DateLoader))
