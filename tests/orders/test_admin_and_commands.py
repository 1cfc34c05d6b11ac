import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.models import Order, OrderEvent, Product
from tests.orders.builders import make_order, order_in

pytestmark = pytest.mark.django_db

D = Decimal
CHANGELIST = reverse("admin:orders_order_changelist")


def run_action(client, action, orders, **extra):
    return client.post(
        CHANGELIST, {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in orders], **extra}, follow=True
    )


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


# --- admin ------------------------------------------------------------------------------------


def test_bulk_confirm_reports_which_orders_failed_and_why(manager_client, sales1, customer, settings):
    ready = make_order(sales1, customer)
    empty = make_order(sales1, customer, lines=[])
    confirmed = order_in("confirmed", sales1, customer)
    response = run_action(manager_client, "confirm_selected", [ready, empty, confirmed])
    text = " ".join(messages_of(response))
    assert "1 order confirmed." in text
    assert "2 orders were not changed" in text
    assert f"{empty.number}: Add at least one line before confirming." in text
    assert f"{confirmed.number}: This cannot be done to an order that is “Confirmed”." in text
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert (statuses[ready.pk], statuses[empty.pk]) == ("confirmed", "created")
    assert OrderEvent.objects.filter(to_status="confirmed").count() == 2  # ready's, and confirmed's own


def test_admin_steps_go_through_the_services(manager_client, sales1, customer):
    order = order_in("confirmed", sales1, customer)
    run_action(manager_client, "start_processing_selected", [order])
    response = run_action(manager_client, "finish_selected", [Order.objects.get(pk=order.pk)])
    assert "balance is 300.00" in " ".join(messages_of(response))
    assert Order.objects.get(pk=order.pk).status == "processing"
    assert OrderEvent.objects.get(order=order, to_status="processing", actor__username="manager")


def test_closing_in_the_admin_asks_for_the_reason_first(manager_client, sales1, customer):
    order = make_order(sales1, customer)
    response = run_action(manager_client, "close_selected", [order])
    assert response.templates[0].name == "admin/orders/order/close_selected.html"
    assert Order.objects.get(pk=order.pk).status == "created"
    response = run_action(manager_client, "close_selected", [order], confirmed="yes", reason="")
    assert "Say why" in response.content.decode() and Order.objects.get(pk=order.pk).status == "created"
    run_action(manager_client, "close_selected", [order], confirmed="yes", reason="Duplicate order")
    order.refresh_from_db()
    assert (order.status, order.close_reason) == ("closed", "Duplicate order")


