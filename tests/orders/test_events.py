"""Order events: a type and parameters, never prose; each page renders them in its reader's language."""

from decimal import Decimal as D

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils.html import escape

from crm.history import actor_name
from orders import services
from orders.models import OrderEvent
from tests.factories import OpportunityFactory
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db


def every_kind_of_event(sales1, manager, customer):
    """Two orders whose events are of every type: one walked from creation to finished with every
    change on the way, one closed by the system."""
    order = make_order(sales1, customer)  # 3 × 100.00
    lines = [{"description": "Sensor", "quantity": 4, "unit_price": D("100.00")}]
    order = services.update_order(actor=sales1, order=order, lines=lines)
    order = services.update_order(actor=sales1, order=order, shipping_address="上海市浦东新区")
    order = services.update_order(actor=manager, order=order, owner=manager)
    with override_settings(ORDER_APPROVAL_LIMIT=D("100")):
        approval = services.request_approval(actor=sales1, order=order, note="大客户")
        services.decide_approval(actor=manager, approval=approval, approve=False, note="价格太低")
        services.request_approval(actor=sales1, order=order)
        lines = [{"description": "Sensor kit", "quantity": 4, "unit_price": D("100.00")}]
        order = services.update_order(actor=sales1, order=order, lines=lines)  # voids the request
        approval = services.request_approval(actor=sales1, order=order)
        services.decide_approval(actor=manager, approval=approval, approve=True, note="同意")
        order = services.confirm_order(actor=sales1, order=order)
    services.record_payment(actor=sales1, order=order, amount=D("150.00"), method="cash")
    services.record_payment(actor=sales1, order=order, amount=D("-50.00"), method="cash")
    order = services.start_processing(actor=sales1, order=order, carrier="顺丰速运", tracking_number="SF123")
    services.record_payment(actor=sales1, order=order, amount=D("300.00"), method="alipay")
    order.refresh_from_db()
    order = services.finish_order(actor=sales1, order=order)
    services.issue_credit_note(
        actor=sales1,
        order=order,
        reason="价格调整",
        amount=D("20.00"),
        refund=D("20.00"),
        refund_method="cash",
    )
    order.refresh_from_db()
    closed = services.close_order(actor=None, order=make_order(sales1, customer), reason="客户取消")
    return order, closed


def sentences(order, sales1, manager):
    """What each event says, by type, in English and in 简体中文."""
    old, new = actor_name(sales1), actor_name(manager)
    return {
        "created": ("Order created", "订单已创建"),
        "lines_changed": (
            "Lines changed, total 300.00 → 400.00 CNY",
            "订单行已修改，合计 300.00 → 400.00 CNY",
        ),
        "details_changed": ("Details changed: shipping address", "详情已修改：收货地址"),
        "owner_changed": (f"Owner changed: {old} → {new}", f"负责人变更：{old} → {new}"),
        "confirmed": ("Order confirmed", "订单已确认"),
        "payment_recorded": ("Payment of 150.00 CNY recorded (Cash)", "已登记收款 150.00 CNY（现金）"),
        "refund_recorded": ("Refund of 50.00 CNY recorded (Cash)", "已登记退款 50.00 CNY（现金）"),
        "processing_started": (
            "Processing started, shipped with 顺丰速运, tracking number SF123",
            "已开始处理，承运商 顺丰速运，运单号 SF123",
        ),
        "finished": (
            f"Order finished, invoice {order.invoice_number}",
            f"订单已完成，发票号 {order.invoice_number}",
        ),
        "closed": ("Order closed: 客户取消", "订单已关闭：客户取消"),
        "approval_requested": (
            "Approval requested for a total of 400.00 CNY",
            "已申请审批，合计 400.00 CNY",
        ),
        "approval_granted": ("Approval granted", "审批已通过"),
        "approval_rejected": ("Approval refused", "审批被拒绝"),
        "approval_voided": ("Approval void: lines or amounts changed", "审批已作废：订单行或金额已变更"),
        "credit_note_issued": (
            f"Credit note {order.credit_notes.get().number} of 20.00 CNY issued: 价格调整",
            f"已开具贷项通知单 {order.credit_notes.get().number}，金额 20.00 CNY：价格调整",
        ),
    }


