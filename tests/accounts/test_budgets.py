"""A team lead's pages cost the same number of queries with a few and with many of the team's records."""

import pytest
from django.urls import reverse

from tests.factories import CommunicationFactory, CustomerFactory, FollowUpFactory, OpportunityFactory
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db

PAGES = [
    reverse("customers:index"),
    reverse("opportunities:index"),
    reverse("opportunities:board"),
    reverse("orders:index"),
    reverse("followups:index"),
    reverse("followups:communications"),
    reverse("dashboard"),
    reverse("search") + "?q=Co",
]


def add_team_records(org, count):
    for index in range(count):
        owner = org.users["a1"] if index % 2 else org.users["a2"]
        customer = CustomerFactory(owner=owner, name=f"Team Co {index}")
        OpportunityFactory(customer=customer, title=f"Team deal {index}")
        OpportunityFactory(customer=org.records["c_b1"], owner=owner, title=f"Deal on North {index}")
        make_order(None, customer)
        FollowUpFactory(customer=customer)
        CommunicationFactory(customer=customer)


@pytest.mark.parametrize("who", ["lead_e", "a2"])
def test_the_same_queries_with_5_and_50_records(client, org, count_queries, who):
    client.force_login(org.users[who])
    add_team_records(org, 5)
    few = [count_queries(client, url) for url in PAGES]
    add_team_records(org, 45)
    many = [count_queries(client, url) for url in PAGES]
    assert many == few
