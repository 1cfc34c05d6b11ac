"""The page benchmark: each main page, for a manager and a salesperson, against gunicorn on PostgreSQL.

    .venv/bin/python -m tests.bench.run --database-url postgres://postgres@127.0.0.1:5432/crm_scalegen

Serves the database given (filled beforehand, e.g. by `manage.py generate_scale_data`) with gunicorn
(production settings plus tests/bench/settings.py: each response says how many queries it ran and how
long they took), signs in as each user, then for every page:

- sequentially: `--requests` GETs one after the other (fewer if a page takes longer than `--page-seconds`
  in all): median and p95 of the time to the whole answer, its size, its queries and their time;
- under concurrency: wrk with `--connections` connections for `--wrk-seconds`: requests a second, p50,
  p90, p99, and answers that were not 200.

`/bench/bare/` (nothing but the middleware of a signed-in page) is measured the same way: the ceiling.
Writes the figures to `--output` (JSON) and prints them as a table. Nothing is written to the database
but the two users' sessions. Uses 127.0.0.1 only; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
USERS = {"manager": "manager", "salesperson": "sales1"}
PASSWORD = "demo"


@dataclass
class Sequential:
    requests: int
    median_ms: float
    p95_ms: float
    kilobytes: float
    queries: int | None
    sql_ms: float | None
    statuses: list[int]


@dataclass
class Concurrent:
    connections: int
    seconds: int
    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int  # answers other than 2xx and 3xx
    timeouts: int  # requests without an answer in 30 s


def main() -> int:
    args = _arguments()
    started, load_before = datetime.now(UTC).isoformat(timespec="seconds"), os.getloadavg()
    env = _environment(args.database_url)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    gunicorn = [str(BIN / "gunicorn"), "crm.wsgi:application", "--bind", f"127.0.0.1:{args.port}"]
    server = subprocess.Popen(
        [*gunicorn, "--workers", str(args.workers), "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{args.port}"
        _wait_until_up(base)
        results = {role: _measure_user(base, role, username, args, env) for role, username in USERS.items()}
    finally:
        server.terminate()
        server.wait(timeout=30)
    report = {
        "when": started,
        "machine": {
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": os.getloadavg(),
            "python": platform.python_version(),
        },
        "database": _database_figures(env),
        "server": {"gunicorn_workers": args.workers},
        "pages": results,
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(_table(report))
    print(f"\nWritten to {output}")
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/crm_scalegen")
    parser.add_argument("--port", type=int, default=8105)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--requests", type=int, default=30, help="sequential requests per page (default 30)")
    parser.add_argument(
        "--page-seconds", type=float, default=20, help="at most this long per page, in sequence"
    )
    parser.add_argument("--connections", type=int, default=8, help="wrk's connections (default 8)")
    parser.add_argument(
        "--wrk-seconds", type=int, default=5, help="wrk's run per page (default 5; 0: no wrk)"
    )
    parser.add_argument("--output", default=str(ROOT / "var" / "bench" / "latest.json"))
    return parser.parse_args()


def _environment(database_url: str) -> dict[str, str]:
    """Production settings on plain HTTP at 127.0.0.1, plus the benchmark's headers and bare page."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.bench.settings",
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


