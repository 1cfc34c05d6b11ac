"""The data migrations that turn the prose older versions stored (in English or 简体中文) into typed
events and change-reason codes: their conversion functions on rows shaped like the old data, then
each migration's forwards step on such rows in the database."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import translation

from crm.history import describe_reason
from customers.models import Customer
from opportunities.models import OpportunityEvent, Stage
from orders.models import OrderEvent, Payment
from tests.factories import CustomerFactory, OpportunityFactory
from tests.orders.builders import make_order

reasons = importlib.import_module("crm.migrations.0002_change_reasons_as_codes")
order_events = importlib.import_module("orders.migrations.0004_events_from_prose")
opportunity_events = importlib.import_module("opportunities.migrations.0006_events_from_prose")


@pytest.mark.parametrize(
    ("stored", "code"),
    [
        ("Payment recorded", "payment_recorded"),
        ("已登记收款", "payment_recorded"),
        ("Refund recorded", "refund_recorded"),
        ("已登记退款", "refund_recorded"),
        ("Lines changed", "lines_changed"),
        ("订单行已修改", "lines_changed"),
        ("Owner reassigned", "owner_reassigned"),
        ("已更换负责人", "owner_reassigned"),
        ("Reopened", "reopened"),
        ("已重新打开", "reopened"),
        ("Rescheduled", "rescheduled"),
        ("已改期", "rescheduled"),
        ("Reassigned", "reassigned"),
        ("已改派", "reassigned"),
        ("Completed", "completed"),
        ("已完成", "completed"),
        ("Cancelled", "cancelled"),
        ("已取消", "cancelled"),
        ("Merged into customer #12", '{"code": "merged_into", "customer": 12}'),
        ("已合并到客户 #12", '{"code": "merged_into", "customer": 12}'),
        (
            "Merged customer #7 “华东 Ltd” into this one",
            '{"code": "merged_from", "customer": 7, "name": "华东 Ltd"}',
        ),
        ("已将客户 #7“华东 Ltd”合并到本客户", '{"code": "merged_from", "customer": 7, "name": "华东 Ltd"}'),
        ("Won: order SO-2026-002000", '{"code": "won", "order_number": "SO-2026-002000"}'),
        ("赢单：订单 SO-2026-002000", '{"code": "won", "order_number": "SO-2026-002000"}'),
        ("Customer went quiet", "Customer went quiet"),  # what someone typed stays as typed
        ("客户撤回", "客户撤回"),
        (None, None),
    ],
)
def test_stored_reasons_become_codes(stored, code):
    assert reasons.convert_change_reason(stored) == code


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_converted_reason_reads_as_it_did_in_either_language(language):
    with translation.override(language):
        for english, chinese in [
            ("Payment recorded", "已登记收款"),
            ("Merged into customer #12", "已合并到客户 #12"),
            ("Won: order SO-2026-002000", "赢单：订单 SO-2026-002000"),
            ("Merged customer #7 “华东 Ltd” into this one", "已将客户 #7“华东 Ltd”合并到本客户"),
        ]:
            expected = english if language == "en" else chinese
            assert describe_reason(reasons.convert_change_reason(english)) == expected
            assert describe_reason(reasons.convert_change_reason(chinese)) == expected


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (("", "created", ""), ("created", {}, "")),
        (("", "created", "Rush order"), ("created", {}, "Rush order")),
        (
            ("", "created", "From opportunity #361 “Sensors for line 3”"),
            ("created", {"opportunity": {"id": 361, "title": "Sensors for line 3"}}, ""),
        ),
        (
            ("", "created", "来自商机 #361“三号线传感器”"),
            ("created", {"opportunity": {"id": 361, "title": "三号线传感器"}}, ""),
        ),
        (("created", "confirmed", ""), ("confirmed", {}, "")),
        (("confirmed", "processing", "Shipped early"), ("processing_started", {}, "Shipped early")),
        (("processing", "finished", "余款已免"), ("finished", {}, "余款已免")),
        (("confirmed", "closed", "客户取消"), ("closed", {"reason": "客户取消"}, "")),
        (("created", "closed", "Budget cut"), ("closed", {"reason": "Budget cut"}, "")),
    ],
)
def test_order_events_from_prose(old, new):
    assert order_events.convert_order_event(*old) == new


def test_opportunity_events_from_prose():
    english = [
        (None, "open", ""),
        ("open", "open", "Budget confirmed"),
        ("open", "won", ""),
        ("won", "open", "Back on the table Order SO-2026-000001 unlinked."),
        ("open", "lost", "Chose a competitor"),
        ("lost", "open", ""),
        ("open", "won", "Signed"),
    ]
    assert opportunity_events.convert_opportunity_events(english, "SO-2026-000009") == [
        ("created", {}, ""),
        ("stage_moved", {}, "Budget confirmed"),
        ("won", {"order_number": "SO-2026-000001"}, ""),
        ("reopened", {"unlinked_order_number": "SO-2026-000001"}, "Back on the table"),
        ("lost", {"reason": "Chose a competitor"}, ""),
        ("reopened", {}, ""),
        ("won", {"order_number": "SO-2026-000009"}, "Signed"),
    ]
    chinese = [
        (None, "open", ""),
        ("open", "won", ""),
        ("won", "open", "已解除与订单 SO-2026-002000 的关联。"),
    ]
    assert opportunity_events.convert_opportunity_events(chinese) == [
        ("created", {}, ""),
        ("won", {"order_number": "SO-2026-002000"}, ""),
        ("reopened", {"unlinked_order_number": "SO-2026-002000"}, ""),
    ]


# --- the migrations' forwards steps on rows shaped like the old data ---------------------------


@pytest.mark.django_db
def test_the_order_migration_types_old_rows_and_gives_payments_their_events(sales1):
    order = make_order(sales1, CustomerFactory(owner=sales1))
    OrderEvent.objects.filter(order=order).update(note="来自商机 #5“三号线”", parameters={})
    OrderEvent.objects.create(
        order=order, type="created", from_status="created", to_status="closed", note="客户取消"
    )
    payment = Payment.objects.create(order=order, amount=Decimal("-20.00"), method="cash", recorded_by=sales1)
    order_events.forwards(apps, None)
    assert list(order.events.order_by("id").values_list("type", "parameters", "note")) == [
        ("created", {"opportunity": {"id": 5, "title": "三号线"}}, ""),
        ("closed", {"reason": "客户取消"}, ""),
        (
            "refund_recorded",
            {"payment": payment.pk, "amount": "20.00", "currency": "CNY", "method": "cash"},
            "",
        ),
    ]


@pytest.mark.django_db
def test_the_opportunity_migration_types_old_rows(sales1):
    stages = {stage.code: stage for stage in Stage.objects.all()}
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=sales1), stage=stages["lost"])
    for from_stage, to_stage, note in [
        (None, "capture", ""),
        ("capture", "lost", "太贵"),
    ]:
        OpportunityEvent.objects.create(
            opportunity=opportunity,
            type="created",
            from_stage=stages[from_stage] if from_stage else None,
            to_stage=stages[to_stage],
            note=note,
        )
    opportunity_events.forwards(apps, None)
    assert list(opportunity.events.order_by("id").values_list("type", "parameters", "note")) == [
        ("created", {}, ""),
        ("lost", {"reason": "太贵"}, ""),
    ]


@pytest.mark.django_db
def test_the_reason_migration_converts_every_history(sales1):
    customer = CustomerFactory(owner=sales1)
    Customer.history.filter(id=customer.pk).update(history_change_reason="已合并到客户 #3")
    order = make_order(sales1, customer)
    order.history.update(history_change_reason="Payment recorded")
    reasons.forwards(apps, None)
    assert (
        Customer.history.get(id=customer.pk).history_change_reason == '{"code": "merged_into", "customer": 3}'
    )
    assert order.history.get().history_change_reason == "payment_recorded"
