from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from orders import services
from orders.models import DocumentCounter, Order, OrderEvent, OrderLine, Payment
from tests.factories import CustomerFactory, ProductFactory
from tests.orders.builders import PATHS, make_order, order_in

pytestmark = pytest.mark.django_db

D = Decimal


def written():
    """Everything an order write could leave behind."""
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        OrderEvent.objects.count(),
        Payment.objects.count(),
        Order.history.count(),
        list(DocumentCounter.objects.values_list("kind", "year", "last")),
    )


# --- creating orders ------------------------------------------------------------------------


def test_create_order_computes_totals_numbers_it_and_records_its_creation(sales1, customer, product):
    order = make_order(
        sales1,
        customer,
        lines=[
            {"product": product, "quantity": 3},
            {"description": "Installation", "quantity": 1, "unit_price": D("100.00"), "discount": D("10.00")},
        ],
        tax_rate=D("13"),
        discount=D("9.97"),
        note="From the trade show",
    )
    order.refresh_from_db()
    year = timezone.localdate().year
    assert order.number == f"SO-{year}-000001"
    assert (order.subtotal, order.discount, order.tax, order.total) == (
        D("149.97"),
        D("9.97"),
        D("18.20"),
        D("158.20"),
    )
    assert (order.paid_amount, order.balance, order.status, order.owner) == (
        D("0"),
        D("158.20"),
        "created",
        sales1,
    )
    first, second = order.lines.all()
    assert (first.product, first.description, first.unit_price, first.line_total) == (
        product,
        "Temperature sensor",
        D("19.99"),
        D("59.97"),
    )
    assert (second.position, second.line_total) == (1, D("90.00"))
    event = order.events.get()
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        sales1,
        "",
        "created",
        "From the trade show",
    )
    assert order.history.count() == 1


def test_create_order_checks_everything_before_writing_anything(sales1, customer, product):
    product.active = False
    product.save()
    before = written()
    with pytest.raises(ValidationError) as caught:
        services.create_order(
            actor=sales1,
            customer=customer,
            currency="yuan",
            tax_rate=D("130"),
            lines=[
                {"description": "Fine", "quantity": 1, "unit_price": D("5")},
                {"description": "", "quantity": 1, "unit_price": D("5")},
                {"description": "Too much off", "quantity": 2, "unit_price": D("5"), "discount": D("10.01")},
                {"product": product, "quantity": 0},
                {"description": "Cents", "quantity": 1, "unit_price": D("1.005")},
            ],
        )
    errors = caught.value.message_dict
    assert set(errors) == {"currency", "tax_rate", "lines-1", "lines-2", "lines-3", "lines-4"}
    assert "10.00" in errors["lines-2"][0]
    assert any("no longer sold" in message for message in errors["lines-3"])
    assert written() == before


def test_the_order_discount_cannot_exceed_the_lines(sales1, customer):
    before = written()
    with pytest.raises(ValidationError) as caught:
        make_order(sales1, customer, discount=D("300.01"))
    assert "300.00" in caught.value.message_dict["discount"][0]
    assert written() == before


def test_sales_staff_create_orders_only_for_their_own_customers(sales1, theirs):
    before = written()
    with pytest.raises(PermissionDenied):
        make_order(sales1, theirs)
    assert written() == before


def test_only_managers_give_an_order_to_someone_else(sales1, sales2, manager, customer):
    with pytest.raises(PermissionDenied):
        make_order(sales1, customer, owner=sales2)
    assert make_order(manager, customer, owner=sales2).owner == sales2
    assert make_order(manager, customer).owner == sales1


def test_numbers_count_up_per_year_in_local_time(sales1, customer, settings):
    first, second = make_order(sales1, customer), make_order(sales1, customer)
    year = timezone.localdate().year
    assert [first.number, second.number] == [f"SO-{year}-000001", f"SO-{year}-000002"]
    # 2026-12-31 17:00 UTC is already 2027 in Shanghai.
    new_year = datetime(2026, 12, 31, 17, 0, tzinfo=ZoneInfo("UTC"))
    with transaction.atomic():
        assert services.next_number("SO", new_year) == "SO-2027-000001"
        assert services.next_number("SO", new_year) == "SO-2027-000002"


