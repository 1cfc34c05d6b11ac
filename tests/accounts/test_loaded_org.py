"""The loaded organisation of the issue, scaled down: three offices of five agents, accounts served by
several agents each. Every agent sees exactly the deals they own or that sit on their customers, every
lead their team's, a manager all; checked against a computation from the raw rows."""

import random
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import Membership, Team
from opportunities.models import Opportunity, Stage
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation(db):
    rng = random.Random(11)
    sales, leads = Group.objects.get(name="Sales"), Group.objects.get(name="Team leads")
    teams, agents, team_of = [], [], {}
    for office in ("Shanghai", "Beijing", "Shenzhen"):
        team = Team.objects.create(name=office, region=office)
        teams.append(team)
        for index in range(5):
            agent = UserFactory(username=f"{office.lower()}{index}", groups=[leads if index == 0 else sales])
            Membership.objects.create(user=agent, team=team)
            agents.append(agent)
            team_of[agent.pk] = team.pk
    customers = [CustomerFactory(owner=rng.choice(agents)) for _ in range(20)]
    stage = Stage.objects.open().first()
    deals = [
        Opportunity(
            customer=customer,
            owner=rng.choice(agents),
            title=f"Deal {index}",
            stage=stage,
            probability=10,
            expected_close_date=date(2027, 1, 1),
        )
        for index, customer in enumerate(rng.choice(customers) for _ in range(200))
    ]
    Opportunity.objects.bulk_create(deals)
    return agents, team_of


def expected(ids):
    return {
        deal.pk
        for deal in Opportunity.objects.select_related("customer")
        if deal.owner_id in ids or deal.customer.owner_id in ids
    }


def test_everyone_sees_exactly_what_the_rule_says(organisation):
    agents, team_of = organisation
    for agent in agents:
        team = {other.pk for other in agents if team_of[other.pk] == team_of[agent.pk]}
        ids = team if agent.username.endswith("0") else {agent.pk}
        seen = set(Opportunity.objects.visible_to(agent).values_list("pk", flat=True))
        assert seen == expected(ids), agent.username
        owned_elsewhere = Opportunity.objects.filter(owner=agent).exclude(customer__owner=agent)
        assert set(owned_elsewhere.values_list("pk", flat=True)) <= seen
    manager = UserFactory(username="boss", groups=[Group.objects.get(name="Managers")])
    assert Opportunity.objects.visible_to(manager).count() == 200


def test_the_list_shows_an_agent_all_their_deals(client, organisation):
    agents, _team_of = organisation
    agent = agents[3]
    client.force_login(agent)
    response = client.get(reverse("opportunities:index"), {"page_size": 200})
    listed = b"".join(
        client.get(reverse("opportunities:export"), {"format": "csv"}).streaming_content
    ).decode("utf-8-sig")
    assert response.status_code == 200
    titles = set(Opportunity.objects.visible_to(agent).values_list("title", flat=True))
    assert titles and all(f"{title}," in listed or f"{title}\r" in listed for title in titles)
    assert len(listed.strip().splitlines()) == len(titles) + 1
