"""Keyset pagination for the API: the lists' own (crm/pagination.py), with a capped page size.

`?cursor=` comes from the `next` and `previous` links of the answer; `?page_size=` asks for up to
MAX_PAGE_SIZE rows (default settings.LIST_PAGE_SIZE). `?sort=` picks one of the list's sort keys, as on
the page. A cursor that cannot be read (edited, or from another sort) gives the first page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from crm.fields import parse_id
from crm.pagination import FIRST, NEXT, PREVIOUS, KeysetPage, paginate

if TYPE_CHECKING:
    from rest_framework.views import APIView

MAX_PAGE_SIZE = 100
DIRECTIONS = {"n": NEXT, "p": PREVIOUS}


def page_size(request: Request) -> int:
    """The rows per page asked for, within 1 and MAX_PAGE_SIZE; the default for anything else."""
    asked = parse_id(request.query_params.get("page_size", ""))
    return min(asked, MAX_PAGE_SIZE) if asked else settings.LIST_PAGE_SIZE


def _cursor(request: Request) -> tuple[str, str]:
    """(direction, cursor) from `?cursor=`: "n.<keys>" (the next page) or "p.<keys>" (the previous)."""
    direction, _dot, keys = request.query_params.get("cursor", "").partition(".")
    return (DIRECTIONS[direction], keys) if direction in DIRECTIONS and keys else (FIRST, "")


class KeysetPagination(BasePagination):
    def paginate_queryset(  # type: ignore[override]  # a keyset needs a queryset, not any sequence
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> list[Any]:
        ordering: Sequence[str] = view.sort_ordering(request) if view is not None else ["pk"]  # type: ignore[attr-defined]
        direction, cursor = _cursor(request)
        self.request = request
        self.page: KeysetPage = paginate(
            queryset, ordering, cursor=cursor, direction=direction, page_size=page_size(request)
        )
        return self.page.items

    def _link(self, prefix: str, cursor: str) -> str | None:
        if not cursor:
            return None
        return replace_query_param(self.request.build_absolute_uri(), "cursor", f"{prefix}.{cursor}")

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.page.total,
                "next": self._link("n", self.page.next_cursor),
                "previous": self._link("p", self.page.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer"},
                "next": link,
                "previous": link,
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "The `next` or `previous` link's cursor.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "description": f"Rows per page, at most {MAX_PAGE_SIZE}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
