import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from orders import services
from orders.models import Order, OrderEvent, OrderLine, Payment
from tests.factories import CommunicationFactory, CustomerFactory, FollowUpFactory, ProductFactory
from tests.orders.builders import make_order, order_in

pytestmark = pytest.mark.django_db

D = Decimal
LIST = reverse("orders:index")


def transition_url(order, name):
    return reverse("orders:transition", args=[order.pk, name])


def busy_orders(owner, count):
    """Orders with several lines, payments and events each, as a page would find them."""
    orders = []
    for index in range(count):
        customer = CustomerFactory(owner=owner)
        lines = [{"description": f"Item {n}", "quantity": n + 1, "unit_price": D("10.00")} for n in range(3)]
        order = services.confirm_order(actor=owner, order=make_order(owner, customer, lines=lines))
        services.record_payment(
            actor=owner, order=order, amount=D("5.00"), method="cash", reference=f"R{index}"
        )
        orders.append(order)
    return orders


# --- speed: a fixed number of queries whatever the data size ---------------------------------


@pytest.mark.parametrize("client_fixture", ["sales_client", "manager_client"])
def test_the_list_runs_a_fixed_number_of_queries(request, client_fixture, sales1, count_queries):
    client = request.getfixturevalue(client_fixture)
    busy_orders(sales1, 3)
    few = count_queries(client, LIST)
    busy_orders(sales1, 30)
    assert count_queries(client, LIST) == few
    assert count_queries(client, LIST + "?page=last&status=confirmed&has_balance=true&q=SO") == few
    assert few <= 10


