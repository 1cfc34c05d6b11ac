"""RFM: the scores compute_rfm stores, the segments they map to, the segment report and its movement,
the customer page and the customer list filter."""

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from crm.filters import end_of_day
from crm.reporting import ReportFilters
from customers.models import RFMScore, Segment
from customers.reports import computations, segment_moves, segments
from customers.segmentation import compute_rfm, segment_for
from tests.factories import CustomerFactory
from tests.orders.builders import order_in
from tests.reports import independent as raw
from tests.reports.conftest import dated, local

pytestmark = pytest.mark.django_db
ON = date(2026, 7, 1)


def quintile(value, values):
    """1–5 from the middle position of the value's ties among all the values, counted by hand."""
    below = sum(1 for other in values if other < value)
    ties = sum(1 for other in values if other == value)
    middle = Fraction(2 * below + ties + 1, 2)  # 1-based middle rank of the ties
    return int(5 * (middle - Fraction(1, 2)) / len(values)) + 1


def scores_by_hand(on):
    until = end_of_day(on)
    per_customer: defaultdict[int, dict[str, Any]] = defaultdict(
        lambda: {"last": None, "frequency": 0, "monetary": Decimal(0)}
    )
    for order in raw.orders(None):
        if order["status"] != "finished" or order["finished_at"] >= until:
            continue
        row = per_customer[order["customer_id"]]
        day = raw.local_day(order["finished_at"])
        row["last"] = max(row["last"] or day, day)
        if order["finished_at"] >= until - timedelta(days=365):
            row["frequency"] += 1
            if order["currency"] == "CNY":
                row["monetary"] += order["total"]
    lasts = [row["last"] for row in per_customer.values()]
    frequencies = [row["frequency"] for row in per_customer.values()]
    monetaries = [row["monetary"] for row in per_customer.values()]
    return {
        customer: {
            "recency_days": (on - row["last"]).days,
            "frequency": row["frequency"],
            "monetary": raw.cents(row["monetary"]),
            "recency_score": quintile(row["last"], lasts),
            "frequency_score": quintile(row["frequency"], frequencies),
            "monetary_score": quintile(row["monetary"], monetaries),
        }
        for customer, row in per_customer.items()
    }


FIELDS = ("recency_days", "frequency", "monetary", "recency_score", "frequency_score", "monetary_score")


def stored(on):
    return {
        row["customer_id"]: {field: row[field] for field in FIELDS}
        for row in RFMScore.objects.filter(computed_on=on).values("customer_id", *FIELDS)
    }


def test_compute_rfm_scores_every_customer_with_finished_orders(dataset):
    assert compute_rfm(on=ON) == 4
    assert stored(ON) == scores_by_hand(ON)
    for score in RFMScore.objects.all():
        assert score.segment == segment_for(score.recency_score, score.frequency_score, score.monetary_score)


def test_quintiles_on_many_customers_give_equal_values_equal_scores(sales1):
    customers = [CustomerFactory(owner=sales1, name=f"Customer {i}") for i in range(12)]
    for index, customer in enumerate(customers):
        for repeat in range(index % 4 + 1):
            order = order_in("finished", sales1, customer)
            day = local(2026, 6, 1 + index % 6, 9 + repeat)
            dated(order, created=day, confirmed=day, processing=day, finished=day)
    compute_rfm(on=ON)
    assert stored(ON) == scores_by_hand(ON)
    frequency_scores = defaultdict(set)
    for row in stored(ON).values():
        frequency_scores[row["frequency"]].add(row["frequency_score"])
    assert all(len(scores) == 1 for scores in frequency_scores.values())
    assert {score for scores in frequency_scores.values() for score in scores} == {1, 2, 4, 5}


def test_a_single_customer_scores_in_the_middle(sales1):
    customer = CustomerFactory(owner=sales1)
    dated(order_in("finished", sales1, customer), finished=local(2026, 6, 30))
    assert compute_rfm(on=ON) == 1
    score = RFMScore.objects.get()
    assert (score.recency_score, score.frequency_score, score.monetary_score) == (3, 3, 3)
    assert score.segment == Segment.LOYAL and score.recency_days == 1


def test_no_finished_orders_scores_no_one(sales1):
    order_in("confirmed", sales1, CustomerFactory(owner=sales1))
    assert compute_rfm(on=ON) == 0 and not RFMScore.objects.exists()
    assert computations() == (None, None)


