"""Attacker tests for the new roles: a team lead and an agent guessing the ids of records outside their
scope get 404 on every page, fragment and action, and nothing is written."""

import pytest
from django.urls import reverse

from customers.models import ContactMethod, Customer, Need
from followups.models import Communication, FollowUp
from opportunities.models import Opportunity, OpportunityEvent
from orders.models import Order, OrderEvent, Payment

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def snapshot():
    return (
        list(Customer.objects.values_list("pk", "name", "owner_id", "updated_at")),
        list(Opportunity.objects.values_list("pk", "title", "stage_id", "owner_id", "updated_at")),
        list(Order.objects.values_list("pk", "status", "owner_id", "updated_at")),
        list(FollowUp.objects.values_list("pk", "status", "assignee_id", "due_at")),
        [
            model.objects.count()
            for model in (Communication, ContactMethod, Need, OpportunityEvent, OrderEvent, Payment)
        ],
    )


def outside_urls(org):
    """Every GET and POST on North's customer and b1's own deal, order, follow-up and conversation."""
    r = org.records
    customer, deal, order, followup, talk = r["c_b1"], r["d_b1"], r["o_b1"], r["f_b1"], r["m_b1"]
    gets = [
        reverse("customers:edit", args=[customer.pk]),
        reverse("customers:timeline", args=[customer.pk]),
        reverse("opportunities:detail", args=[deal.pk]),
        reverse("opportunities:edit", args=[deal.pk]),
        reverse("orders:detail", args=[order.pk]),
        reverse("orders:edit", args=[order.pk]),
        reverse("orders:statement", args=[order.pk]),
        reverse("orders:statement_pdf", args=[order.pk]),
        reverse("followups:detail", args=[followup.pk]),
        reverse("followups:communication", args=[talk.pk]),
    ]
    posts = {
        reverse("customers:edit", args=[customer.pk]): {"name": "Hijacked"},
        reverse("customers:method_add", args=[customer.pk]): {"type": "email", "value": "x@example.com"},
        reverse("customers:need_add", args=[customer.pk]): {"description": "Hijacked"},
        reverse("opportunities:edit", args=[deal.pk]): {"title": "Hijacked"},
        reverse("opportunities:move", args=[deal.pk]): {"stage": deal.stage_id},
        reverse("opportunities:lose", args=[deal.pk]): {"reason": "Hijacked"},
        reverse("opportunities:win", args=[deal.pk]): {},
        reverse("orders:edit", args=[order.pk]): {"notes": "Hijacked"},
        reverse("orders:transition", args=[order.pk, "close"]): {"reason": "Hijacked"},
        reverse("orders:payment_add", args=[order.pk]): {"amount": "1", "method": "cash"},
        reverse("followups:complete", args=[followup.pk]): {"result": "Hijacked"},
        reverse("followups:cancel", args=[followup.pk]): {"reason": "Hijacked"},
        reverse("followups:reassign", args=[followup.pk]): {"assignee": org.users["a1"].pk},
    }
    return gets, posts


@pytest.mark.parametrize("who", ["lead_e", "a2", "a1"])
def test_outside_the_scope_everything_answers_404_and_nothing_changes(client, org, who):
    client.force_login(org.users[who])
    before = snapshot()
    gets, posts = outside_urls(org)
    for url in gets:
        assert client.get(url).status_code == 404, url
        assert client.get(url, **HTMX).status_code == 404, url
    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url
        assert client.post(url, data, **HTMX).status_code == 404, url
    assert snapshot() == before


def test_the_new_roles_have_no_admin(client, org):
    for who in ("lead_e", "a2"):
        client.force_login(org.users[who])
        deal = org.records["d_a1"]
        response = client.get(reverse("admin:opportunities_opportunity_change", args=[deal.pk]))
        assert response.status_code in (302, 403)


def test_the_lead_edits_a_team_members_records(client, org):
    client.force_login(org.users["lead_e"])
    deal, customer = org.records["d_a1"], org.records["c_a1"]
    assert client.get(reverse("opportunities:edit", args=[deal.pk])).status_code == 200
    assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 200
    # a2's deal on North's customer is the team's too
    assert client.get(reverse("opportunities:edit", args=[org.records["d_a2_on_b1"].pk])).status_code == 200
    followup = org.records["f_a2_on_b1"]
    response = client.post(reverse("followups:complete", args=[followup.pk]), {"result": "Called"})
    assert response.status_code in (200, 302)
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.DONE and followup.completed_by == org.users["lead_e"]


def test_an_agent_edits_their_deal_on_someone_elses_customer(client, org):
    client.force_login(org.users["a2"])
    deal = org.records["d_a2_on_b1"]
    assert client.get(reverse("opportunities:edit", args=[deal.pk])).status_code == 200
    assert client.get(reverse("orders:detail", args=[org.records["o_a2_on_b1"].pk])).status_code == 200


def test_an_agent_wins_their_deal_on_someone_elses_customer_into_their_own_order(org):
    from opportunities.models import OpportunityLine
    from opportunities.services import mark_won
    from tests.factories import ProductFactory

    deal = org.records["d_a2_on_b1"]
    OpportunityLine.objects.create(opportunity=deal, product=ProductFactory(), quantity=2, unit_price=100)
    won = mark_won(actor=org.users["a2"], opportunity=deal)
    assert won.order is not None
    assert won.order.owner == org.users["a2"] and won.order.customer == org.records["c_b1"]
    assert won.order in Order.objects.visible_to(org.users["a2"])


def test_an_agent_logs_a_conversation_about_their_deal_on_someone_elses_customer(client, org):
    from django.utils import timezone

    client.force_login(org.users["a2"])
    customer, mine, theirs = org.records["c_b1"], org.records["d_a2_on_b1"], org.records["d_b1"]
    url = reverse("followups:log", args=[customer.pk])
    data = {
        "channel": "phone",
        "direction": "out",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "subject": "Valves call",
        "content": "Talked about the valves.",
    }
    before = Communication.objects.count()
    assert client.get(url).status_code == 404  # not linked to a deal of theirs
    assert client.post(url, data).status_code == 404
    assert client.post(url, {**data, "opportunity": theirs.pk}).status_code == 404  # b1's deal
    assert client.post(f"{url}?opportunity={theirs.pk}", data).status_code == 404
    assert Communication.objects.count() == before
    assert client.get(url, {"opportunity": mine.pk}).status_code == 200
    assert client.post(url, {**data, "opportunity": mine.pk}).status_code == 302
    logged = Communication.objects.get(subject="Valves call")
    assert (logged.customer, logged.opportunity, logged.staff) == (customer, mine, org.users["a2"])
    assert logged in Communication.objects.visible_to(org.users["a2"])


@pytest.mark.parametrize("who", ["lead_e", "a2"])
def test_exports_hold_nothing_outside_the_scope(client, org, who):
    client.force_login(org.users[who])
    secrets = ["Beta secret deal", "Beta private call", "Beta private talk", org.records["o_b1"].number]
    for name in (
        "customers:export",
        "opportunities:export",
        "orders:export",
        "followups:export",
        "followups:communications_export",
    ):
        response = client.get(reverse(name), {"format": "csv"})
        assert response.status_code == 200, name
        content = b"".join(response.streaming_content) if response.streaming else response.content
        text = content.decode("utf-8-sig")
        assert not any(secret in text for secret in secrets), name
    mine = b"".join(client.get(reverse("opportunities:export"), {"format": "csv"}).streaming_content)
    assert "Beta valves by a2" in mine.decode("utf-8-sig")