def test_the_detail_page_runs_a_fixed_number_of_queries(sales_client, sales1, customer, count_queries):
    """Per status (each offers other steps); the same whatever the lines, payments, events, and the
    communications and follow-ups about it."""

    def busy(order, lines, payments):
        for _ in range(lines // 4):
            CommunicationFactory(customer=customer, order=order, contact_person=None)
            FollowUpFactory(customer=customer, order=order, assignee=sales1)
        order = services.update_order(
            actor=sales1,
            order=order,
            lines=[{"description": f"L{n}", "quantity": 1, "unit_price": D("9")} for n in range(lines)],
        )
        order = services.confirm_order(actor=sales1, order=order)
        for n in range(payments):
            services.record_payment(
                actor=sales1, order=order, amount=D("1.00"), method="cash", reference=f"R{n}"
            )
        return services.start_processing(
            actor=sales1, order=Order.objects.get(pk=order.pk), tracking_number="SF1"
        )

    def with_lines(count):  # the lines' history names their products: one query, however many
        order = make_order(sales1, customer)
        return services.update_order(
            actor=sales1, order=order, lines=[{"product": ProductFactory(), "quantity": 1}] * count
        )

    small, large = with_lines(1), with_lines(40)
    assert count_queries(sales_client, small.get_absolute_url()) == count_queries(
        sales_client, large.get_absolute_url()
    )
    small, large = busy(small, 1, 1), busy(large, 40, 20)
    assert count_queries(sales_client, small.get_absolute_url()) == count_queries(
        sales_client, large.get_absolute_url()
    )
    linked = reverse("followups:linked", args=["order", large.pk])
    card = sales_client.get(linked, HTTP_HX_REQUEST="true").context["card"]
    assert card.more_communications and card.more_followups


def test_the_invoice_page_runs_a_fixed_number_of_queries(sales_client, sales1, customer, count_queries):
    order = make_order(sales1, customer)
    few = count_queries(sales_client, reverse("orders:statement", args=[order.pk]))
    order = services.update_order(
        actor=sales1, order=order, lines=[{"product": ProductFactory(), "quantity": 1} for _ in range(30)]
    )
    assert count_queries(sales_client, reverse("orders:statement", args=[order.pk])) == few


# --- visibility: another user's order answers 404 everywhere -----------------------------------


def test_sales_cannot_see_or_act_on_another_users_order_by_any_url(sales_client, sales2, theirs):
    order = order_in("processing", sales2, theirs)
    state = (Order.objects.values().get(pk=order.pk), OrderEvent.objects.count(), Payment.objects.count())
    for url in (
        order.get_absolute_url(),
        reverse("orders:edit", args=[order.pk]),
        reverse("orders:statement", args=[order.pk]),
    ):
        assert sales_client.get(url).status_code == 404, url
    posts = [
        (reverse("orders:edit", args=[order.pk]), {"notes": "hijacked"}),
        (reverse("orders:payment_add", args=[order.pk]), {"kind": "refund", "amount": "1", "method": "cash"}),
        *((transition_url(order, name), {"reason": "x"}) for name in services.TRANSITIONS),
        (transition_url(order, "no_such_step"), {}),
    ]
    for url, data in posts:
        assert sales_client.post(url, data).status_code == 404, url
    assert state == (
        Order.objects.values().get(pk=order.pk),
        OrderEvent.objects.count(),
        Payment.objects.count(),
    )
    assert order.number not in sales_client.get(LIST).content.decode()
    exported = b"".join(sales_client.get(reverse("orders:export") + "?format=csv").streaming_content).decode()
    assert order.number not in exported
    assert sales_client.get(reverse("orders:customer_options") + "?q=Theirs").context["customers"] == []


def test_sales_cannot_create_an_order_for_another_users_customer(sales_client, theirs):
    response = sales_client.post(reverse("orders:create"), create_payload(customer=theirs.pk))
    assert response.status_code == 200
    assert "Choose one of your customers." in response.context["form"].errors["customer"]
    assert not Order.objects.exists()


def test_managers_see_every_order(manager_client, sales1, sales2, customer, theirs):
    mine, other = make_order(sales1, customer), make_order(sales2, theirs)
    page = manager_client.get(LIST).content.decode()
    assert mine.number in page and other.number in page
    assert manager_client.get(other.get_absolute_url()).status_code == 200


# --- the list ----------------------------------------------------------------------------------


def test_list_filters_and_search(sales_client, sales1, customer):
    other = CustomerFactory(owner=sales1, name="Beta Trading")
    created = make_order(sales1, customer)
    confirmed = order_in(
        "confirmed", sales1, other, lines=[{"description": "Big", "quantity": 1, "unit_price": D("5000")}]
    )
    finished = order_in("finished", sales1, customer)
    closed = order_in("closed", sales1, customer)

    def numbers(query):
        return {order.number for order in sales_client.get(LIST + query).context["page"].items}

    assert numbers("?status=confirmed&status=finished") == {confirmed.number, finished.number}
    # Nothing is payable on a created order yet: only the confirmed one has a balance due.
    assert numbers("?has_balance=true") == {confirmed.number}
    assert numbers("?has_balance=false") == {created.number, finished.number, closed.number}
    assert numbers(f"?q={confirmed.number[-3:]}") == {confirmed.number}
    assert numbers(f"?q={confirmed.number.lower()}") == {confirmed.number}
    assert numbers("?q=beta") == {confirmed.number}
    assert numbers("?total_min=1000") == {confirmed.number}
    assert numbers("?total_max=300") == {created.number, finished.number, closed.number}
    assert numbers(f"?customer={other.pk}") == {confirmed.number}
    assert numbers("?created_after=2000-01-01&created_before=2000-01-02") == set()
    assert numbers("?confirmed_after=2000-01-01") == {confirmed.number, finished.number}
    by_total = sales_client.get(LIST + "?sort=-total").context["page"].items
    assert by_total[0].number == confirmed.number


def test_the_owner_filter_is_for_managers(manager_client, sales1, sales2, customer, theirs):
    make_order(sales1, customer)
    other = make_order(sales2, theirs)
    page = manager_client.get(LIST + f"?owner={sales2.pk}").context["page"]
    assert [order.number for order in page.items] == [other.number]
    manager_client.force_login(sales1)
    assert "owner" not in manager_client.get(LIST).context["filterset"].form.fields


def test_csv_and_xlsx_exports_follow_the_filters(sales_client, sales1, customer):
    order_in("confirmed", sales1, customer)
    make_order(sales1, CustomerFactory(owner=sales1, name='=HYPERLINK("http://evil")'))
    response = sales_client.get(reverse("orders:export") + "?format=csv&status=created")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["Number", "Customer", "Owner", "Status"]
    assert len(rows) == 2 and rows[1][1] == '\'=HYPERLINK("http://evil")' and rows[1][8] == "300.00"
    response = sales_client.get(reverse("orders:export") + "?format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.max_row == 3 and {sheet.cell(row=r, column=4).value for r in (2, 3)} == {
        "Created",
        "Confirmed",
    }


# --- creating and editing ---------------------------------------------------------------------


def create_payload(customer, **extra):
    data = {
        "customer": customer,
        "currency": "CNY",
        "discount": "0",
        "tax_rate": "13",
        "payment_method": "",
        "shipping_address": "上海市浦东新区",
        "notes": "",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
    }
    data.update(extra)
    return data


def test_create_an_order_with_two_lines(sales_client, sales1, customer, product):
    response = sales_client.post(
        reverse("orders:create"),
        create_payload(
            customer.pk,
            **{
                "lines-0-product": product.pk,
                "lines-0-quantity": "10",
                "lines-1-description": "Installation",
                "lines-1-quantity": "1",
                "lines-1-unit_price": "500",
                "lines-1-discount": "50",
            },
        ),
    )
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert (order.customer, order.owner, order.subtotal, order.total) == (
        customer,
        sales1,
        D("649.90"),
        D("734.39"),
    )
    assert list(order.lines.values_list("description", "line_total")) == [
        ("Temperature sensor", D("199.90")),
        ("Installation", D("450.00")),
    ]


def test_the_new_order_form_can_start_from_the_customer(sales_client, customer):
    response = sales_client.get(reverse("orders:create") + f"?customer={customer.pk}")
    assert response.context["chosen_customer"] == customer
    assert f'value="{customer.pk}"' in response.content.decode()


def test_bad_lines_are_explained_at_the_row_and_nothing_is_saved(sales_client, customer):
    response = sales_client.post(
        reverse("orders:create"),
        create_payload(
            customer.pk,
            **{
                "lines-0-description": "Cable",
                "lines-0-quantity": "2",
                "lines-0-unit_price": "5",
                "lines-0-discount": "11",
                "lines-1-description": "No quantity",
                "lines-1-unit_price": "3",
            },
        ),
    )
    assert response.status_code == 200
    lines = response.context["lines"]
    assert "quantity" in lines.forms[1].errors
    assert not Order.objects.exists()
    response = sales_client.post(
        reverse("orders:create"),
        create_payload(
            customer.pk,
            **{
                "lines-0-description": "Cable",
                "lines-0-quantity": "2",
                "lines-0-unit_price": "5",
                "lines-0-discount": "11",
            },
        ),
    )
    row = response.context["lines"].forms[0]
    assert "more than quantity × unit price (10.00)" in " ".join(row.non_field_errors())
    assert 'value="Cable"' in response.content.decode()
    assert not Order.objects.exists() and not OrderLine.objects.exists()


def test_edit_lines_while_created_and_only_details_after(sales_client, sales1, customer):
    order = make_order(sales1, customer)
    edit = reverse("orders:edit", args=[order.pk])
    response = sales_client.get(edit)
    assert response.context["lines"].forms[0].initial["quantity"] == 3
    payload = create_payload(
        customer.pk,
        **{
            "lines-0-description": "Sensor",
            "lines-0-quantity": "4",
            "lines-0-unit_price": "100",
            "lines-TOTAL_FORMS": "1",
        },
    )
    payload.pop("customer")
    assert sales_client.post(edit, payload).status_code == 302
    order.refresh_from_db()
    assert order.total == D("452.00")
    services.confirm_order(actor=sales1, order=order)
    response = sales_client.get(edit)
    assert response.context["lines"] is None and "discount" not in response.context["form"].fields
    response = sales_client.post(
        edit, {"shipping_address": "Gate 3", "notes": "call first", "payment_method": ""}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.shipping_address, order.notes, order.total) == ("Gate 3", "call first", D("452.00"))


def test_customer_options_find_the_users_customers(sales_client, customer):
    response = sales_client.get(reverse("orders:customer_options") + "?q=精密")
    assert response.context["customers"] == [customer]
    assert f'data-pick-customer="{customer.pk}"' in response.content.decode()


# --- transitions on the page ------------------------------------------------------------------


def test_only_the_steps_the_user_may_take_now_are_buttons(sales_client, manager, sales1, customer, settings):
    settings.ORDER_APPROVAL_LIMIT = D("100")
    order = make_order(sales1, customer)
    page = sales_client.get(order.get_absolute_url()).content.decode()
    assert transition_url(order, "confirm") not in page
    assert "a manager approves or confirms this order" in page and "Request approval" in page
    assert transition_url(order, "close") in page and "hx-confirm" in page
    assert transition_url(order, "start_processing") not in page
    sales_client.force_login(manager)
    assert transition_url(order, "confirm") in sales_client.get(order.get_absolute_url()).content.decode()


def test_a_transition_through_htmx_redirects_to_the_updated_page(sales_client, sales1, customer):
    order = make_order(sales1, customer)
    response = sales_client.post(
        transition_url(order, "confirm"),
        {"seen_status": "created", "note": "ok"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and response["HX-Redirect"] == order.get_absolute_url()
    order.refresh_from_db()
    assert order.status == "confirmed" and order.events.get(to_status="confirmed").note == "ok"
    page = sales_client.get(order.get_absolute_url()).content.decode()
    assert f"Order {order.number} confirmed." in page


def test_closing_without_a_reason_says_so_and_changes_nothing(sales_client, sales1, customer):
    order = make_order(sales1, customer)
    response = sales_client.post(
        transition_url(order, "close"),
        {"seen_status": "created", "reason": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Say why the order is closed." in response.content.decode()
    assert response.templates[0].name == "orders/partials/actions.html"
    assert Order.objects.get(pk=order.pk).status == "created" and order.events.count() == 1


def test_a_step_on_an_order_someone_else_moved_names_its_status(sales_client, sales1, manager, customer):
    order = make_order(sales1, customer)
    services.close_order(actor=manager, order=order, reason="Duplicate")
    response = sales_client.post(
        transition_url(order, "confirm"), {"seen_status": "created"}, headers={"HX-Request": "true"}
    )
    text = response.content.decode()
    assert "Someone else changed this order meanwhile: it is now “Closed”." in text
    assert Order.objects.get(pk=order.pk).status == "closed"
    assert not order.events.filter(to_status="confirmed").exists()


def test_processing_with_a_tracking_number_then_finishing(sales_client, sales1, customer):
    order = order_in("confirmed", sales1, customer)
    sales_client.post(
        transition_url(order, "start_processing"),
        {"seen_status": "confirmed", "carrier": "顺丰速运", "tracking_number": "SF 1234 5678 90"},
    )
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == ("processing", "顺丰速运", "SF1234567890")
    response = sales_client.post(transition_url(order, "finish"), {"seen_status": "processing"})
    assert "The balance is 300.00 CNY" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == "processing"


def test_a_manager_finishes_with_the_balance_open_from_the_page(manager_client, sales1, customer):
    order = order_in("processing", sales1, customer)
    page = manager_client.get(order.get_absolute_url()).content.decode()
    assert 'name="override_balance"' in page
    response = manager_client.post(
        transition_url(order, "finish"),
        {"seen_status": "processing", "override_balance": "on", "note": "Paid cash"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "finished" and order.invoice_number


# --- payments on the page ---------------------------------------------------------------------


def test_record_a_payment_and_refuse_a_too_large_refund(sales_client, sales1, customer):
    order = order_in("confirmed", sales1, customer)
    url = reverse("orders:payment_add", args=[order.pk])
    response = sales_client.post(
        url,
        {"kind": "payment", "amount": "120.50", "method": "alipay", "reference": "A1"},
        headers={"HX-Request": "true"},
    )
    assert response["HX-Redirect"] == order.get_absolute_url()
    response = sales_client.post(
        url, {"kind": "refund", "amount": "200", "method": "alipay"}, headers={"HX-Request": "true"}
    )
    assert response.templates[0].name == "orders/partials/payments.html"
    assert "At most 120.50 can be refunded" in response.content.decode()
    assert 'value="200"' in response.content.decode()
    order.refresh_from_db()
    assert (order.paid_amount, order.balance, order.payments.count()) == (D("120.50"), D("179.50"), 1)


def test_the_invoice_page_shows_the_invoice_number_once_finished(sales_client, sales1, customer):
    order = order_in("finished", sales1, customer)
    page = sales_client.get(reverse("orders:statement", args=[order.pk])).content.decode()
    assert order.invoice_number in page and "@media print" not in page
    draft = make_order(sales1, customer)
    assert (
        "Settlement statement"
        in sales_client.get(reverse("orders:statement", args=[draft.pk])).content.decode()
    )


# --- the customer page's card -----------------------------------------------------------------


def test_the_customer_page_shows_the_latest_orders_and_the_lifetime_value(sales_client, sales1, customer):
    finished = [order_in("finished", sales1, customer) for _ in range(2)]
    order_in("closed", sales1, customer)
    newest = [make_order(sales1, customer) for _ in range(4)]
    response = sales_client.get(reverse("customers:orders_card", args=[customer.pk]), HTTP_HX_REQUEST="true")
    card = response.context["orders"]
    assert card["count"] == 7 and len(card["latest"]) == 5
    assert card["lifetime_values"] == [("CNY", D("600.00"))]
    page = response.content.decode()
    assert "600.00 CNY" in page and f"{LIST}?customer={customer.pk}" in page
    orders_card = page[page.index('id="customer-orders"') :]
    assert newest[-1].number in orders_card
    assert finished[0].number not in orders_card  # older than the five shown


def test_line_edits_for_an_order_confirmed_meanwhile_are_refused_not_dropped(
    sales_client, sales1, manager, customer
):
    order = make_order(sales1, customer)
    services.confirm_order(actor=manager, order=order)
    payload = create_payload(
        customer.pk,
        seen_status="created",
        **{
            "lines-0-description": "Sneaky",
            "lines-0-quantity": "9",
            "lines-0-unit_price": "1",
            "lines-TOTAL_FORMS": "1",
        },
    )
    payload.pop("customer")
    response = sales_client.post(reverse("orders:edit", args=[order.pk]), payload)
    assert response.status_code == 200
    assert "it is now “Confirmed”" in " ".join(response.context["form"].non_field_errors())
    assert list(order.lines.values_list("description", flat=True)) == ["Sensor"]
    assert Order.objects.get(pk=order.pk).shipping_address == ""


def test_the_header_search_finds_the_users_orders_by_number_fragment(
    sales_client, sales1, sales2, customer, theirs
):
    mine = order_in("finished", sales1, customer)
    other = make_order(sales2, theirs)
    response = sales_client.get(reverse("search") + f"?q={mine.number[-6:].lower()}")
    assert response.context["orders"] == [mine]
    response = sales_client.get(reverse("search") + f"?q={mine.invoice_number}")
    assert response.context["orders"] == [mine]
    assert other not in sales_client.get(reverse("search") + "?q=SO-").context["orders"]


@pytest.mark.parametrize(
    ("status", "primary"),
    [
        ("created", "confirm"),
        ("confirmed", "start_processing"),
        ("processing", "payment"),  # finishing waits for the payment
        ("finished", None),
        ("closed", None),
    ],
)
def test_the_summary_offers_the_one_next_step(sales_client, sales1, customer, status, primary):
    order = order_in(status, sales1, customer)
    context = sales_client.get(order.get_absolute_url()).context
    action = context["primary_action"]
    assert (action.name if action else "payment" if context["primary_payment"] else None) == primary
    html = sales_client.get(order.get_absolute_url()).content.decode()
    if primary in ("confirm", "start_processing"):
        assert f'action="{transition_url(order, primary)}" data-testid="primary-action"' in html
    elif primary == "payment":
        assert 'data-focus="payment_amount" data-testid="primary-action"' in html
        assert 'id="payment_amount"' in html
    else:
        assert 'data-testid="primary-action"' not in html


def test_a_paid_processing_order_offers_finishing_and_a_manager_never_a_one_click_override(
    sales_client, manager_client, sales1, customer
):
    order = order_in("processing", sales1, customer)
    services.record_payment(actor=sales1, order=order, amount=order.balance, method="cash")
    assert sales_client.get(order.get_absolute_url()).context["primary_action"].name == "finish"

    unpaid = order_in("processing", sales1, customer)
    context = manager_client.get(unpaid.get_absolute_url()).context
    # the manager may finish with the balance open, but only through the form that asks why
    assert context["primary_action"] is None and context["primary_payment"]