def test_running_twice_a_day_changes_nothing_and_two_computations_are_kept(dataset):
    compute_rfm(on=date(2026, 5, 1))
    compute_rfm(on=date(2026, 6, 1))
    compute_rfm(on=ON)
    first = stored(ON)
    assert compute_rfm(on=ON) == 4 and stored(ON) == first
    assert RFMScore.objects.filter(computed_on=ON).count() == 4
    assert sorted(set(RFMScore.objects.values_list("computed_on", flat=True))) == [date(2026, 6, 1), ON]
    assert computations() == (ON, date(2026, 6, 1))


def test_the_command_scores_today(dataset):
    out = StringIO()
    call_command("compute_rfm", stdout=out)
    assert "4 customers scored" in out.getvalue()
    assert RFMScore.objects.count() == 4


def test_every_score_combination_maps_to_the_documented_segment():
    def documented(r, f, m):
        if r >= 4 and f >= 4 and m >= 4:
            return "champions"
        if r >= 3 and f >= 3:
            return "loyal"
        if r >= 4 and f == 1:
            return "new"
        if r >= 3:
            return "potential"
        if f >= 4 and m >= 4:
            return "cant_lose"
        if f >= 3:
            return "at_risk"
        return "hibernating" if r == 2 else "lost"

    combinations = [(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]
    assert all(segment_for(*scores) == documented(*scores) for scores in combinations)
    assert set(Counter(segment_for(*scores) for scores in combinations)) == set(Segment.values)


def test_the_segment_report_counts_shares_and_movement(dataset):
    compute_rfm(on=date(2026, 3, 1))
    compute_rfm(on=ON)
    for user in (dataset.manager, dataset.sales1):
        seen = {c.pk for c in dataset.customers.values() if raw.sees(user, c.owner_id)}
        now = {r.customer_id: r for r in RFMScore.objects.filter(computed_on=ON) if r.customer_id in seen}
        before = {
            r.customer_id: r
            for r in RFMScore.objects.filter(computed_on=date(2026, 3, 1))
            if r.customer_id in seen
        }
        total = sum(r.monetary for r in now.values())
        rows = {row["segment"]: row for row in segments(user, ReportFilters(), ON, date(2026, 3, 1))}
        assert list(rows) == list(Segment.values)
        for segment in Segment.values:
            members = [r for r in now.values() if r.segment == segment]
            money = sum((r.monetary for r in members), Decimal(0))
            assert rows[segment]["customers"] == len(members)
            assert rows[segment]["monetary"] == raw.cents(money)
            assert rows[segment]["customer_share"] == raw.rate(len(members), len(now))
            assert rows[segment]["monetary_share"] == raw.rate(money, total)
            assert rows[segment]["previous"] == sum(1 for r in before.values() if r.segment == segment)
        moves = Counter((before[c].segment if c in before else None, r.segment) for c, r in now.items())
        found = {
            (row["from_segment"], row["segment"]): row["customers"]
            for row in segment_moves(user, ReportFilters(), ON, date(2026, 3, 1))
        }
        assert found == dict(moves)
    assert sum(row["customers"] for row in segments(dataset.sales1, ReportFilters(), ON, None)) == 2


def test_the_customer_page_shows_the_segment_and_the_list_filters_by_it(dataset, client):
    compute_rfm(on=ON)
    c1 = dataset.customers["c1"]
    score = RFMScore.objects.get(customer=c1)
    client.force_login(dataset.sales1)
    page = client.get(c1.get_absolute_url()).content.decode()
    assert f"?segment={score.segment}" in page and str(score.get_segment_display()) in page
    listed = client.get(reverse("customers:index"), {"segment": score.segment}).context["page"].items
    expected = {
        r.customer_id for r in RFMScore.objects.filter(segment=score.segment, customer__owner=dataset.sales1)
    }
    assert {customer.pk for customer in listed} == expected and c1.pk in expected
    other = next(s for s in Segment.values if s != score.segment)
    assert c1 not in client.get(reverse("customers:index"), {"segment": other}).context["page"].items
    unscored = CustomerFactory(owner=dataset.sales1)
    assert "Not scored yet" in client.get(unscored.get_absolute_url()).content.decode()


def test_a_merge_leaves_the_merged_customers_scores_behind(dataset):
    from customers.services import merge_customers

    compute_rfm(on=ON)
    c1, c2 = dataset.customers["c1"], dataset.customers["c2"]
    merge_customers(actor=dataset.sales1, survivor=c1, merged=c2)
    assert RFMScore.objects.filter(customer=c1).count() == 1
    assert not RFMScore.objects.filter(customer_id=c2.pk).exists()
