"""The sharing rule on a loaded organisation: an agent sees exactly what they own or are assigned (even on
another agent's customer), their team lead sees the team's, a manager everything."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.scope import is_lead_of, leads_of, visibility_scope
from crm.reporting import Period
from crm.reports import key_figures
from customers.models import Customer
from followups.models import Communication, FollowUp
from opportunities.models import Opportunity
from orders.models import Order

pytestmark = pytest.mark.django_db

TITLES = {"Alpha pumps", "Beta secret deal", "Beta valves by a2"}


def names(queryset, attribute):
    return {getattr(row, attribute) for row in queryset}


def test_scopes(org):
    u = org.users
    assert visibility_scope(u["a2"]).kind == "own" and visibility_scope(u["a2"]).user_ids == frozenset(
        {u["a2"].pk}
    )
    lead = visibility_scope(u["lead_e"])
    assert lead.kind == "team" and lead.user_ids == frozenset({u["lead_e"].pk, u["a1"].pk, u["a2"].pk})
    assert visibility_scope(u["manager"]).sees_all and visibility_scope(None).sees_all
    assert sorted(leads_of(u["a2"].pk)) == [u["lead_e"].pk]
    assert is_lead_of(u["lead_e"], u["a1"].pk) and not is_lead_of(u["lead_e"], u["b1"].pk)
    assert not is_lead_of(u["a1"], u["a2"].pk)


def test_an_agent_sees_exactly_their_records_on_someone_elses_customer(org):
    a2 = org.users["a2"]
    assert names(Opportunity.objects.visible_to(a2), "title") == {"Beta valves by a2"}
    assert list(Order.objects.visible_to(a2)) == [org.records["o_a2_on_b1"]]
    assert names(FollowUp.objects.visible_to(a2), "subject") == {"Call Beta for a2"}
    assert names(Communication.objects.visible_to(a2), "subject") == {"a2 met Beta"}
    assert not Customer.objects.visible_to(a2).exists()  # the customer itself is b1's


def test_the_lead_sees_the_teams_and_the_manager_everything(org):
    lead, manager = org.users["lead_e"], org.users["manager"]
    assert names(Opportunity.objects.visible_to(lead), "title") == {"Alpha pumps", "Beta valves by a2"}
    assert names(Customer.objects.visible_to(lead), "name") == {"Alpha Co"}
    assert list(Order.objects.visible_to(lead)) == [org.records["o_a2_on_b1"]]
    assert names(Opportunity.objects.visible_to(manager), "title") == TITLES
    north = org.users["lead_n"]
    assert names(Opportunity.objects.visible_to(north), "title") == {"Beta secret deal", "Beta valves by a2"}


def test_pages_exports_and_search_show_an_agent_exactly_their_deals(client, org):
    client.force_login(org.users["a2"])
    listed = client.get(reverse("opportunities:index")).content.decode()
    board = client.get(reverse("opportunities:board")).content.decode()
    exported = b"".join(client.get(reverse("opportunities:export") + "?format=csv").streaming_content)
    found = client.get(reverse("search"), {"q": "Beta"}).content.decode()
    for content in (listed, board, exported.decode("utf-8-sig"), found):
        assert "Beta valves by a2" in content
        assert "Beta secret deal" not in content and "Alpha pumps" not in content
    orders = client.get(reverse("orders:index")).content.decode()
    assert org.records["o_a2_on_b1"].number in orders and org.records["o_b1"].number not in orders
    followups = client.get(reverse("followups:index")).content.decode()
    assert "Call Beta for a2" in followups and "Beta private call" not in followups


def test_the_dashboard_counts_the_agents_deals(client, org):
    deal = org.records["d_a2_on_b1"]
    period = Period.from_preset("this_month", timezone.localdate())
    assert (
        key_figures(org.users["a2"], period)["now"]["weighted_pipeline"]
        == deal.amount * deal.probability / 100
    )
    everything = sum(o.amount * o.probability / 100 for o in Opportunity.objects.all())
    assert key_figures(org.users["manager"], period)["now"]["weighted_pipeline"] == everything
    client.force_login(org.users["a2"])
    assert client.get(reverse("dashboard")).status_code == 200


def test_the_lead_sees_the_teams_pipeline_on_the_board(client, org):
    client.force_login(org.users["lead_e"])
    board = client.get(reverse("opportunities:board"))
    cards = {card.title for column in board.context["columns"] for card in column["cards"]}
    assert cards == {"Alpha pumps", "Beta valves by a2"}
    assert {person.username for person in board.context["owners"]} == {"lead_e", "a1", "a2"}
    mine = client.get(reverse("opportunities:board"), {"owner": org.users["a2"].pk})
    assert {card.title for column in mine.context["columns"] for card in column["cards"]} == {
        "Beta valves by a2"
    }


def test_through_their_deal_an_agent_reads_the_customers_card_only(client, org):
    client.force_login(org.users["a2"])
    customer = org.records["c_b1"]
    card = client.get(reverse("customers:detail", args=[customer.pk]))
    assert card.status_code == 200 and card.templates[0].name == "customers/customer_card.html"
    content = card.content.decode()
    assert "Beta Co" in content and "Beta valves by a2" in content
    assert "Beta secret deal" not in content and "Beta private" not in content
    assert reverse("customers:edit", args=[customer.pk]) not in content
    assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 404
    assert client.get(reverse("customers:timeline", args=[customer.pk])).status_code == 404
    # Without a record of theirs on it, a customer stays hidden.
    client.force_login(org.users["a1"])
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 404


def test_a_lead_filters_lists_by_the_teams_members_only(client, org):
    client.force_login(org.users["lead_e"])
    page = client.get(reverse("customers:index"))
    offered = {user.username for user in page.context["filterset"].form.fields["owner"].queryset}
    assert offered == {"lead_e", "a1", "a2"}
    assert "Ann One" in page.content.decode()  # the owner column, by full name
    refused = client.get(reverse("orders:index"), {"owner": org.users["b1"].pk})
    assert org.records["o_b1"].number not in refused.content.decode()
    client.force_login(org.users["a1"])
    assert "owner" not in client.get(reverse("customers:index")).context["filterset"].form.fields


def test_reports_count_the_teams_deals_for_the_lead(client, org):
    from crm.reporting import ReportFilters
    from opportunities.reports import open_pipeline

    lead = org.users["lead_e"]
    owners = {row["owner"]: row["deals"] for row in open_pipeline(lead, ReportFilters(), ["owner"])}
    assert owners == {org.users["a1"].pk: 1, org.users["a2"].pk: 1}
    client.force_login(lead)
    response = client.get(reverse("reports:pipeline"))
    assert response.status_code == 200 and "Bo One" not in response.content.decode()


def test_an_agents_followups_link_the_customers_card_and_their_own_deal(client, org):
    from followups.models import FollowUp

    FollowUp.objects.filter(pk=org.records["f_a2_on_b1"].pk).update(opportunity=org.records["d_a2_on_b1"])
    FollowUp.objects.filter(pk=org.records["f_b1"].pk).update(
        assignee=org.users["a2"], opportunity=org.records["d_b1"]
    )
    client.force_login(org.users["a2"])
    content = client.get(reverse("followups:index")).content.decode()
    customer, mine, theirs = org.records["c_b1"], org.records["d_a2_on_b1"], org.records["d_b1"]
    assert f'<a href="{customer.get_absolute_url()}">Beta Co</a>' in content
    assert f'<a href="{mine.get_absolute_url()}">' in content
    assert "Beta secret deal" in content and theirs.get_absolute_url() not in content  # named, not opened
