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
from django.db.models import QuerySet


def matching_ids(parts: Sequence[QuerySet[Any]], limit: int | None = None) -> QuerySet[Any]:
    """The primary keys of the rows any of `parts` holds (querysets of one model); with `limit`, at
    most limit + 1 of them, more than `limit` exactly when more than `limit` rows match."""
    ids = [part.order_by().values("pk") for part in parts]
    if limit is None:
        return ids[0].union(*ids[1:])
    if connections[ids[0].db].features.supports_slicing_ordering_in_compound:
        ids = [part[: limit + 1] for part in ids]
    return ids[0].union(*ids[1:])[: limit + 1]
