"""Change history where the design promises it: contact methods, contact persons, tags, order lines
and every record a merge moves (who, when, old → new), shown on the record's page."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from crm.history import actor_name, parse_reason
from customers import services
from customers.models import ContactMethod, ContactPerson, Customer, Need, Tag
from followups.models import Communication, FollowUp
from opportunities.models import Opportunity
from orders import services as order_services
from orders.models import Order, OrderLine
from tests.conftest import shown_page
from tests.factories import (
    CommunicationFactory,
    CustomerFactory,
    FollowUpFactory,
    NeedFactory,
    OpportunityFactory,
)
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db


def page(client, url, language="en", **headers):
    """The page in `language`, with the parts it loads after itself (a part itself: with headers)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if not headers:
        return shown_page(client, url)
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def timeline(client, customer, language="en"):
    url = reverse("customers:timeline", args=[customer.pk])
    return page(client, url, language, HTTP_HX_REQUEST="true")


def test_contact_methods_keep_their_history(sales1):
    customer = CustomerFactory(owner=sales1)
    first = services.add_contact_method(actor=sales1, customer=customer, type="mobile", value="13800138000")
    second = services.add_contact_method(
        actor=sales1, customer=customer, type="mobile", value="13900139000", is_primary=True
    )
    services.update_contact_method(
        actor=sales1, method=second, type="mobile", value="13900139001", note="work"
    )
    second_pk = second.pk
    services.remove_contact_method(actor=sales1, method=second)

    first_history = list(first.history.order_by("history_date", "history_id"))
    # Added as primary, demoted when the second became primary, promoted again when it was removed.
    assert [(h.history_type, h.is_primary, h.history_user) for h in first_history] == [
        ("+", True, sales1),
        ("~", False, sales1),
        ("~", True, sales1),
    ]
    second_history = list(ContactMethod.history.filter(id=second_pk).order_by("history_date", "history_id"))
    assert [(h.history_type, h.value, h.note, h.history_user) for h in second_history] == [
        ("+", "+8613900139000", "", sales1),
        ("~", "+8613900139001", "work", sales1),
        ("-", "+8613900139001", "work", sales1),
    ]


def test_contact_persons_keep_their_history(sales1):
    customer = CustomerFactory(owner=sales1)
    person = services.add_contact_person(actor=sales1, customer=customer, name="王伟", title="采购")
    services.update_contact_person(actor=sales1, person=person, name="王伟", title="采购经理")
    person_pk = person.pk
    services.remove_contact_person(actor=sales1, person=person)
    history = ContactPerson.history.filter(id=person_pk).order_by("history_date", "history_id")
    assert [(h.history_type, h.title, h.history_user) for h in history] == [
        ("+", "采购", sales1),
        ("~", "采购经理", sales1),
        ("-", "采购经理", sales1),
    ]


def test_a_new_customers_contact_methods_have_their_history(sales1):
    customer = services.create_customer(
        actor=sales1, name="新客户", contact_methods=[{"type": "email", "value": "A@B.cn"}]
    )
    method = customer.contact_methods.get()
    assert [(h.history_type, h.history_user) for h in method.history.all()] == [("+", sales1)]
    assert customer.history.get().history_user == sales1


def test_tag_changes_are_in_the_customers_history(sales1, manager):
    customer, other = CustomerFactory(owner=sales1), CustomerFactory(owner=sales1)
    vip, key, new = (Tag.objects.create(name=name) for name in ("VIP", "重点", "New"))
    services.update_customer(actor=sales1, customer=customer, tags=[vip, key])
    services.update_customer(actor=sales1, customer=customer, tags=[key, new])
    services.update_customer(actor=sales1, customer=customer, tags=[new, key])  # the same tags: no reason
    reasons = [parse_reason(h.history_change_reason) for h in customer.history.order_by("-history_id")[:3]]
    assert reasons == [
        None,
        ("tags_changed", {"tags_added": ["New"], "tags_removed": ["VIP"]}),
        ("tags_changed", {"tags_added": ["VIP", "重点"], "tags_removed": []}),
    ]
    before = other.history.count()
    services.add_tag(
        actor=manager, customers=Customer.objects.filter(pk__in=[customer.pk, other.pk]), tag_name="New"
    )
    assert customer.history.count() == 4  # it had the tag already
    latest = other.history.first()
    assert other.history.count() == before + 1
    assert (latest.history_user, parse_reason(latest.history_change_reason)) == (
        manager,
        ("tags_changed", {"tags_added": ["New"]}),
    )


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "en",
            [
                "Contact method “Mobile: +8613800138000” added",
                "Contact method “Mobile: +8613800138001” changed",
                "Contact person “王伟” removed",
                "Tags changed: added VIP",
                "System",
            ],
        ),
        (
            "zh-hans",
            [
                "已新增联系方式“手机: +8613800138000”",
                "联系方式“手机: +8613800138001”已修改",
                "已移除联系人“王伟”",
                "标签已修改：新增标签 VIP",
                "系统",
            ],
        ),
    ],
)
def test_the_customer_page_shows_contact_and_tag_changes(language, texts, sales_client, sales1):
    customer = CustomerFactory(owner=sales1)
    services.update_customer(actor=sales1, customer=customer, tags=[Tag.objects.create(name="VIP")])
    method = services.add_contact_method(actor=sales1, customer=customer, type="mobile", value="13800138000")
    services.update_contact_method(actor=sales1, method=method, type="mobile", value="13800138001")
    person = services.add_contact_person(actor=sales1, customer=customer, name="王伟")
    services.remove_contact_person(actor=sales1, person=person)
    ContactMethod.objects.create(customer=customer, type="qq", value="12345")  # by no one: the system
    shown = timeline(sales_client, customer, language)
    for text in texts:
        assert escape(text) in shown, text
    assert escape(actor_name(sales1)) in shown
    assert "Mobile" in shown or language != "en"
    assert (language == "en") == ("Contact method" in shown)