def page(client, url, language, **headers):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(("language", "index"), [("en", 0), ("zh-hans", 1)])
def test_every_event_reads_in_the_readers_language(language, index, client, sales1, manager, customer):
    order, closed = every_kind_of_event(sales1, manager, customer)
    expected = sentences(order, sales1, manager)
    assert set(expected) == set(OrderEvent.Type.values)  # every type is shown below
    client.force_login(manager)
    order_page = page(client, order.get_absolute_url(), language)
    closed_page = page(client, closed.get_absolute_url(), language)
    timeline = page(
        client, reverse("customers:timeline", args=[customer.pk]), language, HTTP_HX_REQUEST="true"
    )
    other = 1 - index
    for event_type, texts in expected.items():
        shown = closed_page if event_type == "closed" else order_page
        assert escape(texts[index]) in shown, event_type
        assert escape(texts[other]) not in shown, event_type
        assert escape(texts[index]) in timeline, event_type
    system = ("System", "系统")
    assert system[index] in closed_page and system[index] in timeline
    assert system[other] not in closed_page


def test_events_store_facts_not_sentences(sales1, manager, customer):
    order, _closed = every_kind_of_event(sales1, manager, customer)
    stored: dict[str, OrderEvent] = {}  # the first event of each type
    for event in OrderEvent.objects.order_by("at", "id"):
        stored.setdefault(event.type, event)
    assert set(stored) == set(OrderEvent.Type.values)
    typed = {name: event.note for name, event in stored.items() if event.note}
    assert typed == {
        "approval_requested": "大客户",
        "approval_rejected": "价格太低",
        "approval_granted": "同意",
    }
    assert stored["lines_changed"].parameters == {
        "old_total": "300.00",
        "new_total": "400.00",
        "currency": "CNY",
    }
    assert stored["details_changed"].parameters == {"fields": ["shipping_address"]}
    assert stored["owner_changed"].parameters["new_owner_id"] == manager.pk
    assert stored["payment_recorded"].parameters | {"payment": None} == {
        "payment": None,
        "amount": "150.00",
        "currency": "CNY",
        "method": "cash",
    }
    assert stored["refund_recorded"].parameters["amount"] == "50.00"
    assert stored["processing_started"].parameters == {"carrier": "顺丰速运", "tracking_number": "SF123"}
    assert stored["finished"].parameters == {"invoice_number": order.invoice_number}
    assert stored["closed"].parameters == {"reason": "客户取消"}
    assert stored["closed"].actor is None
    note = order.credit_notes.get()
    assert stored["credit_note_issued"].parameters == {
        "credit_note": note.pk,
        "number": note.number,
        "amount": "20.00",
        "currency": "CNY",
        "reason": "价格调整",
    }
    # The status columns the cycle times read: status changes only.
    transitions = OrderEvent.objects.filter(order=order).exclude(to_status="")
    assert list(transitions.order_by("at", "id").values_list("type", "from_status", "to_status")) == [
        ("created", "", "created"),
        ("confirmed", "created", "confirmed"),
        ("processing_started", "confirmed", "processing"),
        ("finished", "processing", "finished"),
    ]
    assert (
        not OrderEvent.objects.filter(type="payment_recorded").exclude(from_status="", to_status="").exists()
    )


def test_an_order_won_from_an_opportunity_names_it(client, sales1, customer):
    opportunity = OpportunityFactory(customer=customer, title="产线升级")
    order = services.create_order(
        actor=sales1,
        customer=customer,
        lines=[{"description": "Sensor", "quantity": 1, "unit_price": D("10.00")}],
        opportunity=opportunity,
    )
    event = order.events.get()
    assert event.parameters == {"opportunity": {"id": opportunity.pk, "title": "产线升级"}}
    client.force_login(sales1)
    english = f"Order created from opportunity #{opportunity.pk} “产线升级”"
    chinese = f"由商机 #{opportunity.pk}“产线升级”生成订单"
    assert english in page(client, order.get_absolute_url(), "en")
    assert chinese in page(client, order.get_absolute_url(), "zh-hans")


def test_a_typed_note_is_kept_as_typed(client, sales1, customer):
    order = services.confirm_order(
        actor=sales1, order=make_order(sales1, customer), note="Approved by phone, 王经理"
    )
    event = order.events.get(type="confirmed")
    assert (event.note, event.parameters) == ("Approved by phone, 王经理", {})
    client.force_login(sales1)
    assert "Approved by phone, 王经理" in page(client, order.get_absolute_url(), "zh-hans")


def test_changing_nothing_records_no_event(sales1, customer):
    order = make_order(sales1, customer, shipping_address="A")
    before = order.events.count()
    services.update_order(actor=sales1, order=order, shipping_address="A")
    assert order.events.count() == before
