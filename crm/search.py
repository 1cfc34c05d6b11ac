"""Fragment search: the rows any of several indexed lookups finds, with work that stays bounded.

A search is a union of parts, each one indexed lookup over the rows the caller may see (a trigram
index on a name, a contact value, a title...). A short fragment that many rows share ("Dav", "科技")
matches tens of thousands of rows at a million customers; sorting them all to show a page of 25 is
what made a search slow. With a `limit`, each part is read only until it has found limit + 1 rows
(PostgreSQL; the order is the index's, not the page's) and the union keeps limit + 1 of them: a
list shows and counts at most that many ("200+"), a type-ahead picks its few from them, and a longer
fragment narrows the search to every row it matches. Without a `limit` the union is exact.
"""

from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db.models import Lookup, QuerySet
from django.db.models.lookups import IContains


def matching_ids(parts: Sequence[QuerySet[Any]], limit: int | None = None) -> QuerySet[Any]:
    """The primary keys of the rows any of `parts` holds (querysets of one model); with `limit`, at
    most limit + 1 of them, more than `limit` exactly when more than `limit` rows match."""
    ids = [part.order_by().values("pk") for part in parts]
    if limit is None:
        return ids[0].union(*ids[1:])
    if connections[ids[0].db].features.supports_slicing_ordering_in_compound:
        ids = [part[: limit + 1] for part in ids]
    return ids[0].union(*ids[1:])[: limit + 1]


# Trigrams cannot find a fragment shorter than three characters: "王伟", a whole Chinese name, would
# read every row. Names and titles also have an index of each of their characters and character
# pairs (`crm_grams`, crm/migrations/0005), which a shorter fragment is looked up in.
SHORTEST_TRIGRAM_FRAGMENT = 3


class Fragment(Lookup):
    """`field__fragment=text`: the field contains `text`, case-insensitively (as `icontains`), by an
    index on PostgreSQL whatever the fragment's length: the trigram index from three characters, the
    character-and-pair index below."""

    lookup_name = "fragment"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(IContains(self.lhs, self.rhs))
        return sql, tuple(params)

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = self.as_sql(compiler, connection)
        if not isinstance(self.rhs, str) or not is_short(self.rhs) or not self.rhs:
            return sql, params
        column, column_params = compiler.compile(self.lhs)
        grams = f"crm_grams(UPPER({column}::text)) @> ARRAY[UPPER(%s)]"
        return f"({sql} AND {grams})", (*params, *column_params, self.rhs)


def is_short(text: str) -> bool:
    """Whether `text` is shorter than trigram lookups need (contact values are searched from then on)."""
    return len(text) < SHORTEST_TRIGRAM_FRAGMENT