def test_a_failed_creation_leaves_a_gap_never_a_duplicate(sales1, customer):
    first = make_order(sales1, customer)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_order(sales1, customer)
        raise RuntimeError("the caller's transaction fails later")
    third = make_order(sales1, customer)
    assert [first.number[-1], third.number[-1]] == ["1", "2"]  # the rolled-back number is reused, not doubled
    assert Order.objects.count() == 2


# --- editing ----------------------------------------------------------------------------------


def test_lines_are_replaced_and_totals_recomputed_while_created(sales1, customer):
    order = make_order(sales1, customer)
    updated = services.update_order(
        actor=sales1,
        order=order,
        lines=[{"description": "Other", "quantity": 2, "unit_price": D("7.50")}],
        tax_rate=D("10"),
    )
    assert list(updated.lines.values_list("description", "line_total")) == [("Other", D("15.00"))]
    updated.refresh_from_db()
    assert (updated.subtotal, updated.tax, updated.total, updated.balance) == (
        D("15"),
        D("1.50"),
        D("16.50"),
        D("16.50"),
    )
    assert updated.history.first().history_change_reason == "lines_changed"


@pytest.mark.parametrize("status", ["confirmed", "processing"])
def test_lines_and_money_cannot_change_once_confirmed(sales1, customer, status):
    order = order_in(status, sales1, customer)
    before = (written(), list(order.lines.values_list("description", "quantity")))
    with pytest.raises(ValidationError, match="only while the order is created"):
        services.update_order(
            actor=sales1, order=order, lines=[{"description": "Sneaky", "quantity": 9, "unit_price": D("1")}]
        )
    with pytest.raises(ValidationError) as caught:
        services.update_order(actor=sales1, order=order, discount=D("1"))
    assert "no longer created" in caught.value.message_dict["discount"][0]
    assert (written(), list(order.lines.values_list("description", "quantity"))) == before
    assert (
        services.update_order(actor=sales1, order=order, notes="Deliver to gate 3").notes
        == "Deliver to gate 3"
    )


@pytest.mark.parametrize("status", ["finished", "closed"])
def test_a_finished_or_closed_order_cannot_be_changed(sales1, customer, status):
    order = order_in(status, sales1, customer)
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.update_order(actor=sales1, order=order, notes="late note")
    assert Order.objects.get(pk=order.pk).notes == ""


# --- the lifecycle ----------------------------------------------------------------------------

LEGAL = {
    ("created", "confirm"): "confirmed",
    ("created", "close"): "closed",
    ("confirmed", "start_processing"): "processing",
    ("confirmed", "close"): "closed",
    ("processing", "finish"): "finished",
    ("processing", "close"): "closed",
}
STAMPS = {
    "confirmed": "confirmed_at",
    "processing": "processing_at",
    "finished": "finished_at",
    "closed": "closed_at",
}
ARGUMENTS = {"close": {"reason": "Budget cut"}, "start_processing": {"tracking_number": "SF 1234 5678"}}
EVENT_TYPES = {
    "confirm": "confirmed",
    "start_processing": "processing_started",
    "finish": "finished",
    "close": "closed",
}


def _ready(order, user):
    """Pays the order in full when it is processing, so that finishing is only about the status."""
    if order.status == "processing" and order.balance:
        services.record_payment(actor=user, order=order, amount=order.balance, method="cash")
        order.refresh_from_db()
    return order


