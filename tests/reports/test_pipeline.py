"""The open pipeline, the funnel, win rates, deal size, sales cycle, time in stage and the open amount
by expected close month, each against the raw deals and their stage events."""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

from crm.reporting import Period, ReportFilters
from opportunities.models import Stage
from opportunities.reports import closed_deals, funnel, open_pipeline, time_in_stage
from tests.reports import independent as raw
from tests.reports.conftest import PERIOD

pytestmark = pytest.mark.django_db
ALL = ReportFilters()


def test_the_open_pipeline_by_stage_and_by_expected_close_month(dataset):
    for user in (dataset.manager, dataset.sales1, dataset.sales2):
        # Per group: deals, amount and weighted amount.
        by_stage: defaultdict[object, list[Decimal | int]] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
        by_month: defaultdict[object, list[Decimal | int]] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
        for deal in raw.deals(user):
            if deal["stage__kind"] != "open":
                continue
            for groups, key in (
                (by_stage, deal["stage_id"]),
                (by_month, deal["expected_close_date"].replace(day=1)),
            ):
                groups[key][0] += 1
                groups[key][1] += deal["amount"]
                groups[key][2] += deal["amount"] * deal["probability"] / 100
        for by, expected in (("stage", by_stage), ("month", by_month)):
            rows = open_pipeline(user, ALL, [by])
            found = {row[by]: (row["deals"], row["amount"], row["weighted"]) for row in rows}
            assert found == {k: (n, raw.cents(a), raw.cents(w)) for k, (n, a, w) in expected.items()}, by
    positions = [row["stage"] for row in open_pipeline(dataset.manager, ALL, ["stage"])]
    assert positions == sorted(positions, key=lambda pk: Stage.objects.get(pk=pk).position)
    [total] = open_pipeline(dataset.manager, ALL)
    assert total["deals"] == 3  # d4 (reopened), d5, d7


def test_the_funnel_counts_the_deals_created_in_the_period_that_reached_each_stage(dataset):
    stages = list(Stage.objects.exclude(kind="lost").order_by("position"))
    for user in (dataset.manager, dataset.sales1, dataset.sales2):
        created = [deal for deal in raw.deals(user) if raw.within(deal["created_at"], PERIOD)]
        events = raw.events(user)
        expected = {}
        for stage in stages:
            reached = 0
            for deal in created:
                entered = [e for e in events[deal["id"]] if e["to_stage__kind"] != "lost"]
                if stage.kind == "won":
                    reached += any(e["to_stage__kind"] == "won" for e in entered)
                else:
                    reached += max(e["to_stage__position"] for e in entered) >= stage.position
            expected[stage.pk] = reached
        found_stages, [row] = funnel(user, PERIOD, ALL)
        assert [s.pk for s in found_stages] == [s.pk for s in stages]
        assert row["created"] == len(created)
        assert {stage.pk: row[f"reached_{stage.pk}"] for stage in stages} == expected
    _stages, [row] = funnel(dataset.manager, PERIOD, ALL)
    won = Stage.objects.get(kind="won")
    assert row["created"] == 7 and row[f"reached_{won.pk}"] == 3  # d1, d3 and d8 (won, later lost)


def closed_by_hand(user, key):
    groups: defaultdict[object, dict[str, Any]] = defaultdict(lambda: {"won": [], "lost": 0})
    for deal in raw.deals(user):
        won, lost = raw.within(deal["won_at"], PERIOD), raw.within(deal["lost_at"], PERIOD)
        for group in key(deal) if won or lost else []:
            if won:
                groups[group]["won"].append(deal)
            else:
                groups[group]["lost"] += 1
    return groups


