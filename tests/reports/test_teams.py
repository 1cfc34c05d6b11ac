"""Reports by team and office, and net of credit notes: two teams (one with a lead), a salesperson without
a team, returned goods and free-amount credits. Every figure is compared with a computation from the
raw rows in tests/reports/independent.py; who sees what and the team filter are checked on the pages."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, Team
from crm.reporting import Period, ReportFilters
from crm.reports import integration
from opportunities import services as deal_services
from opportunities.models import Opportunity
from opportunities.reports import closed_deals
from orders import services as order_services
from orders.models import OrderLine
from orders.reports import booked, cycle_time, revenue
from tests.factories import CustomerFactory, ProductFactory, UserFactory
from tests.orders.builders import order_in
from tests.reports import independent as raw
from tests.reports.conftest import dated, line, local

pytestmark = pytest.mark.django_db
# From the first order to today: the deals are won and lost today.
WHOLE = Period(date(2026, 1, 1), date(2030, 12, 31))
WHOLE_QUERY = {"period": "custom", "start": "2026-01-01", "end": "2030-12-31"}
CNY = ReportFilters()


@dataclass
class Teams:
    north: Team
    south: Team
    users: dict = field(default_factory=dict)
    orders: dict = field(default_factory=dict)
    products: dict = field(default_factory=dict)


def person(username, role, team=None):
    user = UserFactory(username=username, groups=[Group.objects.get(name=role)])
    if team is not None:
        Membership.objects.create(user=user, team=team)
    return user


def returned(order, index, quantity):
    return order_services.Return(line=OrderLine.objects.filter(order=order)[index], quantity=quantity)


@pytest.fixture
def teams(db, stages):
    t = Teams(Team.objects.create(name="North", region="上海"), Team.objects.create(name="South"))
    u = t.users
    u["lead"] = person("lead_n", "Team leads", t.north)
    u["n1"] = person("north1", "Sales", t.north)
    u["s1"] = person("south1", "Sales", t.south)
    u["loner"] = person("loner", "Sales")
    u["manager"] = person("boss", "Managers")
    p = t.products
    p["sensor"] = ProductFactory(sku="SEN", name="Sensor", unit_price=Decimal("100.00"))
    p["service"] = ProductFactory(sku="SVC", name="Service", unit_price=Decimal("500.00"))
    _orders(t)
    _deals(t, stages)
    return t


def finished(order, month):
    return dated(
        order,
        created=local(2026, month, 2),
        confirmed=local(2026, month, 3, 15),
        processing=local(2026, month, 6),
        finished=local(2026, month, 20, 9),
    )


def _orders(t):
    u, p, o = t.users, t.products, t.orders
    n1_customer = CustomerFactory(owner=u["n1"], region="上海")
    s1_customer = CustomerFactory(owner=u["s1"], region="广州")
    sensors_and_service = [line(p["sensor"], 3, "100.00"), line(p["service"], 1, "500.00", "20.00")]
    o["n1"] = finished(
        order_in("finished", u["n1"], n1_customer, lines=sensors_and_service, tax_rate=Decimal("13")), 1
    )
    # One sensor returned: the sensor's revenue and the order's drop by its value.
    order_services.issue_credit_note(
        actor=u["n1"], order=o["n1"], reason="Broken", returns=[returned(o["n1"], 0, 1)]
    )
    o["lead"] = finished(
        order_in(
            "finished", u["lead"], CustomerFactory(owner=u["lead"]), lines=[line(p["service"], 2, "500")]
        ),
        2,
    )
    # A conceded amount: the order's figures drop, no product's.
    order_services.issue_credit_note(actor=u["lead"], order=o["lead"], reason="Late", amount=Decimal("100"))
    o["s1"] = finished(
        order_in(
            "finished", u["s1"], s1_customer, lines=[line(p["sensor"], 10, "95.50")], discount=Decimal("5")
        ),
        3,
    )
    order_services.issue_credit_note(
        actor=u["s1"],
        order=o["s1"],
        reason="Two returned and a goodwill gesture",
        returns=[returned(o["s1"], 0, 2)],
        amount=Decimal("50.00"),
    )
    # north1's order on south1's customer: North's figure (the owner's team), seen by south1 too.
    o["n1_on_s1"] = finished(
        order_in("finished", u["manager"], s1_customer, owner=u["n1"], lines=[line(p["sensor"], 4, "100")]), 4
    )
    o["s1_booked"] = dated(
        order_in("confirmed", u["s1"], s1_customer, lines=[line(p["service"], 1, "480")]),
        created=local(2026, 5, 10),
        confirmed=local(2026, 5, 11),
    )
    order_services.issue_credit_note(
        actor=u["s1"], order=o["s1_booked"], reason="Price", amount=Decimal("30")
    )
    o["loner"] = finished(
        order_in(
            "finished", u["loner"], CustomerFactory(owner=u["loner"]), lines=[line(p["sensor"], 1, "88")]
        ),
        5,
    )


def _deals(t, stages):
    u = t.users

    def deal(user, won):
        customer = CustomerFactory(owner=user)
        opportunity = deal_services.create_opportunity(
            actor=user,
            customer=customer,
            stage=stages["capture"],
            lines=[{"product": t.products["sensor"], "quantity": 2}],
            title="Deal",
            expected_close_date=date(2030, 12, 1),
        )
        opportunity = Opportunity.objects.get(pk=opportunity.pk)
        if won:
            return deal_services.mark_won(actor=user, opportunity=opportunity)
        return deal_services.mark_lost(actor=user, opportunity=opportunity, reason="Price")

    for user, outcomes in (("n1", (True, False, False)), ("lead", (True,)), ("s1", (True, True, False))):
        for won in outcomes:
            deal(u[user], won)


def team_key(teams_now, *, office=False):
    """The group of a row by its owner's team (or that team's office) now, from the raw memberships."""
    offices = dict(Team.objects.values_list("pk", "region"))

    def key(row):
        team = teams_now.get(row["owner_id"])
        return (offices.get(team) or "") if office else team

    return key


def by_hand(user, stamp, group):
    """{group: (net total, orders)} of the orders in CNY whose `stamp` falls in WHOLE."""
    amounts: defaultdict[object, Decimal] = defaultdict(Decimal)
    counts: defaultdict[object, int] = defaultdict(int)
    for order in raw.orders(user):
        if order["currency"] == "CNY" and raw.within(order[stamp], WHOLE):
            amounts[group(order)] += order["net"]
            counts[group(order)] += 1
    return {key: (raw.cents(amount), counts[key]) for key, amount in amounts.items()}


VIEWERS = ["manager", "lead", "n1", "s1", "loner"]


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("dimension", ["team", "office"])
def test_revenue_and_booked_by_team_and_office_are_net_of_credit_notes(teams, viewer, dimension):
    user = teams.users[viewer]
    group = team_key(raw.team_of(), office=dimension == "office")
    for selector, stamp in ((revenue, "finished_at"), (booked, "confirmed_at")):
        rows = selector(user, WHOLE, CNY, [dimension])
        found = {row[dimension]: (raw.cents(row["amount"]), row["orders"]) for row in rows}
        assert found == by_hand(user, stamp, group), (viewer, stamp)


def test_the_team_figures_name_the_teams_and_add_up(teams):
    manager = teams.users["manager"]
    rows = {row["team_name"]: row for row in revenue(manager, WHOLE, CNY, ["team"])}
    assert set(rows) == {"North", "South", "No team"}
    o = teams.orders
    for order in o.values():
        order.refresh_from_db()
    north = sum(o[key].total - o[key].credited for key in ("n1", "lead", "n1_on_s1"))
    assert raw.cents(rows["North"]["amount"]) == north
    assert o["n1"].credited > 0 and o["lead"].credited == Decimal("100.00")
    [total] = revenue(manager, WHOLE, CNY)
    assert sum(row["amount"] for row in rows.values()) == total["amount"]
    offices = {row["office_name"] for row in revenue(manager, WHOLE, CNY, ["office"])}
    assert offices == {"上海", "No office"}  # South has no office; the loner no team


def test_product_revenue_drops_by_the_goods_returned_not_by_free_amounts(teams):
    manager = teams.users["manager"]
    expected: defaultdict[object, Decimal] = defaultdict(Decimal)
    for item in raw.lines(manager):
        order = item["order"]
        if order["currency"] == "CNY" and raw.within(order["finished_at"], WHOLE):
            share = item["line_total"] * order["total"] / order["subtotal"]
            expected[item["product_id"]] += share - item["returned"]
    rows = revenue(manager, WHOLE, CNY, ["product"])
    assert {row["product"]: raw.cents(row["amount"]) for row in rows} == {
        key: raw.cents(value) for key, value in expected.items()
    }
    # The products add up to the revenue plus the free amounts credited (which name no product).
    [total] = revenue(manager, WHOLE, CNY)
    free = Decimal("100.00") + Decimal("50.00")
    assert raw.cents(sum(row["amount"] for row in rows)) == raw.cents(total["amount"] + free)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_win_rate_by_team_matches_the_raw_deals(teams, viewer):
    user = teams.users[viewer]
    group = team_key(raw.team_of())
    expected: defaultdict[object, list[int]] = defaultdict(lambda: [0, 0])
    for deal in raw.deals(user):
        if raw.within(deal["won_at"], WHOLE):
            expected[group(deal)][0] += 1
        elif raw.within(deal["lost_at"], WHOLE):
            expected[group(deal)][1] += 1
    rows = closed_deals(user, WHOLE, CNY, ["team"])
    assert {row["team"]: (row["won"], row["lost"], row["win_rate"]) for row in rows} == {
        team: (won, lost, raw.rate(won, won + lost)) for team, (won, lost) in expected.items()
    }
    if viewer == "manager":
        north = next(row for row in rows if row["team"] == teams.north.pk)
        assert north["win_rate"] == Decimal("50.0")  # north1 1 of 3, the lead 1 of 1


@pytest.mark.parametrize("viewer", ["manager", "lead"])
def test_cycle_times_and_integration_by_team_match_the_raw_rows(teams, viewer):
    user = teams.users[viewer]
    group = team_key(raw.team_of())
    spans: defaultdict[object, list[float]] = defaultdict(list)
    finished_orders: defaultdict[object, int] = defaultdict(int)
    for order in raw.orders(user):
        if raw.within(order["finished_at"], WHOLE):
            spans[group(order)].append(raw.days(order["finished_at"], order["processing_at"]))
            finished_orders[group(order)] += 1
    rows = cycle_time(user, WHOLE, CNY, "finish", ["team"])
    assert {row["team"]: (row["orders"], round(row["mean"], 6)) for row in rows} == {
        team: (len(values), round(raw.mean(values), 6)) for team, values in spans.items()
    }
    integrated = {row["team"]: row["finished"] for row in integration(user, WHOLE, CNY, ["team"])}
    assert {team: count for team, count in integrated.items() if count} == dict(finished_orders)


def test_the_team_filter_narrows_every_figure_to_the_team(teams):
    manager = teams.users["manager"]
    south = ReportFilters(team=teams.south)
    [row] = revenue(manager, WHOLE, south)
    expected = by_hand(manager, "finished_at", team_key(raw.team_of())).get(teams.south.pk)
    assert (raw.cents(row["amount"]), row["orders"]) == expected
    assert {row["team"] for row in closed_deals(manager, WHOLE, south, ["team"])} == {teams.south.pk}


def table(response, key):
    return next(t for t in response.context["tables"] if t.key == key)


def test_a_team_lead_sees_their_teams_figures_and_may_filter_by_it_only(client, teams):
    lead = teams.users["lead"]
    client.force_login(lead)
    response = client.get(reverse("reports:sales"), WHOLE_QUERY)
    form = response.context["form"]
    assert list(form.fields["team"].queryset) == [teams.north]
    assert {user.pk for user in form.fields["owner"].queryset} == {lead.pk, teams.users["n1"].pk}
    by_team = table(response, "by_team").rows
    expected = by_hand(lead, "finished_at", team_key(raw.team_of()))
    assert {row["team"]: row["revenue_amount"] for row in by_team} == {
        team: amount for team, (amount, _count) in expected.items()
    }
    # north1's order on south1's customer is North's; south1's own orders are not the lead's to see.
    assert {row["team"] for row in by_team} == {teams.north.pk}
    assert "Your team" in response.content.decode()


def test_a_team_lead_asking_for_another_team_gets_an_error_and_no_figure_of_it(client, teams):
    client.force_login(teams.users["lead"])
    own = table(client.get(reverse("reports:sales"), WHOLE_QUERY), "by_team").rows
    response = client.get(reverse("reports:sales"), {**WHOLE_QUERY, "team": teams.south.pk})
    assert response.status_code == 200
    assert "team" in response.context["form"].errors
    assert table(response, "by_team").rows == own
    assert response.context["chosen"].filters.team is None
    download = client.get(
        reverse("reports:sales"), {**WHOLE_QUERY, "team": teams.south.pk, "table": "by_team", "format": "csv"}
    )
    assert "South" not in download.getvalue().decode()


def test_a_salesperson_has_no_team_filter_and_sees_only_their_own(client, teams):
    seller = teams.users["s1"]
    client.force_login(seller)
    response = client.get(reverse("reports:sales"), {**WHOLE_QUERY, "team": teams.north.pk})
    assert "team" not in response.context["form"].fields
    assert response.context["chosen"].filters.team is None
    rows = table(response, "by_team").rows
    expected = by_hand(seller, "finished_at", team_key(raw.team_of()))
    assert {row["team"]: row["revenue_amount"] for row in rows} == {
        team: amount for team, (amount, _count) in expected.items()
    }
    # Their own South orders, and north1's order on their customer (North's).
    assert {row["team"] for row in rows} == {teams.south.pk, teams.north.pk}
    deals = table(client.get(reverse("reports:pipeline"), WHOLE_QUERY), "deals_by_team").rows
    assert [(row["team"], row["won"], row["lost"]) for row in deals] == [(teams.south.pk, 2, 1)]


def queries(client, url, params):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("viewer", ["manager", "lead"])
def test_team_report_pages_run_a_fixed_number_of_queries(client, teams, viewer):
    client.force_login(teams.users[viewer])
    params = {**WHOLE_QUERY, "team": teams.north.pk}
    urls = [reverse(f"reports:{key}") for key in ("sales", "pipeline", "orders", "integration")]
    few = {url: queries(client, url, params) for url in urls}
    for month in range(1, 7):
        for user in ("n1", "lead", "s1"):
            customer = CustomerFactory(owner=teams.users[user])
            finished(order_in("finished", teams.users[user], customer), month)
    assert {url: queries(client, url, params) for url in urls} == few
