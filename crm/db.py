"""PostgreSQL: a date or time outside Python's calendar loads as the calendar's nearest end.

psycopg refuses to load a timestamp or date before year 1 or after 9999 (a BC date, 'infinity'):
one such row would break every page that reads it. The check constraints keep them out
(crm/fields.py); a row written around them (an older schema, SQL typed by hand, another program)
loads here as 0001-01-02 or 9999-12-30, a day inside the calendar so that time zones never push it
out, which pages show, `manage.py check_data` reports and the forms refuse until it is corrected.
"""

from datetime import UTC, date, datetime

from psycopg import DataError
from psycopg.adapt import Loader
from psycopg.postgres import types
from psycopg.pq import Format
from psycopg.types.datetime import DateLoader

EARLIEST = {"date": date(1, 1, 2), "timestamptz": datetime(1, 1, 2, tzinfo=UTC)}
LATEST = {"date": date(9999, 12, 30), "timestamptz": datetime(9999, 12, 30, tzinfo=UTC)}


def _tolerant(type_name: str, loader: type[Loader]) -> type[Loader]:
    class TolerantLoader(loader):
        def load(self, data):
            try:
                return super().load(data)
            except DataError:
                text = bytes(data)
                early = text.endswith(b"BC") or text.startswith(b"-")
                return (EARLIEST if early else LATEST)[type_name]

    return TolerantLoader


def load_dates_outside_the_calendar(sender, connection, **kwargs) -> None:
    """On each new PostgreSQL connection (connection_created). The timestamp loader wraps Django's,
    keeping its time zone (Django checks it on every cursor); dates take psycopg's Python loader, as
    its compiled one cannot be extended."""
    if connection.vendor != "postgresql":
        return
    adapters = connection.connection.adapters
    django_timestamptz_loader = adapters.get_loader(types["timestamptz"].oid, Format.TEXT)
    adapters.register_loader("timestamptz", _tolerant("timestamptz", django_timestamptz_loader))
    adapters.register_loader("date", _tolerant("date", DateLoader))