def test_merging_records_who_moved_what_from_which_customer(manager, sales1):
    survivor = CustomerFactory(owner=sales1, name="华东科技")
    merged = CustomerFactory(owner=sales1, name="华东科技有限公司")
    merged_pk = merged.pk
    moved = {
        ContactMethod: services.add_contact_method(
            actor=sales1, customer=merged, type="email", value="m@x.cn"
        ),
        ContactPerson: services.add_contact_person(actor=sales1, customer=merged, name="李工"),
        Need: NeedFactory(customer=merged),
        Communication: CommunicationFactory(customer=merged, staff=sales1, contact_person=None),
        FollowUp: FollowUpFactory(customer=merged, assignee=sales1),
        Order: make_order(sales1, merged),
        Opportunity: OpportunityFactory(customer=merged),
    }
    services.merge_customers(actor=manager, survivor=survivor, merged=merged)
    for model, record in moved.items():
        history = list(model.history.filter(id=record.pk).order_by("-history_date", "-history_id")[:2])
        latest, before = history
        assert (latest.history_type, latest.customer_id, before.customer_id) == ("~", survivor.pk, merged_pk)
        assert latest.history_user == manager, model
        assert parse_reason(latest.history_change_reason) == (
            "moved_by_merge",
            {"customer": merged_pk, "name": "华东科技有限公司"},
        )


def test_a_moved_order_shows_the_move(client, manager, sales1):
    survivor = CustomerFactory(owner=sales1, name="华东科技")
    merged = CustomerFactory(owner=sales1, name="华东科技有限公司")
    order = make_order(sales1, merged)
    merged_pk = merged.pk
    services.merge_customers(actor=manager, survivor=survivor, merged=merged)
    client.force_login(sales1)
    shown = page(client, order.get_absolute_url(), "en")
    assert escape(f"Moved from customer #{merged_pk} “华东科技有限公司”, merged into this one") in shown
    assert f"<del>#{merged_pk}</del> → <strong>华东科技</strong>" in shown
    shown = page(client, order.get_absolute_url(), "zh-hans")
    assert escape(f"随客户 #{merged_pk}“华东科技有限公司”合并而移至本客户") in shown


def test_order_lines_keep_their_history_and_the_order_page_shows_it(client, sales1):
    order = make_order(sales1, CustomerFactory(owner=sales1))  # 3 × Sensor at 100.00
    lines = [
        {"description": "Sensor", "quantity": 5, "unit_price": Decimal("100.00")},
        {"description": "Cable", "quantity": 1, "unit_price": Decimal("8.00")},
    ]
    order = order_services.update_order(actor=sales1, order=order, lines=lines)
    first, cable = order.lines.all()
    assert [(h.history_type, h.quantity) for h in first.history.order_by("history_id")] == [
        ("+", 3),
        ("~", 5),
    ]
    assert [h.history_type for h in cable.history.all()] == ["+"]
    order = order_services.update_order(actor=sales1, order=order, lines=lines[:1])
    assert list(OrderLine.history.filter(id=cable.pk).values_list("history_type", flat=True)) == ["-", "+"]
    assert {h.history_user for h in OrderLine.history.all()} == {sales1}

    client.force_login(sales1)
    shown = page(client, order.get_absolute_url(), "en")
    history = shown[shown.index('id="history"') :]
    assert escape("Order line “5 × Sensor”") in history
    assert "Quantity:</span> <del>3</del> → <strong>5</strong>" in history
    assert escape("Order line “1 × Cable”") in history
    shown = page(client, order.get_absolute_url(), "zh-hans")
    assert escape("订单行“5 × Sensor”") in shown[shown.index('id="history"') :]


def test_a_change_by_the_system_names_the_system(client, sales1):
    order = order_services.close_order(
        actor=None, order=make_order(sales1, CustomerFactory(owner=sales1)), reason="超时"
    )
    client.force_login(sales1)
    for language, system in (("en", "System"), ("zh-hans", "系统")):
        shown = page(client, order.get_absolute_url(), language)
        history = shown[shown.index('id="history"') :]
        assert f"· {system}" in history
        assert f"· {system}" in shown[shown.index('id="order-events"') : shown.index('id="history"')]


def test_the_admins_history_page_reads_the_reasons(manager_client, manager, sales1):
    customer = CustomerFactory(owner=sales1)
    services.reassign_owner(actor=manager, customers=[customer], new_owner=manager)
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = manager_client.get(reverse("admin:customers_customer_history", args=[customer.pk]))
    assert response.status_code == 200
    assert "已更换负责人" in response.content.decode() and "owner_reassigned" not in response.content.decode()
