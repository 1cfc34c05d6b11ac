"""Opportunity events: a type, the stages and parameters, never prose; each page renders them in its
reader's language."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from crm.history import actor_name
from opportunities import services
from opportunities.models import OpportunityEvent
from orders.services import close_order

pytestmark = pytest.mark.django_db


def every_kind_of_event(sales1, manager, customer, new_opportunity, stages):
    opportunity = new_opportunity(sales1, customer)
    opportunity = services.move_stage(actor=sales1, opportunity=opportunity, stage=stages["qualify"])
    opportunity = services.update_opportunity(actor=manager, opportunity=opportunity, owner=manager)
    opportunity = services.mark_won(actor=sales1, opportunity=opportunity)
    order = opportunity.order
    assert order is not None
    close_order(actor=sales1, order=order, reason="Customer withdrew")
    opportunity = services.reopen(actor=sales1, opportunity=opportunity)
    opportunity = services.mark_lost(actor=sales1, opportunity=opportunity, reason="Chose a competitor")
    return opportunity, order


def sentences(order, sales1, manager):
    old, new = actor_name(sales1), actor_name(manager)
    number = order.number
    return {
        "created": ("Created in Capture", "创建于“获取线索”阶段"),
        "stage_moved": ("Moved from Capture to Qualify", "从“获取线索”移至“资格确认”"),
        "owner_changed": (f"Owner changed: {old} → {new}", f"负责人变更：{old} → {new}"),
        "won": (f"Won: order {number}", f"赢单：订单 {number}"),
        "reopened": (
            f"Reopened in Qualify; order {number} unlinked",
            f"已在“资格确认”阶段重新打开；已解除与订单 {number} 的关联",
        ),
        "lost": ("Lost: Chose a competitor", "输单：Chose a competitor"),
    }


def page(client, url, language, **headers):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(("language", "index"), [("en", 0), ("zh-hans", 1)])
def test_every_event_reads_in_the_readers_language(
    language, index, client, sales1, manager, customer1, new_opportunity, stages
):
    opportunity, order = every_kind_of_event(sales1, manager, customer1, new_opportunity, stages)
    expected = sentences(order, sales1, manager)
    assert set(expected) == set(OpportunityEvent.Type.values)
    client.force_login(manager)
    detail = page(client, opportunity.get_absolute_url(), language)
    timeline = page(
        client, reverse("customers:timeline", args=[customer1.pk]), language, HTTP_HX_REQUEST="true"
    )
    for event_type, texts in expected.items():
        for shown in (detail, timeline):
            assert escape(texts[index]) in shown, event_type
            assert escape(texts[1 - index]) not in shown, event_type


def test_events_store_facts_not_sentences(sales1, manager, customer1, new_opportunity, stages):
    opportunity, order = every_kind_of_event(sales1, manager, customer1, new_opportunity, stages)
    stored = list(opportunity.events.order_by("at", "id"))
    assert [(e.type, e.from_stage_id, e.to_stage_id, e.parameters, e.note) for e in stored] == [
        ("created", None, stages["capture"].pk, {}, ""),
        ("stage_moved", stages["capture"].pk, stages["qualify"].pk, {}, ""),
        (
            "owner_changed",
            None,
            None,
            {
                "old_owner": actor_name(sales1),
                "old_owner_id": sales1.pk,
                "new_owner": actor_name(manager),
                "new_owner_id": manager.pk,
            },
            "",
        ),
        (
            "won",
            stages["qualify"].pk,
            stages["won"].pk,
            {"order": order.pk, "order_number": order.number},
            "",
        ),
        (
            "reopened",
            stages["won"].pk,
            stages["qualify"].pk,
            {"unlinked_order": order.pk, "unlinked_order_number": order.number},
            "",
        ),
        ("lost", stages["qualify"].pk, stages["lost"].pk, {"reason": "Chose a competitor"}, ""),
    ]
    # The order it became names it, as data.
    assert order.events.get(type="created").parameters == {
        "opportunity": {"id": opportunity.pk, "title": opportunity.title}
    }


def test_time_in_stages_counts_stage_changes_only(
    client, sales1, manager, customer1, new_opportunity, stages
):
    opportunity = new_opportunity(sales1, customer1)
    services.update_opportunity(actor=manager, opportunity=opportunity, owner=manager)
    client.force_login(manager)
    response = client.get(opportunity.get_absolute_url())
    assert [(row["stage"], row["visits"]) for row in response.context["stage_times"]] == [
        (stages["capture"], 1)
    ]


def test_a_typed_note_is_kept_as_typed(client, sales1, customer1, new_opportunity, stages):
    opportunity = new_opportunity(sales1, customer1)
    services.move_stage(
        actor=sales1, opportunity=opportunity, stage=stages["evaluate"], note="电话确认了预算"
    )
    event = opportunity.events.get(type="stage_moved")
    assert (event.note, event.parameters) == ("电话确认了预算", {})
    client.force_login(sales1)
    assert "电话确认了预算" in page(client, opportunity.get_absolute_url(), "en")
