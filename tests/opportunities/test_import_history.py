"""Deals imported with their history: the reports computed from them equal those computed from the file."""

import csv
import random
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from crm.reporting import Period, ReportFilters
from opportunities.models import Opportunity, OpportunityEvent
from opportunities.reports import closed_deals
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HEADER = [
    "deal id",
    "account",
    "deal",
    "close_value",
    "sales_agent",
    "engage_date",
    "deal_stage",
    "close_date",
]


def deals_file(path: Path, owner, count: int, seed: int = 7) -> list[dict]:
    """`count` deals over two years, as a CRM export has them (the public sales-pipeline data set's
    columns): about 60 % won, 30 % lost, the rest open."""
    rng = random.Random(seed)
    accounts = [CustomerFactory(owner=owner, name=f"Account {index}").name for index in range(20)]
    start = timezone.now() - timedelta(days=730)
    deals = []
    for index in range(count):
        engaged = start + timedelta(days=rng.randrange(0, 600), hours=rng.randrange(0, 24))
        outcome = rng.choices(["Won", "Lost", "Engaging"], [6, 3, 1])[0]
        closed = engaged + timedelta(days=rng.randrange(1, 120), hours=rng.randrange(0, 24))
        deals.append(
            {
                "deal id": f"D{index:05d}",
                "account": rng.choice(accounts),
                "deal": f"Deal {index}",
                "close_value": str(rng.randrange(100, 90000)) if outcome == "Won" else "",
                "sales_agent": owner.username,
                "engage_date": timezone.localtime(engaged).strftime("%Y-%m-%d %H:%M"),
                "deal_stage": outcome,
                "close_date": timezone.localtime(closed).strftime("%Y-%m-%d %H:%M")
                if outcome != "Engaging"
                else "",
            }
        )
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, HEADER)
        writer.writeheader()
        writer.writerows(deals)
    return deals


def minute(text: str) -> datetime:
    return timezone.make_aware(datetime.strptime(text, "%Y-%m-%d %H:%M"))


def test_win_rate_and_sales_cycle_equal_those_of_the_file(tmp_path, manager):
    path = tmp_path / "deals.csv"
    deals = deals_file(path, manager, 300)
    call_command("import_opportunities", str(path), "--commit", stdout=StringIO(), stderr=StringIO())

    assert Opportunity.objects.count() == 300
    won = [deal for deal in deals if deal["deal_stage"] == "Won"]
    lost = [deal for deal in deals if deal["deal_stage"] == "Lost"]
    period = Period(timezone.localdate() - timedelta(days=800), timezone.localdate())
    [row] = closed_deals(manager, period, ReportFilters())
    assert (row["won"], row["lost"]) == (len(won), len(lost))
    assert row["win_rate"] == round(Decimal(100 * len(won)) / (len(won) + len(lost)), 1)
    cycle = (
        sum((minute(d["close_date"]) - minute(d["engage_date"])).total_seconds() for d in won)
        / len(won)
        / 86400
    )
    assert abs(float(row["sales_cycle"]) - cycle) < 0.001
    # The events carry the deal's own times, not the import's.
    first = Opportunity.objects.get(external_id="D00000")
    created = OpportunityEvent.objects.get(opportunity=first, type="created")
    assert created.at == first.created_at == minute(deals[0]["engage_date"])


def test_importing_again_updates_instead_of_duplicating(tmp_path, manager):
    path = tmp_path / "deals.csv"
    deals_file(path, manager, 5)
    for _ in range(2):
        call_command("import_opportunities", str(path), "--commit", stdout=StringIO(), stderr=StringIO())
    assert Opportunity.objects.count() == 5
    assert OpportunityEvent.objects.filter(type="created").count() == 5


def test_bad_rows_are_reported_and_a_dry_run_saves_nothing(tmp_path, manager):
    CustomerFactory(owner=manager, name="Known Ltd")
    path = tmp_path / "deals.csv"
    path.write_text(
        "account,deal,engage_date,deal_stage,close_date\n"
        "Unknown Ltd,A,2025-01-02,Won,2025-02-01\n"
        "Known Ltd,B,2025-01-02,Won,2024-02-01\n"
        "Known Ltd,C,2025-13-02,Lost,\n"
        "Known Ltd,D,2025-01-02,Won,2025-02-01\n",
        encoding="utf-8",
    )
    out = StringIO()
    with translation.override("en"):
        call_command("import_opportunities", str(path), stdout=out, stderr=StringIO())
    assert not Opportunity.objects.exists()
    report = out.getvalue().splitlines()
    assert "Row 2: Reject — Customer: No customer has exactly this name." in report
    assert "Row 3: Reject — Won or lost at: It was won or lost between its creation and now." in report
    assert "Row 4: Reject — Created: “2025-13-02” is not a date such as 2025-03-31." in report
    assert "1 to create, 0 to update, 3 rejected." in report
    with pytest.raises(CommandError):
        bare = tmp_path / "bare.csv"
        bare.write_text("deal,close_value\nA,1\n", encoding="utf-8")
        call_command("import_opportunities", str(bare), stdout=StringIO(), stderr=StringIO())
