"""Counts each request's queries and their time into response headers (the benchmark's settings only)."""

import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponseBase

QUERIES_HEADER, SQL_TIME_HEADER = "X-Bench-Queries", "X-Bench-SQL-ms"


def count_queries(get_response: Callable[[HttpRequest], HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    def middleware(request: HttpRequest) -> HttpResponseBase:
        count, seconds = 0, 0.0

        def measure(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal count, seconds
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                count += 1
                seconds += time.perf_counter() - started

        with connection.execute_wrapper(measure):
            response = get_response(request)
        response[QUERIES_HEADER] = str(count)
        response[SQL_TIME_HEADER] = f"{seconds * 1000:.1f}"
        return response

    return middleware
