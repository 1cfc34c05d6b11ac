"""`field__any=values`: `field__in=values` sent as one array parameter on PostgreSQL.

`IN (%s, %s, …)` with a placeholder for each value costs the client more to build and send than
the query costs the server when there are hundreds of values (the import looks up every contact
value of a chunk at once); `= ANY(%s)` is one parameter whatever the count. Elsewhere it is `IN`.
"""

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import In
from django.db.models.sql.compiler import SQLCompiler


class AnyOf(In):
    lookup_name = "any"

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, Any]:
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        prep = self.lhs.output_field.get_db_prep_value
        values = [prep(value, connection, prepared=True) for value in self.rhs if value is not None]
        if not values:
            raise EmptyResultSet
        return f"{lhs} = ANY(%s)", (*lhs_params, values)