@pytest.mark.parametrize(("source", "name"), LEGAL)
def test_every_legal_transition_stamps_its_time_and_logs_one_event(sales1, customer, source, name):
    order = _ready(order_in(source, sales1, customer), sales1)
    events = order.events.count()
    before = timezone.now()
    moved = services.TRANSITIONS[name](actor=sales1, order=order, **ARGUMENTS.get(name, {}))
    moved.refresh_from_db()
    target = LEGAL[source, name]
    assert moved.status == target
    assert before <= getattr(moved, STAMPS[target]) <= timezone.now()
    assert order.events.count() == events + 1
    event = order.events.order_by("-at", "-id").first()
    assert (event.actor, event.from_status, event.to_status) == (sales1, source, target)
    assert event.at == getattr(moved, STAMPS[target])
    assert event.type == EVENT_TYPES[name]
    if name == "close":
        assert moved.close_reason == event.parameters["reason"] == "Budget cut"
    if name == "start_processing":
        assert moved.tracking_number == event.parameters["tracking_number"] == "SF12345678"
    if name == "finish":
        assert moved.invoice_number == event.parameters["invoice_number"]
        assert moved.invoice_number == f"INV-{timezone.localdate().year}-000001"


ILLEGAL = [(source, name) for source in PATHS for name in services.TRANSITIONS if (source, name) not in LEGAL]


@pytest.mark.parametrize(("source", "name"), ILLEGAL)
def test_every_illegal_transition_is_refused_and_writes_nothing(sales1, customer, source, name):
    order = _ready(order_in(source, sales1, customer), sales1)
    before = written()
    with pytest.raises(ValidationError) as caught:
        services.TRANSITIONS[name](actor=sales1, order=order, **ARGUMENTS.get(name, {}))
    assert caught.value.code == "invalid_transition"
    assert written() == before
    assert Order.objects.get(pk=order.pk).status == source


def test_the_status_cannot_be_assigned_directly(sales1, customer):
    order = make_order(sales1, customer)
    with pytest.raises(AttributeError, match="Direct status modification is not allowed"):
        order.status = "finished"
    assert Order.objects.get(pk=order.pk).status == "created"


