"""Users and teams, read only: each user's team and whether they lead it; each team's members and
leads; a fixed number of queries however many there are; choice labels in the request's language."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import Membership, Team
from crm.roles import TEAM_LEADS
from tests.factories import CustomerFactory, UserFactory
from tests.orders.builders import order_in

pytestmark = pytest.mark.django_db


def test_users_carry_their_team_and_lead(api_client, org):
    client = api_client(org.users["a1"])
    rows = {row["username"]: row for row in client.get("/api/v1/users/?page_size=50").json()["results"]}
    east = org.teams["east"]
    assert rows["lead_e"]["team"] == {"id": east.pk, "name": "East", "region": "Shanghai"}
    assert rows["lead_e"]["is_team_lead"] is True
    assert (rows["a1"]["team"]["name"], rows["a1"]["is_team_lead"]) == ("East", False)
    assert (rows["boss"]["team"], rows["boss"]["is_team_lead"]) == (None, False)
    one = client.get(f"/api/v1/users/{org.users['lead_n'].pk}/").json()
    assert (one["team"]["name"], one["is_team_lead"]) == ("North", True)


def test_teams_carry_their_members_and_leads(api_client, org):
    client = api_client(org.users["b1"])
    teams = client.get("/api/v1/teams/").json()["results"]
    assert [(t["name"], t["members"], t["leads"]) for t in teams] == [
        ("East", 3, [org.users["lead_e"].pk]),
        ("North", 2, [org.users["lead_n"].pk]),
    ]
    assert client.get(f"/api/v1/teams/{org.teams['north'].pk}/").json()["region"] == "Beijing"
    assert client.get("/api/v1/teams/999999/").status_code == 404


def add_people(count):
    leads = Group.objects.get(name=TEAM_LEADS)
    for index in range(count):
        team = Team.objects.create(name=f"Team {Team.objects.count()} {index}")
        for lead in (True, False):
            user = UserFactory(groups=[leads] if lead else [])
            Membership.objects.create(user=user, team=team)


@pytest.mark.parametrize("url", ["/api/v1/users/", "/api/v1/teams/"])
def test_the_lists_cost_the_same_queries_for_few_and_many(api, count_queries, url):
    add_people(3)
    few = count_queries(api, url + "?page_size=100")
    add_people(20)
    many = count_queries(api, url + "?page_size=100")
    assert few == many
    assert many.response.json()["count"] >= 20


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "Confirmed"), ("zh-hans", "已确认")],
)
def test_choice_fields_carry_their_label_in_the_requests_language(api, sales1, language, label):
    order = order_in("confirmed", sales1, CustomerFactory(owner=sales1, industry="retail"))
    body = api.get(f"/api/v1/orders/{order.pk}/", HTTP_ACCEPT_LANGUAGE=language).json()
    assert (body["status"], body["status_label"]) == ("confirmed", label)
    customer = api.get(f"/api/v1/customers/{order.customer_id}/", HTTP_ACCEPT_LANGUAGE=language).json()
    assert customer["industry"] == "retail" and customer["industry_label"] != ""


def test_the_schema_documents_the_labels(api):
    schema = api.get("/api/schema/?format=json").json()
    order = schema["components"]["schemas"]["Order"]["properties"]
    assert order["status_label"]["readOnly"] is True
    assert "Accept-Language" in order["status_label"]["description"]
