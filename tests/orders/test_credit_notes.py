"""Credit notes and refunds: the net total, the balance, what may be credited and refunded, and the
refund case of issue 12 (45,400 paid, 1,800 credited and refunded)."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from orders import services
from orders.models import CreditNote, Order, OrderEvent, Payment
from orders.selectors import balance_due
from orders.services import Return
from tests.conftest import shown_customer_page
from tests.orders.builders import advance, make_order

pytestmark = pytest.mark.django_db

ANALYSER = [{"description": "Gas analyser", "quantity": 1, "unit_price": D("45400.00")}]


def paid_order(user, customer, lines=ANALYSER, **fields):
    order = advance(user, make_order(user, customer, lines=lines, **fields), "confirmed", "processing")
    services.record_payment(actor=user, order=order, amount=order.balance, method="bank_transfer")
    return Order.objects.get(pk=order.pk)


def test_the_refund_case_ends_with_nothing_due(sales_client, sales1, customer):
    order = paid_order(sales1, customer)
    response = sales_client.post(
        reverse("orders:credit_note_create", args=[order.pk]),
        {
            "reason": "Damaged in transit",
            "amount": "1800",
            "refund": "1800",
            "refund_method": "bank_transfer",
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.credited, order.net_total, order.paid_amount, order.balance) == (
        D("1800.00"),
        D("43600.00"),
        D("43600.00"),
        D("0.00"),
    )
    note = order.credit_notes.get()
    assert note.number.startswith("CN-") and len(note.number) == len("CN-2026-000001")
    assert [p.amount for p in order.payments.all()] == [D("45400.00"), D("-1800.00")]
    # Finished by its salesperson, no override.
    order = services.finish_order(actor=sales1, order=order)
    assert order.status == "finished"
    assert not Order.objects.filter(balance_due(), pk=order.pk).exists()
    page = shown_customer_page(sales_client, customer)
    assert "43,600.00 CNY" in page[page.index('data-testid="lifetime-value"') :][:200]
    listed = sales_client.get(reverse("orders:index") + "?has_balance=true").context["page"].items
    assert order not in listed
    detail = sales_client.get(order.get_absolute_url()).content.decode()
    assert "43,600.00" in detail and note.number in detail


def test_a_returned_quantity_is_credited_at_its_share_of_the_total(sales1, customer):
    lines = [{"description": "Sensor", "quantity": 3, "unit_price": D("100.00")}]
    order = advance(
        sales1, make_order(sales1, customer, lines=lines, discount=D("30"), tax_rate=D("13")), "confirmed"
    )
    assert order.total == D("305.10")
    line = order.lines.get()
    first = services.issue_credit_note(
        actor=sales1, order=order, reason="Returned", returns=[Return(line, 1)]
    )
    assert first.amount == D("101.70")
    rest = services.issue_credit_note(actor=sales1, order=order, reason="Returned", returns=[Return(line, 2)])
    order.refresh_from_db()
    assert rest.amount == D("203.40") and order.credited == order.total and order.net_total == 0
    with pytest.raises(ValidationError) as error:
        services.issue_credit_note(actor=sales1, order=order, reason="Again", returns=[Return(line, 1)])
    assert f"return-{line.pk}" in error.value.message_dict
    assert order.credit_notes.count() == 2


def _nothing_written(order, notes=0, payments=1):
    assert CreditNote.objects.filter(order=order).count() == notes
    assert Payment.objects.filter(order=order).count() == payments
    assert not OrderEvent.objects.filter(order=order, type="credit_note_issued").exists()


def test_a_refund_beyond_what_was_paid_writes_nothing(sales1, customer):
    order = paid_order(sales1, customer)
    with pytest.raises(ValidationError) as error:
        services.issue_credit_note(
            actor=sales1, order=order, reason="x", amount=D("100"), refund=D("45400.01"), refund_method="cash"
        )
    assert "refund" in error.value.message_dict
    _nothing_written(order)
    assert Order.objects.get(pk=order.pk).credited == 0


def test_credits_cannot_exceed_the_total_nor_come_before_confirmation(sales1, customer):
    order = paid_order(sales1, customer)
    with pytest.raises(ValidationError):
        services.issue_credit_note(actor=sales1, order=order, reason="x", amount=D("45400.01"))
    with pytest.raises(ValidationError) as error:
        services.issue_credit_note(actor=sales1, order=order, reason=" ", amount=D("1"))
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.issue_credit_note(actor=sales1, order=order, reason="nothing")
    _nothing_written(order)
    created = make_order(sales1, customer)
    with pytest.raises(ValidationError):
        services.issue_credit_note(actor=sales1, order=created, reason="x", amount=D("1"))
    assert not CreditNote.objects.exists()


def test_a_credit_note_on_a_finished_order_keeps_it_finished(sales1, customer):
    order = advance(sales1, make_order(sales1, customer), "confirmed", "processing", "finished")
    services.issue_credit_note(actor=sales1, order=order, reason="Goodwill", amount=D("50"))
    order.refresh_from_db()
    assert (order.status, order.balance) == ("finished", D("-50.00"))  # owed back until refunded


def test_the_database_refuses_credits_that_do_not_add_up(sales1, customer):
    order = paid_order(sales1, customer)
    for change in ({"credited": D("45400.01"), "balance": D("-45400.01")}, {"credited": D("10")}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Order.objects.filter(pk=order.pk).update(**change)


def test_another_owners_order_takes_no_credit_note(client, sales2, sales1, customer):
    order = paid_order(sales1, customer)
    client.force_login(sales2)
    url = reverse("orders:credit_note_create", args=[order.pk])
    assert client.get(url).status_code == 404
    response = client.post(url, {"reason": "x", "amount": "10", "refund": "10", "refund_method": "cash"})
    assert response.status_code == 404
    _nothing_written(order)


def test_bad_input_is_shown_at_the_field(sales_client, sales1, customer):
    order = paid_order(sales1, customer)
    url = reverse("orders:credit_note_create", args=[order.pk])
    response = sales_client.post(
        url, {"reason": "x", "amount": "10", "refund": "99999", "refund_method": "cash"}
    )
    assert response.status_code == 200
    assert "At most 45,400.00 can be refunded" in response.context["form"].errors["refund"][0]
    response = sales_client.post(url, {"reason": "x", "amount": "10", "refund": "5"})
    assert "refund_method" in response.context["form"].errors
    response = sales_client.post(url, {"reason": "x", "amount": "abc"})
    assert "amount" in response.context["form"].errors
    _nothing_written(order)


def test_the_export_has_the_net_total(sales_client, sales1, customer):
    order = paid_order(sales1, customer)
    services.issue_credit_note(actor=sales1, order=order, reason="x", amount=D("1800"))
    response = sales_client.get(reverse("orders:export") + "?format=csv")
    rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    header = rows[0].split(",")
    values = dict(zip(header, rows[1].split(","), strict=True))
    assert (values["Total"], values["Credited"], values["Net total"]) == ("45400.00", "1800.00", "43600.00")
