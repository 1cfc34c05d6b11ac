"""How much memory and time a large export takes, as its rows grow: exports the customer list as the
given user against the database in DATABASE_URL and prints, at each mark (100,000, 300,000 and
1,000,000 rows by default), the rows written, seconds and the process's peak RSS so far; with
--tracemalloc, the peak of Python's own allocations too (tracing makes the export several times
slower: time it without).

    DEBUG=1 DATABASE_URL=postgres://... .venv/bin/python load/bench_export.py --user manager
    DEBUG=1 DATABASE_URL=postgres://... .venv/bin/python load/bench_export.py --user manager --background

Without --background the file is downloaded through Django's test client (the streamed response,
whatever the number of rows); with it, a background export is written as a worker writes it
(automation/exports.py) into the exports storage, and deleted afterwards. Run it against a copy with
many customers (e.g. the scale data generator's).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import User

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")


Row = Sequence[Any]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Marks:
    """Prints a line each time the rows written pass the next mark."""

    def __init__(self, marks: list[int], traced: bool) -> None:
        self.pending, self.traced, self.started = sorted(marks), traced, time.perf_counter()
        print(f"{'rows':>10} {'seconds':>8} {'peak RSS MB':>12}" + (f" {'traced MB':>10}" if traced else ""))

    def reached(self, rows: int) -> None:
        while self.pending and rows >= self.pending[0]:
            self.pending.pop(0)
            self.line(rows)

    def line(self, rows: int) -> None:
        seconds = time.perf_counter() - self.started
        traced = f" {tracemalloc.get_traced_memory()[1] / 1e6:>10.1f}" if self.traced else ""
        print(f"{rows:>10,} {seconds:>8.1f} {peak_rss_mb():>12.1f}{traced}", flush=True)


def direct(user: User, export_format: str, marks: Marks) -> str:
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    settings.EXPORT_BACKGROUND_ROWS = 10**12  # the streamed response itself, however many rows
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    response = client.get(reverse("customers:export") + f"?format={export_format}")
    size = lines = 0
    chunks = getattr(response, "streaming_content", None) or [response.content]
    for chunk in chunks:
        size += len(chunk)
        lines += chunk.count(b"\n")
        if export_format == "csv":
            marks.reached(lines - 1)
    if export_format == "csv":
        marks.line(lines - 1)
    return f"{type(response).__name__}, {size / 1e6:.1f} MB, peak RSS {peak_rss_mb():.1f} MB"


def background(user: User, export_format: str, marks: Marks) -> str:
    from automation import exports
    from automation.models import BackgroundExport, Notification

    counted = exports.ExportRequest.counted

    def counted_with_marks(
        self: exports.ExportRequest, rows: Iterable[Sequence[Any]]
    ) -> Iterator[Sequence[Any]]:
        for row in counted(self, rows):
            marks.reached(self.rows_written)
            yield row

    exports.ExportRequest.counted = counted_with_marks  # type: ignore[method-assign]
    export = BackgroundExport.objects.create(
        user=user,
        view_name="customers:export",
        query=f"format={export_format}",
        format=export_format,
        language="en",
        filename="customers",
        title="Customers (benchmark)",
    )
    try:
        status = exports.write(export.pk)
        export.refresh_from_db()
        marks.line(export.rows or 0)
        written = (export.size or 0) / 1e6
        return f"{status}, {written:.1f} MB written to the exports storage, peak RSS {peak_rss_mb():.1f} MB"
    finally:
        if export.file:
            exports.storage().delete(export.file)
        Notification.objects.filter(user=user, url__endswith=f"/exports/{export.pk}/").delete()
        export.delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", required=True, help="a manager's username")
    parser.add_argument("--format", default="csv", choices=["csv", "xlsx"])
    parser.add_argument("--background", action="store_true", help="write it as the worker does")
    parser.add_argument("--marks", default="100000,300000,1000000", help="row counts to report at")
    parser.add_argument("--tracemalloc", action="store_true")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.models import User

    user = User.objects.get(username=arguments.user)
    print(f"Before the export: peak RSS {peak_rss_mb():.1f} MB")
    if arguments.tracemalloc:
        tracemalloc.start()
    marks = Marks([int(mark) for mark in arguments.marks.split(",")], arguments.tracemalloc)
    run = background if arguments.background else direct
    print(run(user, arguments.format, marks))


if __name__ == "__main__":
    main()