def test_the_database_refuses_a_status_without_its_stamps(sales1, customer):
    order = make_order(sales1, customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(status="finished")
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(status="shipped")


def test_confirm_needs_lines_and_a_positive_total(sales1, customer):
    empty = make_order(sales1, customer, lines=[])
    free = make_order(
        sales1, customer, lines=[{"description": "Sample", "quantity": 1, "unit_price": D("0")}]
    )
    before = written()
    with pytest.raises(ValidationError, match="at least one line"):
        services.confirm_order(actor=sales1, order=empty)
    with pytest.raises(ValidationError, match="more than zero"):
        services.confirm_order(actor=sales1, order=free)
    assert written() == before


def test_above_the_approval_limit_only_managers_confirm(sales1, manager, customer, settings):
    settings.ORDER_APPROVAL_LIMIT = D("300.00")
    at_limit = make_order(sales1, customer)  # 3 × 100.00
    above = make_order(
        sales1, customer, lines=[{"description": "Big", "quantity": 1, "unit_price": D("300.01")}]
    )
    assert services.confirm_order(actor=sales1, order=at_limit).status == "confirmed"
    before = written()
    with pytest.raises(PermissionDenied, match=r"approval limit of 300\.00"):
        services.confirm_order(actor=sales1, order=above)
    assert written() == before
    confirmed = services.confirm_order(actor=manager, order=above, note="Approved: strategic account")
    assert confirmed.status == "confirmed"
    assert above.events.get(to_status="confirmed").actor == manager


def test_close_needs_a_reason(sales1, customer):
    order = make_order(sales1, customer)
    before = written()
    with pytest.raises(ValidationError) as caught:
        services.close_order(actor=sales1, order=order, reason="   ")
    assert "reason" in caught.value.message_dict
    assert written() == before


def test_a_stale_copy_gets_a_conflict_naming_the_current_status(sales1, manager, customer):
    order = make_order(sales1, customer)
    stale = Order.objects.get(pk=order.pk)
    services.confirm_order(actor=manager, order=order)
    before = written()
    with pytest.raises(services.OrderConflict) as caught:
        services.close_order(actor=sales1, order=stale, reason="Cancelled")
    assert caught.value.current_status == "confirmed"
    assert "Confirmed" in caught.value.messages[0]
    assert written() == before
    assert list(order.events.values_list("to_status", flat=True).order_by("at", "id")) == [
        "created",
        "confirmed",
    ]


def test_the_model_refuses_to_save_a_copy_whose_status_is_out_of_date(sales1, customer):
    order = make_order(sales1, customer)
    stale = Order.objects.get(pk=order.pk)
    services.confirm_order(actor=sales1, order=order)
    stale.notes = "overwrite"
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert Order.objects.get(pk=order.pk).notes == ""


def test_sales_staff_cannot_act_on_another_users_order(sales2, customer):
    order = make_order(customer.owner, customer)
    before = written()
    for name, function in services.TRANSITIONS.items():
        with pytest.raises(PermissionDenied):
            function(actor=sales2, order=order, **ARGUMENTS.get(name, {}))
    with pytest.raises(PermissionDenied):
        services.update_order(actor=sales2, order=order, notes="x")
    assert written() == before


# --- payments, refunds and settling -----------------------------------------------------------


def test_payments_and_refunds_move_the_paid_amount_and_the_balance(sales1, customer):
    order = order_in("confirmed", sales1, customer)  # total 300.00
    services.record_payment(
        actor=sales1, order=order, amount=D("200.00"), method="bank_transfer", reference=" TX 1 "
    )
    refund = services.record_payment(actor=sales1, order=order, amount=D("-50.00"), method="bank_transfer")
    order.refresh_from_db()
    assert (order.paid_amount, order.balance) == (D("150.00"), D("150.00"))
    assert refund.is_refund and refund.recorded_by == sales1
    assert order.payments.first().reference == "TX 1"


def test_refunds_at_most_what_was_paid(sales1, customer):
    order = order_in("confirmed", sales1, customer)
    services.record_payment(actor=sales1, order=order, amount=D("100.00"), method="cash")
    before = written()
    with pytest.raises(ValidationError) as caught:
        services.record_payment(actor=sales1, order=order, amount=D("-100.01"), method="cash")
    assert "At most 100.00" in caught.value.message_dict["amount"][0]
    assert written() == before
    services.record_payment(actor=sales1, order=order, amount=D("-100.00"), method="cash")
    assert Order.objects.get(pk=order.pk).paid_amount == 0


def test_a_payment_cannot_exceed_the_balance_or_be_zero(sales1, customer):
    order = order_in("confirmed", sales1, customer)
    before = written()
    for amount in (D("300.01"), D("0")):
        with pytest.raises(ValidationError):
            services.record_payment(actor=sales1, order=order, amount=amount, method="cash")
    assert written() == before


def test_no_payments_before_confirmation_and_only_refunds_once_closed(sales1, customer):
    created = make_order(sales1, customer)
    with pytest.raises(ValidationError, match="takes no payments"):
        services.record_payment(actor=sales1, order=created, amount=D("1"), method="cash")
    order = order_in("confirmed", sales1, customer)
    services.record_payment(actor=sales1, order=order, amount=D("100"), method="cash")
    closed = services.close_order(actor=sales1, order=Order.objects.get(pk=order.pk), reason="Cancelled")
    with pytest.raises(ValidationError, match="takes no payments"):
        services.record_payment(actor=sales1, order=closed, amount=D("1"), method="cash")
    services.record_payment(actor=sales1, order=closed, amount=D("-100"), method="cash")
    assert Order.objects.get(pk=order.pk).paid_amount == 0


def test_finishing_needs_a_zero_balance(sales1, customer):
    order = order_in("processing", sales1, customer)
    services.record_payment(actor=sales1, order=order, amount=D("299.99"), method="cash")
    order.refresh_from_db()
    before = written()
    with pytest.raises(ValidationError, match=r"balance is 0\.01"):
        services.finish_order(actor=sales1, order=order)
    with pytest.raises(PermissionDenied):
        services.finish_order(
            actor=sales1, order=order, override_balance=True, note="Customer will pay later"
        )
    assert written() == before
    services.record_payment(actor=sales1, order=order, amount=D("0.01"), method="cash")
    finished = services.finish_order(actor=sales1, order=Order.objects.get(pk=order.pk))
    assert finished.status == "finished" and finished.invoice_number


def test_a_manager_may_finish_with_a_balance_saying_why(sales1, manager, customer):
    order = order_in("processing", sales1, customer)
    before = written()
    with pytest.raises(ValidationError) as caught:
        services.finish_order(actor=manager, order=order, override_balance=True, note=" ")
    assert "note" in caught.value.message_dict
    assert written() == before
    finished = services.finish_order(
        actor=manager, order=order, override_balance=True, note="Paid in cash at delivery"
    )
    assert (finished.status, finished.balance) == ("finished", D("300.00"))
    assert order.events.get(to_status="finished").note == "Paid in cash at delivery"
    assert finished.invoice_number == f"INV-{timezone.localdate().year}-000001"


# --- the database guards the arithmetic -----------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": 0, "line_total": D("0")},
        {"unit_price": D("-1"), "line_total": D("-3")},
        {"line_total": D("299.99")},
        {"discount": D("-1"), "line_total": D("301")},
    ],
)
def test_the_database_refuses_lines_that_do_not_add_up(sales1, customer, change):
    line = make_order(sales1, customer).lines.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(**change)


