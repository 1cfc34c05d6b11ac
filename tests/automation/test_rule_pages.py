"""Managers create, edit, enable and preview rules in the app; nobody else reaches the pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from automation.models import AutomationRule
from orders.models import Order
from tests.factories import CustomerFactory
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Chase new orders",
    "enabled": "on",
    "trigger": "order_stuck",
    "status": "created",
    "threshold": "24",
    "action": "followup",
    "assignee": "owner",
    "due_in_days": "1",
    "language": "zh-hans",
    "subject_zh": "跟进订单 {order_number}",
    "subject_en": "Chase {order_number}",
}


def test_a_manager_creates_a_rule_and_sees_what_it_would_match(manager_client, sales1, english):
    order = make_order(sales1, CustomerFactory(owner=sales1, name="Acme"))
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=2))
    response = manager_client.post(reverse("automation:rule_create"), FORM, follow=True)
    rule = AutomationRule.objects.get()
    assert response.redirect_chain[-1][0] == reverse("automation:rule", args=[rule.pk])
    assert (rule.trigger, rule.status, rule.threshold, rule.enabled) == ("order_stuck", "created", 24, True)
    assert b"Would act on 1 record now." in response.content
    assert f"跟进订单 {order.number}".encode() in response.content  # the preview, in both languages
    assert f"Chase {order.number}".encode() in response.content


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "finished"}, "status"),  # an order does not wait in finished
        ({"threshold": ""}, "threshold"),
        ({"subject_en": "Chase {order}"}, "subject_en"),  # no such variable
        ({"action": "email", "subject_zh": "", "subject_en": ""}, "subject_zh"),
        ({"assignee": "user"}, "user"),
        ({"threshold": "99999999999"}, "threshold"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_refused_at_the_field_and_nothing_is_written(manager_client, change, field):
    response = manager_client.post(reverse("automation:rule_create"), FORM | change)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not AutomationRule.objects.exists()


def test_a_manager_edits_and_disables_a_rule(manager_client):
    manager_client.post(reverse("automation:rule_create"), FORM)
    rule = AutomationRule.objects.get()
    manager_client.post(reverse("automation:rule", args=[rule.pk]), FORM | {"threshold": "72"})
    manager_client.post(reverse("automation:rule_enable", args=[rule.pk]), {"enabled": "0"})
    rule.refresh_from_db()
    assert (rule.threshold, rule.enabled) == (72, False)


def test_the_rule_list_costs_the_same_with_5_and_50_rules(manager_client, count_queries):
    def add(count):
        AutomationRule.objects.bulk_create(
            AutomationRule(name=f"R{n}", trigger="customer_silent", threshold=30, action="followup")
            for n in range(count)
        )

    add(5)
    few = count_queries(manager_client, reverse("automation:rules"))
    add(45)
    assert count_queries(manager_client, reverse("automation:rules")) == few <= 8


def test_sales_staff_reach_no_rule_page_and_change_nothing(sales_client, manager):
    rule = AutomationRule.objects.create(name="R", trigger="customer_silent", threshold=30, action="followup")
    for url in (
        reverse("automation:rules"),
        reverse("automation:rule_create"),
        reverse("automation:rule", args=[rule.pk]),
    ):
        assert sales_client.get(url).status_code == 403
    assert sales_client.post(reverse("automation:rule", args=[rule.pk]), FORM).status_code == 403
    assert (
        sales_client.post(reverse("automation:rule_enable", args=[rule.pk]), {"enabled": "0"}).status_code
        == 403
    )
    rule.refresh_from_db()
    assert (rule.name, rule.enabled) == ("R", True)


def test_an_unknown_record_answers_404(manager_client):
    for name in ("automation:rule", "automation:outbox_detail", "automation:webhook"):
        for pk in (999, "9" * 25):  # no such row; no such id at all
            assert manager_client.get(reverse(name, args=[pk])).status_code == 404, name
    assert manager_client.post(reverse("automation:delivery_resend", args=["9" * 25])).status_code == 404
