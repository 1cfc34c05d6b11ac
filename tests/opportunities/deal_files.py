"""Files of historical deals, as another CRM exports them (the columns of the public sales-pipeline data
set: opportunity_id, sales_agent, account, deal_stage, engage_date, close_date, close_value), and the
report figures computed from such a file alone. The import tests and load/bench_import_deals.py use them.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

HEADER = [
    "opportunity_id",
    "sales_agent",
    "account",
    "deal",
    "deal_stage",
    "stage",
    "engage_date",
    "stage_reached",
    "close_date",
    "close_value",
]
# The open stages an open deal is in, written as a user would: by code or by name in either language.
OPEN_STAGES = ["qualify", "Evaluate", "已约演示", "商务决策"]
TIME_FORMAT = "%Y-%m-%d %H:%M"


def deal_rows(
    count: int, *, accounts: Sequence[str], agents: Sequence[str], seed: int = 7, prefix: str = "D"
) -> list[dict[str, str]]:
    """`count` deals engaged over the two years up to a month ago: about 60 % won, 30 % lost (closed
    1 to 120 days later, so some after the engage dates of others), the rest still open in a stage
    they reached after their engagement."""
    rng = random.Random(seed)
    now = timezone.now().replace(second=0, microsecond=0)
    start = now - timedelta(days=730)
    rows = []
    for index in range(count):
        engaged = start + timedelta(days=rng.randrange(0, 600), minutes=rng.randrange(0, 24 * 60))
        outcome = rng.choices(["Won", "Lost", "Engaging"], [6, 3, 1])[0]
        closed = engaged + timedelta(days=rng.randrange(1, 120), minutes=rng.randrange(0, 24 * 60))
        reached = engaged + (closed - engaged) / 2
        rows.append(
            {
                "opportunity_id": f"{prefix}{index:06d}",
                "sales_agent": rng.choice(agents),
                "account": rng.choice(accounts),
                "deal": f"Deal {prefix}{index}",
                "deal_stage": outcome,
                "stage": rng.choice(OPEN_STAGES),
                "engage_date": _text(engaged),
                "stage_reached": _text(reached),
                "close_date": _text(closed) if outcome != "Engaging" else "",
                "close_value": str(rng.randrange(100, 90000)) if outcome == "Won" else "",
            }
        )
    return rows


def write_deals(path: Path, rows: Sequence[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, HEADER)
        writer.writeheader()
        writer.writerows(rows)


def _text(moment: datetime) -> str:
    return timezone.localtime(moment).strftime(TIME_FORMAT)


def instant(text: str) -> datetime:
    return timezone.make_aware(datetime.strptime(text, TIME_FORMAT))


@dataclass(frozen=True)
class Figures:
    won: int
    lost: int
    win_rate: Decimal  # percent, one decimal
    sales_cycle: float  # mean days from engagement to won
    won_amount: Decimal


def figures(rows: Sequence[dict[str, str]]) -> Figures:
    """The closed-deals report's figures, computed from the file's rows alone."""
    won = [row for row in rows if row["deal_stage"] == "Won"]
    lost = [row for row in rows if row["deal_stage"] == "Lost"]
    seconds = sum((instant(row["close_date"]) - instant(row["engage_date"])).total_seconds() for row in won)
    return Figures(
        won=len(won),
        lost=len(lost),
        win_rate=round(Decimal(100 * len(won)) / (len(won) + len(lost)), 1),
        sales_cycle=seconds / len(won) / 86400,
        won_amount=sum((Decimal(row["close_value"]) for row in won), Decimal(0)),
    )
