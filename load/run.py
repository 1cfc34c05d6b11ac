"""The load scenario, end to end: a fresh PostgreSQL database with the demo data scaled up, gunicorn
(2 workers, production settings) on 127.0.0.1, locust's mixed workload (load/locustfile.py), and
a report of requests, failures and p50/p95 per kind of request. Exits non-zero on any server error.

    .venv/bin/python load/run.py                       # 50 users for 2 minutes
    .venv/bin/python load/run.py --users 20 --time 30s # the short form CI runs

Only loopback addresses are used; the run is bounded by --time and stops by itself.
"""

import argparse
import csv
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--time", default="2m", help="e.g. 30s, 2m")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL"
    )
    parser.add_argument("--database", default="crm_load", help="created afresh; dropped if it exists")
    parser.add_argument("--scale", type=int, default=10, help="500 more customers per step (load/scale.py)")
    parser.add_argument(
        "--report", default=str(ROOT / "var" / "load"), help="folder for locust's CSV and log"
    )
    args = parser.parse_args()

    env = _environment(f"{args.server}/{args.database}", args.port)
    _fresh_database(args.server, args.database)
    for command in (
        ["migrate", "--no-input", "-v0"],
        ["seed_demo", "--force"],
        ["shell", "-c", f"from load.scale import scale_up; scale_up({args.scale})"],
        ["collectstatic", "--no-input", "-v0"],
    ):
        subprocess.run(
            [PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )

    gunicorn = [str(BIN / "gunicorn"), "crm.wsgi:application", "--bind", f"127.0.0.1:{args.port}"]
    server = subprocess.Popen(
        [*gunicorn, "--workers", "2", "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_until_up(args.port)
        report = Path(args.report)
        report.mkdir(parents=True, exist_ok=True)
        workload = ["-f", str(ROOT / "load" / "locustfile.py"), "--host", f"http://127.0.0.1:{args.port}"]
        users = [
            "-u",
            str(args.users),
            "-r",
            str(max(1, args.users // 5)),
            "-t",
            args.time,
            "--stop-timeout",
            "10",
        ]
        output = [
            "--headless",
            "--only-summary",
            "--csv",
            str(report / "load"),
            "--logfile",
            str(report / "load.log"),
        ]
        locust = subprocess.run(
            [str(BIN / "locust"), *workload, *users, *output],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    _print_report(report / "load_stats.csv", args)
    return locust.returncode


def _environment(database_url, port):
    """Production settings on plain HTTP at 127.0.0.1."""
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "AXES_FAILURE_LIMIT": "1000",
    }


def _fresh_database(server, name):
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _wait_until_up(port, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def _print_report(stats_file, args):
    with open(stats_file, newline="") as file:
        rows = list(csv.DictReader(file))
    print(f"\n{args.users} users for {args.time} against gunicorn (2 workers) on 127.0.0.1:{args.port}\n")
    print(f"{'':<5}{'kind':<36} {'requests':>9} {'failures':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for row in rows:
        print(
            f"{row['Type']:<5}{row['Name']:<36} {row['Request Count']:>9} {row['Failure Count']:>9} "
            f"{row['50%']:>8} {row['95%']:>8}"
        )
    with open(stats_file.parent / "load_failures.csv", newline="") as file:
        for failure in csv.DictReader(file):
            request = f"{failure['Method']} {failure['Name']}"
            print(f"failed: {request}: {failure['Error']} × {failure['Occurrences']}")
    total = next(row for row in rows if row["Name"] == "Aggregated")
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    print(f"\nlocust's log: {stats_file.parent / 'load.log'}")
    print(f"load: {requests - failures} passed, {failures} failed")


if __name__ == "__main__":
    sys.exit(main())