def test_the_admin_edits_only_the_details_and_never_adds_or_deletes(manager_client, sales1, customer):
    order = make_order(sales1, customer)
    url = reverse("admin:orders_order_change", args=[order.pk])
    page = manager_client.get(url)
    assert page.status_code == 200
    assert set(page.context["adminform"].form.fields) == {
        "carrier",
        "notes",
        "payment_method",
        "shipping_address",
        "tracking_number",
    }
    response = manager_client.post(
        url,
        {
            "notes": "Call before delivery",
            "shipping_address": "Dock 4",
            "carrier": "",
            "tracking_number": "",
            "payment_method": "",
            **{
                f"{prefix}-{key}": "0"
                for prefix in ("lines", "credit_notes", "payments", "events")
                for key in ("TOTAL_FORMS", "INITIAL_FORMS")
            },
        },
    )
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    order.refresh_from_db()
    assert (order.notes, order.shipping_address, order.total) == (
        "Call before delivery",
        "Dock 4",
        D("300.00"),
    )
    assert manager_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert manager_client.post(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403


def test_products_admin_saves_through_the_services(manager_client):
    response = manager_client.post(
        reverse("admin:orders_product_add"),
        {"sku": " sen-9 ", "name": "Sensor", "unit_price": "12.50", "active": "on"},
    )
    assert response.status_code == 302
    product = Product.objects.get()
    assert (product.sku, product.history.count()) == ("SEN-9", 1)
    response = manager_client.post(
        reverse("admin:orders_product_add"), {"sku": "Sen-9", "name": "Again", "unit_price": "1"}
    )
    assert response.status_code == 200 and Product.objects.count() == 1


# --- commands ---------------------------------------------------------------------------------


def age(order, **stamps):
    """Moves an order's stamps into the past, as time would."""
    Order.objects.filter(pk=order.pk).update(**stamps)


def test_orders_stuck_lists_the_orders_in_a_status_too_long(sales1, customer):
    old = order_in("processing", sales1, customer)
    recent = order_in("processing", sales1, customer)
    age(old, processing_at=timezone.now() - timedelta(hours=80))
    out = io.StringIO()
    call_command("orders_stuck", "--status", "processing", "--older-than", "72h", stdout=out)
    text = out.getvalue()
    assert old.number in text and recent.number not in text and "3 d 8 h" in text
    assert "1 orders have been “Processing”" in text


def test_orders_stuck_refuses_a_bad_duration_or_status():
    with pytest.raises(CommandError, match="72h or 30d"):
        call_command("orders_stuck", "--status", "processing", "--older-than", "three days")
    with pytest.raises(CommandError):
        call_command("orders_stuck", "--status", "finished", "--older-than", "3d")


def test_close_stale_orders_is_a_dry_run_unless_told(sales1, manager, customer):
    stale = make_order(sales1, customer)
    fresh = make_order(sales1, customer)
    confirmed = order_in("confirmed", sales1, customer)
    month_ago = timezone.now() - timedelta(days=31)
    for order in (stale, confirmed):
        age(order, created_at=month_ago, updated_at=month_ago)
    age(confirmed, confirmed_at=month_ago)
    out = io.StringIO()
    call_command("close_stale_orders", "--older-than", "30d", "--reason", "No answer", stdout=out)
    assert stale.number in out.getvalue() and fresh.number not in out.getvalue()
    assert confirmed.number not in out.getvalue()  # only created orders unless --status says otherwise
    assert "Dry run" in out.getvalue()
    assert set(Order.objects.values_list("status", flat=True)) == {"created", "confirmed"}

    call_command(
        "close_stale_orders",
        "--older-than",
        "30d",
        "--reason",
        "No answer",
        "--commit",
        "--user",
        "manager",
        "--status",
        "created",
        "--status",
        "confirmed",
        stdout=io.StringIO(),
    )
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert (statuses[stale.pk], statuses[confirmed.pk], statuses[fresh.pk]) == ("closed", "closed", "created")
    event = OrderEvent.objects.get(order=stale, to_status="closed")
    assert (event.actor, event.parameters["reason"]) == (manager, "No answer")


def test_close_stale_orders_acts_as_the_system_without_a_user(sales1, customer):
    stale = make_order(sales1, customer)
    age(
        stale,
        created_at=timezone.now() - timedelta(days=40),
        updated_at=timezone.now() - timedelta(days=40),
    )
    call_command(
        "close_stale_orders", "--older-than", "30d", "--reason", "Stale", "--commit", stdout=io.StringIO()
    )
    assert OrderEvent.objects.get(order=stale, to_status="closed").actor is None
    with pytest.raises(CommandError, match="no active user"):
        call_command("close_stale_orders", "--older-than", "30d", "--reason", "x", "--user", "ghost")


def test_saving_an_order_the_service_refuses_shows_why_at_the_form(
    manager_client, admin_form, sales1, customer
):
    order = order_in("created", sales1, customer)
    url = reverse("admin:orders_order_change", args=[order.pk])
    data = admin_form(manager_client, url)  # the page as the manager opened it
    services.close_order(actor=sales1, order=order, reason="Customer cancelled")  # meanwhile
    data["notes"] = "Call first"
    response = manager_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "A finished or closed order cannot be changed."
    ]
    assert Order.objects.get(pk=order.pk).notes == ""


def test_close_stale_orders_fails_when_the_service_refuses_one(sales1, customer, monkeypatch):
    order = make_order(sales1, customer)
    long_ago = timezone.now() - timedelta(days=60)
    Order.objects.filter(pk=order.pk).update(created_at=long_ago, updated_at=long_ago)

    def refuse(**arguments):
        raise ValidationError("The order is locked by the warehouse.")

    monkeypatch.setattr(services, "close_order", refuse)
    with pytest.raises(CommandError, match="1 orders could not be closed"):
        call_command(
            "close_stale_orders", "--older-than", "30d", "--reason", "Stale", "--commit", stdout=io.StringIO()
        )
