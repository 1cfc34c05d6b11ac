"""How fast the deal import runs: writes a CSV of N historical deals engaged over two years (won, lost
and open, several agents and accounts: tests/opportunities/deal_files.py), then imports it with
run_import as the system, a dry run and then for real, against the database in DATABASE_URL, and
reports deals a second for each, with the events written.

    DEBUG=1 DATABASE_URL=postgres://.../crm_bench \\
        .venv/bin/python load/bench_import_deals.py --deals 8800

It first adds what the deals refer to when missing: 35 agents (bench_agent01…) and 85 accounts
(Bench account 01…, owned by the agents). The real run adds the deals to that database: use one made
for measuring. External ids are new each --seed, so a run with an earlier seed measures updates.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

AGENTS, ACCOUNTS = 35, 85


def prepare() -> tuple[list[str], list[str]]:
    """The agents' usernames and the accounts' names, created when missing."""
    from django.contrib.auth.models import Group, User

    from customers.models import Customer
    from customers.services import create_customer

    sales = Group.objects.get(name="Sales")
    agents = []
    for number in range(1, AGENTS + 1):
        user, created = User.objects.get_or_create(username=f"bench_agent{number:02d}")
        if created:
            user.groups.add(sales)
        agents.append(user)
    names = [f"Bench account {number:02d}" for number in range(1, ACCOUNTS + 1)]
    existing = set(Customer.objects.filter(name__in=names).values_list("name", flat=True))
    for index, name in enumerate(names):
        if name not in existing:
            create_customer(actor=None, owner=agents[index % AGENTS], name=name)
    return [agent.username for agent in agents], names


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 1000)
    arguments = parser.parse_args()

    import django

    django.setup()
    from crm.importing import read_table
    from opportunities.importing import COLUMNS, run_import
    from opportunities.models import OpportunityEvent
    from tests.opportunities.deal_files import deal_rows, write_deals

    agents, accounts = prepare()
    prefix = f"B{arguments.seed}-"
    rows = deal_rows(arguments.deals, accounts=accounts, agents=agents, seed=arguments.seed, prefix=prefix)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "deals.csv"
        write_deals(path, rows)
        table = read_table(path.read_bytes())
    mapping = COLUMNS.detect(table.headers)
    for commit in (False, True):
        events_before = OpportunityEvent.objects.count()
        started = time.perf_counter()
        report = run_import(actor=None, table=table, mapping=mapping, commit=commit)
        seconds = time.perf_counter() - started
        events = OpportunityEvent.objects.count() - events_before
        counts = {"created": report.created, "updated": report.updated, "rejected": report.rejected}
        label = "commit " if commit else "dry run"
        rate = arguments.deals / seconds
        print(
            f"{label}: {arguments.deals} deals in {seconds:.1f} s = {rate:,.0f} deals/s {counts}, "
            f"{events} events"
        )


if __name__ == "__main__":
    main()