@pytest.mark.parametrize(
    "by, key",
    [
        ((), lambda deal: [()]),
        (("owner",), lambda deal: [deal["owner_id"]]),
        (("source",), lambda deal: [deal["source"]]),
        (("month",), lambda deal: [raw.month_of(deal["won_at"] or deal["lost_at"])]),
    ],
)
def test_deals_won_and_lost_win_rate_deal_size_and_sales_cycle(dataset, by, key):
    for user in (dataset.manager, dataset.sales1, dataset.sales2):
        expected = {}
        for group, counted in closed_by_hand(user, key).items():
            won = counted["won"]
            expected[group] = {
                "won": len(won),
                "lost": counted["lost"],
                "win_rate": raw.rate(len(won), len(won) + counted["lost"]),
                "won_amount": raw.cents(sum((d["amount"] for d in won), Decimal(0))),
                "average_deal": raw.cents(sum(d["amount"] for d in won) / len(won)) if won else None,
                "sales_cycle": raw.one_decimal(
                    raw.mean([raw.days(d["won_at"], d["created_at"]) for d in won])
                )
                if won
                else None,
            }
        rows = closed_deals(user, PERIOD, ALL, list(by))
        found = {
            tuple(row[k] for k in by) if by else (): {
                **{k: row[k] for k in ("won", "lost", "win_rate", "won_amount", "average_deal")},
                "sales_cycle": None if row["sales_cycle"] is None else raw.one_decimal(row["sales_cycle"]),
            }
            for row in rows
        }
        expected = {(g,) if by else (): v for g, v in expected.items()}
        if not by and not expected:
            expected = {
                (): {
                    "won": 0,
                    "lost": 0,
                    "win_rate": None,
                    "won_amount": Decimal("0.00"),
                    "average_deal": None,
                    "sales_cycle": None,
                }
            }
        assert found == expected, (user.username, by)


def test_a_reopened_deal_counts_by_its_latest_outcome_only(dataset):
    [overall] = closed_deals(dataset.manager, PERIOD, ALL)
    # Won: d1, d3, d6 (created before the period); lost: d2, d8 (won, reopened, lost); d4 is open again.
    assert (overall["won"], overall["lost"], overall["win_rate"]) == (3, 2, Decimal("60.0"))


def test_win_rate_by_product_counts_a_deal_for_each_of_its_products(dataset):
    expected: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])
    for deal in raw.deals(dataset.manager):
        for product in deal["products"]:
            if raw.within(deal["won_at"], PERIOD):
                expected[product][0] += 1
            elif raw.within(deal["lost_at"], PERIOD):
                expected[product][1] += 1
    rows = closed_deals(dataset.manager, PERIOD, ALL, ["product"])
    assert {row["product"]: (row["won"], row["lost"], row["win_rate"]) for row in rows} == {
        product: (won, lost, raw.rate(won, won + lost)) for product, (won, lost) in expected.items()
    }
    assert all("won_amount" not in row for row in rows)


def test_time_in_stage_from_the_stage_events(dataset):
    for user in (dataset.manager, dataset.sales1, dataset.sales2):
        stays = defaultdict(list)
        for deal_events in raw.events(user).values():
            for before, after in pairwise(deal_events):
                if raw.within(after["at"], PERIOD):
                    stays[after["from_stage_id"]].append(raw.days(after["at"], before["at"]))
        rows = time_in_stage(user, PERIOD, ALL)
        found = {
            row["stage"]: (row["stays"], raw.one_decimal(row["mean"]), raw.one_decimal(row["median"]))
            for row in rows
        }
        assert found == {
            stage: (len(days), raw.one_decimal(raw.mean(days)), raw.one_decimal(raw.percentile(days, 0.5)))
            for stage, days in stays.items()
        }, user.username


def test_nothing_closed_in_an_empty_period(dataset):
    empty = Period(date(2024, 1, 1), date(2024, 6, 30))
    [row] = closed_deals(dataset.manager, empty, ALL)
    assert (row["won"], row["lost"], row["win_rate"], row["average_deal"], row["sales_cycle"]) == (
        0,
        0,
        None,
        None,
        None,
    )
    assert time_in_stage(dataset.manager, empty, ALL) == []
    _stages, [counts] = funnel(dataset.manager, empty, ALL)
    assert counts["created"] == 0