def _wait_until_up(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def _pages(env: dict[str, str], username: str) -> dict[str, str]:
    """The pages to request for this user, with records the user sees (picked in a subprocess that reads
    the database through the project's own visibility rules)."""
    found = subprocess.run(
        [sys.executable, "-m", "tests.bench.pick", username],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    ids = json.loads(found.stdout)
    ids["fragment"] = quote(ids["fragment"])
    return {
        "bare view (ceiling)": "/bench/bare/",
        "dashboard": "/",
        "customer list": "/customers/",
        "customer search": f"/customers/?q={ids['fragment']}",
        "header search": f"/search/?q={ids['fragment']}",
        "customer detail": f"/customers/{ids['customer']}/",
        "customer timeline (part)": f"/customers/{ids['customer']}/timeline/",
        "customer orders card (part)": f"/customers/{ids['customer']}/orders/",
        "customer quick-add forms (part)": f"/followups/customers/{ids['customer']}/log/",
        "order list": "/orders/",
        "order detail": f"/orders/{ids['order']}/",
        "order history (part)": f"/orders/{ids['order']}/history/",
        "opportunity list": "/opportunities/",
        "opportunity board": "/opportunities/board/",
        "follow-up list": "/followups/",
        "my day": "/followups/today/",
        "reports index": "/reports/",
        "sales report": "/reports/sales/",
    }


def _measure_user(base: str, role: str, username: str, args: argparse.Namespace, env: dict[str, str]) -> dict:
    session = _signed_in(base, username)
    cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    results = {}
    for name, path in _pages(env, username).items():
        # The parts a page loads after itself are htmx requests (without the header they redirect).
        headers = {"HX-Request": "true"} if name.endswith("(part)") else {}
        sequential = _sequential(session, base + path, args.requests, args.page_seconds, headers)
        # A slow page gets a longer run, so that each connection is answered a few times.
        seconds = max(args.wrk_seconds, min(30, math.ceil(3 * sequential.median_ms / 1000)))
        concurrent = None
        if args.wrk_seconds:
            concurrent = _wrk(base + path, cookie, args.connections, seconds, headers)
        results[name] = {
            "path": path,
            "sequential": asdict(sequential),
            "concurrent": asdict(concurrent) if concurrent else None,
        }
        print(
            f"{role:<12} {name:<22} {sequential.median_ms:8.1f} ms  {sequential.queries} queries", flush=True
        )
    return results


def _signed_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    session.cookies.set("django_language", "en")
    session.get(f"{base}/accounts/login/")
    answer = session.post(
        f"{base}/accounts/login/",
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"Could not sign in as {username} (answer {answer.status_code}).")
    return session


def _sequential(
    session: requests.Session, url: str, count: int, budget: float, headers: dict[str, str]
) -> Sequential:
    times, sizes, statuses, queries, sql = [], [], [], [], []
    session.get(url, headers=headers)  # warm up: the worker's connection, caches, templates
    started = time.perf_counter()
    for _ in range(count):
        before = time.perf_counter()
        response = session.get(url, allow_redirects=False, headers=headers)
        times.append((time.perf_counter() - before) * 1000)
        sizes.append(len(response.content))
        statuses.append(response.status_code)
        if "X-Bench-Queries" in response.headers:
            queries.append(int(response.headers["X-Bench-Queries"]))
            sql.append(float(response.headers["X-Bench-SQL-ms"]))
        if time.perf_counter() - started > budget:
            break
    return Sequential(
        requests=len(times),
        median_ms=round(statistics.median(times), 1),
        p95_ms=round(_percentile(times, 95), 1),
        kilobytes=round(statistics.median(sizes) / 1024, 1),
        queries=max(queries) if queries else None,
        sql_ms=round(statistics.median(sql), 1) if sql else None,
        statuses=sorted(set(statuses)),
    )


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(percent) - 1]


WRK_LATENCY = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
WRK_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_TIMEOUTS = re.compile(r"timeout (\d+)")
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, cookie: str, connections: int, seconds: int, headers: dict[str, str]) -> Concurrent:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency"]
    command += ["-H", f"Cookie: {cookie}", *(f"-H{name}: {value}" for name, value in headers.items()), url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    latency = {int(p): float(value) * UNIT_MS[unit] for p, value, unit in WRK_LATENCY.findall(output)}
    rate = WRK_RATE.search(output)
    errors, timeouts = WRK_ERRORS.search(output), WRK_TIMEOUTS.search(output)
    return Concurrent(
        connections=connections,
        seconds=seconds,
        requests_per_second=float(rate.group(1)) if rate else 0.0,
        p50_ms=round(latency.get(50, 0.0), 1),
        p90_ms=round(latency.get(90, 0.0), 1),
        p99_ms=round(latency.get(99, 0.0), 1),
        errors=int(errors.group(1)) if errors else 0,
        timeouts=int(timeouts.group(1)) if timeouts else 0,
    )


def _database_figures(env: dict[str, str]) -> dict[str, Any]:
    found = subprocess.run(
        [sys.executable, "-m", "tests.bench.pick", "--counts"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(found.stdout)


def _table(report: dict[str, Any]) -> str:
    """The figures as a Markdown table, as the README shows them."""
    lines = [
        "| user | page | median ms | p95 ms | × bare | queries | SQL ms | KB "
        "| wrk req/s | wrk p50 ms | wrk p99 ms |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for role, pages in report["pages"].items():
        bare = pages["bare view (ceiling)"]["sequential"]["median_ms"] or 1
        for name, figures in pages.items():
            seq, conc = figures["sequential"], figures["concurrent"] or {}
            lines.append(
                f"| {role} | {name} | {seq['median_ms']} | {seq['p95_ms']} | {seq['median_ms'] / bare:.1f} "
                f"| {seq['queries']} | {seq['sql_ms']} "
                f"| {seq['kilobytes']} | {conc.get('requests_per_second', '–')} | {conc.get('p50_ms', '–')} "
                f"| {conc.get('p99_ms', '–')} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