@pytest.mark.parametrize(
    "change",
    [
        {"total": D("299.99")},
        {"balance": D("1")},
        {"paid_amount": D("-1"), "balance": D("301")},
        {"discount": D("301")},
    ],
)
def test_the_database_refuses_orders_that_do_not_add_up(sales1, customer, change):
    order = make_order(sales1, customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(**change)


# --- products ---------------------------------------------------------------------------------


def test_products_are_managed_by_managers(sales1, manager):
    with pytest.raises(PermissionDenied):
        services.create_product(actor=sales1, sku="x-1", name="X", unit_price=D("1"))
    product = services.create_product(actor=manager, sku=" ab-1 ", name=" Sensor  kit ", unit_price=D("9.90"))
    assert (product.sku, product.name) == ("AB-1", "Sensor kit")
    with pytest.raises(ValidationError) as caught:
        services.create_product(actor=manager, sku="AB-1", name="Again", unit_price=D("1"))
    assert "sku" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.update_product(actor=manager, product=product, unit_price=D("-1"))


def test_a_withdrawn_product_stays_on_the_orders_that_have_it(sales1, manager, customer):
    product = ProductFactory(unit_price=D("10"))
    order = make_order(sales1, customer, lines=[{"product": product, "quantity": 1}])
    services.update_product(actor=manager, product=product, active=False)
    updated = services.update_order(actor=sales1, order=order, lines=[{"product": product, "quantity": 2}])
    assert updated.lines.get().quantity == 2
    other = CustomerFactory(owner=sales1)
    with pytest.raises(ValidationError, match="no longer sold"):
        make_order(sales1, other, lines=[{"product": product, "quantity": 1}])


def test_a_payment_cannot_be_dated_in_the_future(sales1, customer):
    order = order_in("confirmed", sales1, customer)
    before = written()
    with pytest.raises(ValidationError) as caught:
        services.record_payment(
            actor=sales1,
            order=order,
            amount=D("1"),
            method="cash",
            paid_at=timezone.now() + timedelta(days=1),
        )
    assert "paid_at" in caught.value.message_dict
    assert written() == before


def test_a_manager_reassigns_an_open_order_sales_staff_cannot(sales1, sales2, manager, customer):
    order = order_in("confirmed", sales1, customer)
    with pytest.raises(PermissionDenied):
        services.update_order(actor=sales1, order=order, owner=sales2)
    assert services.update_order(actor=manager, order=order, owner=sales2).owner == sales2
    finished = order_in("finished", sales1, customer)
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.update_order(actor=manager, order=finished, owner=sales2)


def test_confirming_makes_the_customer_active_with_history(sales1, customer):
    from customers.models import Customer

    Customer.objects.filter(pk=customer.pk).update(lifecycle_stage="lead")
    services.confirm_order(actor=sales1, order=make_order(sales1, customer))
    customer.refresh_from_db()
    assert customer.lifecycle_stage == "active"
    assert customer.history.first().history_change_reason == "active_by_order"
    before = customer.history.count()
    services.confirm_order(actor=sales1, order=make_order(sales1, customer))  # already active: no record
    assert customer.history.count() == before
