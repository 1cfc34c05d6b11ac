"""A small sales organisation: two teams, each with a lead and agents, agents working deals on other
agents' customers, and a manager."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accounts.models import Membership, Team
from tests.factories import (
    CommunicationFactory,
    CustomerFactory,
    FollowUpFactory,
    OpportunityFactory,
    UserFactory,
)
from tests.orders.builders import make_order


@dataclass
class Org:
    users: dict[str, User] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    records: dict[str, Any] = field(default_factory=dict)


def person(username: str, role: str, team: Team | None = None, **fields: Any) -> User:
    user = UserFactory(username=username, groups=[Group.objects.get(name=role)], **fields)
    if team is not None:
        Membership.objects.create(user=user, team=team)
    return user


@pytest.fixture
def org(db) -> Org:
    o = Org()
    o.teams["east"] = Team.objects.create(name="East", region="Shanghai")
    o.teams["north"] = Team.objects.create(name="North", region="Beijing")
    u = o.users
    u["lead_e"] = person("lead_e", "Team leads", o.teams["east"], first_name="Li", last_name="Lead")
    u["a1"] = person("a1", "Sales", o.teams["east"], first_name="Ann", last_name="One")
    u["a2"] = person("a2", "Sales", o.teams["east"], first_name="Ada", last_name="Two")
    u["lead_n"] = person("lead_n", "Team leads", o.teams["north"])
    u["b1"] = person("b1", "Sales", o.teams["north"], first_name="Bo", last_name="One")
    u["manager"] = person("boss", "Managers", is_staff=True)
    r = o.records
    r["c_a1"] = CustomerFactory(owner=u["a1"], name="Alpha Co")
    r["c_b1"] = CustomerFactory(owner=u["b1"], name="Beta Co")
    # a2 (East) works a deal, an order, a follow-up and a conversation on b1's (North) customer.
    r["d_a1"] = OpportunityFactory(customer=r["c_a1"], title="Alpha pumps")
    r["d_b1"] = OpportunityFactory(customer=r["c_b1"], title="Beta secret deal")
    r["d_a2_on_b1"] = OpportunityFactory(customer=r["c_b1"], owner=u["a2"], title="Beta valves by a2")
    r["o_a2_on_b1"] = make_order(None, r["c_b1"], owner=u["a2"])
    r["o_b1"] = make_order(None, r["c_b1"])
    r["f_a2_on_b1"] = FollowUpFactory(
        customer=r["c_b1"],
        assignee=u["a2"],
        subject="Call Beta for a2",
        due_at=timezone.now() + timedelta(days=1),
    )
    r["f_b1"] = FollowUpFactory(customer=r["c_b1"], subject="Beta private call")
    r["m_a2_on_b1"] = CommunicationFactory(customer=r["c_b1"], staff=u["a2"], subject="a2 met Beta")
    r["m_b1"] = CommunicationFactory(customer=r["c_b1"], subject="Beta private talk")
    return o
