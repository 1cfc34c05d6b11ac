"""How fast the customer import runs: writes a CSV of new customers (name, mobile, email, region,
stage, source, tags), then imports it with run_import as the system, a dry run and then for real,
against the database in DATABASE_URL, and reports rows a second for each: by the clock, and by the
CPU seconds the import used in this process and in its PostgreSQL server process together (the rate
an otherwise idle machine reaches, which a busy shared machine's clock does not show).

    DEBUG=1 DATABASE_URL=postgres://.../crm_bench \\
        .venv/bin/python load/bench_import.py --rows 10000 100000 --owner sales1

The real run adds the customers to that database: use one made for measuring. Rows are deterministic
for a --seed, new each seed (their phone numbers and emails do not match earlier runs' of another).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

if TYPE_CHECKING:
    from crm.importing import ImportReport

HEADERS = ["名称", "手机", "邮箱", "地区", "阶段", "来源", "标签", "负责人"]
STAGES = ["lead", "prospect", "active"]
SOURCES = ["referral", "website", "exhibition"]


def write_csv(path: Path, rows: int, seed: int, owner: str, first: int = 0) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as file:
        writer = csv.writer(file)
        writer.writerow(HEADERS)
        for index in range(first, first + rows):
            number = seed * 10_000_000 + index
            writer.writerow(
                [
                    f"测试客户 {number}",
                    f"13{number % 1_000_000_000:09d}",
                    f"c{number}@bench.example.cn",
                    ["上海", "北京", "广州"][index % 3],
                    STAGES[index % 3],
                    SOURCES[index % 3],
                    "VIP" if index % 10 == 0 else "",
                    owner,
                ]
            )


def timed(table, mapping, commit: bool) -> tuple[float, float, ImportReport]:
    """Clock seconds, CPU seconds (this process and its database server process) and the report."""
    from django.db import connection

    from crm.scale.generate import _process_cpu
    from customers.importing import run_import

    server_pid = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (server_pid,) = cursor.fetchone()

    def cpu() -> float:
        server = _process_cpu(server_pid) if server_pid else None
        return time.process_time() + (server or 0.0)

    started, started_cpu = time.perf_counter(), cpu()
    report = run_import(actor=None, table=table, mapping=mapping, commit=commit)
    return time.perf_counter() - started, cpu() - started_cpu, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000], help="one run for each count")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100)
    parser.add_argument("--owner", required=True, help="the username that owns the new customers")
    arguments = parser.parse_args()

    import django

    django.setup()
    from crm.importing import read_table
    from customers.importing import COLUMNS
    from customers.models import Tag

    Tag.objects.get_or_create(name="VIP")
    for run, rows in enumerate(arguments.rows):  # rows numbered on, so that no run matches another's
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "customers.csv"
            write_csv(path, rows, arguments.seed, arguments.owner, first=sum(arguments.rows[:run]))
            table = read_table(path.read_bytes())
        mapping = COLUMNS.detect(table.headers)
        for commit in (False, True):
            seconds, cpu, report = timed(table, mapping, commit)
            counts = {"created": report.created, "updated": report.updated, "rejected": report.rejected}
            label = "commit " if commit else "dry run"
            print(
                f"{label}: {rows} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s; "
                f"{cpu:.1f} CPU s = {rows / cpu:,.0f} rows/CPU s {counts}"
            )


if __name__ == "__main__":
    main()
