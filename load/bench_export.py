"""How much memory and time a large CSV export takes: downloads the customer export as a manager
through Django's test client against the database in DATABASE_URL, and reports rows, megabytes,
seconds and the growth of the process's peak RSS; with --tracemalloc, the peak of Python's own
allocations too (tracing makes the export several times slower: time it without).

    DEBUG=1 DATABASE_URL=postgres://... .venv/bin/python load/bench_export.py --user manager

Reads only; run it against a copy with many customers (e.g. the scale data generator's).
"""

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", required=True, help="a manager's username")
    parser.add_argument("--format", default="csv", choices=["csv", "xlsx"])
    parser.add_argument("--tracemalloc", action="store_true")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username=arguments.user))
    url = reverse("customers:export") + f"?format={arguments.format}"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if arguments.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    response = client.get(url)
    size = lines = 0
    chunks = getattr(response, "streaming_content", None) or [response.content]
    for chunk in chunks:
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if arguments.tracemalloc else 0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"{type(response).__name__}: {lines - 1 if arguments.format == 'csv' else '?'} rows, "
        f"{size / 1e6:.1f} MB in {seconds:.1f} s; peak RSS grew {(rss_after - rss_before) / 1024:.1f} MB"
        + (f"; Python allocations peaked at {peak / 1e6:.1f} MB" if arguments.tracemalloc else "")
    )


if __name__ == "__main__":
    main()
