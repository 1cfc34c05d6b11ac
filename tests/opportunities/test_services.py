from datetime import date
from decimal import Decimal
from itertools import permutations
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from crm.history import change_reason
from customers.models import Customer
from opportunities import services
from opportunities.models import Opportunity, OpportunityEvent, OpportunityLine, Stage
from orders.models import Order, OrderEvent, OrderLine
from orders.services import close_order
from tests.factories import ContactMethodFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The messages below are compared in English, whatever the default language."""
    with translation.override("en"):
        yield


OPEN_CODES = ["capture", "qualify", "evaluate", "demo_scheduled", "decision"]


def snapshot(opportunity):
    """What a refused write must leave exactly as it was."""
    row = Opportunity.objects.get(pk=opportunity.pk)
    return (
        row.stage_id,
        row.probability,
        row.won_at,
        row.lost_at,
        row.lost_reason,
        row.order_id,
        row.stage_entered_at,
        OpportunityEvent.objects.filter(opportunity=opportunity).count(),
        row.history.count(),
    )


# --- the default pipeline ------------------------------------------------------------------


def test_the_data_migration_installs_the_default_sales_process(stages):
    ordered = list(Stage.objects.values_list("code", "name_en", "name_zh_hans", "probability", "kind"))
    assert ordered == [
        ("capture", "Capture", "获取线索", 10, "open"),
        ("qualify", "Qualify", "资格确认", 20, "open"),
        ("evaluate", "Evaluate", "需求评估", 40, "open"),
        ("demo_scheduled", "Demo scheduled", "已约演示", 60, "open"),
        ("decision", "Decision", "商务决策", 80, "open"),
        ("won", "Won", "赢单", 100, "won"),
        ("lost", "Lost", "输单", 0, "lost"),
    ]


def test_a_stage_is_named_in_the_active_language(stages):
    with translation.override("en"):
        assert str(stages["evaluate"]) == "Evaluate"
    with translation.override("zh-hans"):
        assert str(stages["evaluate"]) == "需求评估"


# --- creating --------------------------------------------------------------------------------


def test_create_starts_in_the_first_stage_with_its_probability_lines_event_and_history(
    sales1, customer1, products
):
    opportunity = services.create_opportunity(
        actor=sales1,
        customer=customer1,
        title="  Sensors   for line 3 ",
        expected_close_date=date(2027, 3, 31),
        lines=[
            {"product": products[0], "quantity": 3},
            {"product": products[1], "quantity": 2, "unit_price": Decimal("200.00")},
        ],
        score_segmentation=80,
        score_characteristics=60,
        score_relationship=50,
        score_resources=40,
    )
    opportunity.refresh_from_db()
    assert opportunity.title == "Sensors for line 3"
    assert opportunity.stage.code == "capture"
    assert opportunity.probability == 10
    assert opportunity.owner == sales1
    assert opportunity.amount == Decimal("700.00")  # 3 × 100 (the product's price) + 2 × 200
    assert opportunity.value_score == Decimal("59.00")
    lines = list(opportunity.lines.values_list("position", "product__sku", "quantity", "unit_price"))
    assert lines == [(0, "SEN-1", 3, Decimal("100.00")), (1, "CTL-1", 2, Decimal("200.00"))]
    event = opportunity.events.get()
    assert (event.from_stage, event.to_stage, event.actor) == (None, opportunity.stage, sales1)
    assert event.at == opportunity.stage_entered_at
    record = opportunity.history.get()
    assert (record.history_type, record.history_user) == ("+", sales1)


def test_without_lines_the_amount_is_entered_and_required(sales1, customer1):
    opportunity = services.create_opportunity(
        actor=sales1,
        customer=customer1,
        title="Consulting",
        amount=Decimal("5000"),
        expected_close_date=date.today(),
    )
    assert opportunity.amount == Decimal("5000")
    with pytest.raises(ValidationError) as refused:
        services.create_opportunity(
            actor=sales1, customer=customer1, title="No amount", amount=None, expected_close_date=date.today()
        )
    assert "amount" in refused.value.message_dict
    assert Opportunity.objects.count() == 1


def test_create_validates_everything_before_writing_anything(sales1, customer1, products):
    products[1].active = False
    products[1].save()
    with pytest.raises(ValidationError) as refused:
        services.create_opportunity(
            actor=sales1,
            customer=customer1,
            title=" ",
            expected_close_date=None,
            probability=120,
            lines=[
                {"product": products[0], "quantity": 0},
                {"product": products[1], "quantity": 1},
                {"product": None, "quantity": 1},
            ],
        )
    errors = refused.value.message_dict
    assert {"title", "expected_close_date", "probability"} <= set(errors)
    assert "at least 1" in errors["lines-0-quantity"][0]
    assert "no longer sold" in errors["lines-1-product"][0]
    assert "lines-2-product" in errors
    assert not Opportunity.objects.exists()
    assert not OpportunityLine.objects.exists()
    assert not OpportunityEvent.objects.exists()


def test_sales_staff_create_only_for_their_own_customers_and_for_their_owner(
    sales1, sales2, manager, customer1, customer2
):
    fields: dict[str, Any] = {"title": "Deal", "amount": Decimal(1), "expected_close_date": date.today()}
    with pytest.raises(PermissionDenied):
        services.create_opportunity(actor=sales1, customer=customer2, **fields)
    with pytest.raises(PermissionDenied):
        services.create_opportunity(actor=sales1, customer=customer1, owner=sales2, **fields)
    assert not Opportunity.objects.exists()
    given = services.create_opportunity(actor=manager, customer=customer1, owner=manager, **fields)
    assert given.owner == manager
    assert services.create_opportunity(actor=manager, customer=customer1, **fields).owner == sales1


def test_a_new_opportunity_cannot_start_closed(sales1, customer1, stages):
    with pytest.raises(ValidationError) as refused:
        services.create_opportunity(
            actor=sales1,
            customer=customer1,
            stage=stages["won"],
            title="Deal",
            amount=Decimal(1),
            expected_close_date=date.today(),
        )
    assert "stage" in refused.value.message_dict
    assert not Opportunity.objects.exists()


def test_the_probability_may_differ_from_the_stage_default(sales1, customer1, stages):
    opportunity = services.create_opportunity(
        actor=sales1,
        customer=customer1,
        stage=stages["evaluate"],
        title="Deal",
        amount=Decimal(1),
        probability=55,
        expected_close_date=date.today(),
    )
    assert opportunity.probability == 55


# --- editing ---------------------------------------------------------------------------------


def test_update_replaces_the_lines_and_recomputes_the_amount(sales1, customer1, products, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    updated = services.update_opportunity(
        actor=sales1,
        opportunity=opportunity,
        title="Bigger deal",
        amount=Decimal("1"),  # ignored: with lines the amount is their total
        lines=[{"product": products[1], "quantity": 4}],
    )
    updated.refresh_from_db()
    assert updated.title == "Bigger deal"
    assert updated.amount == Decimal("1002.00")
    assert list(updated.lines.values_list("product__sku", "quantity")) == [("CTL-1", 4)]
    assert updated.history.first().history_change_reason == "lines_changed"


def test_update_keeps_the_lines_when_none_are_given(sales1, customer1, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    services.update_opportunity(
        actor=sales1, opportunity=opportunity, amount=Decimal("5"), score_relationship=100
    )
    opportunity.refresh_from_db()
    assert opportunity.amount == Decimal("700.00")
    assert opportunity.lines.count() == 2
    assert opportunity.value_score == Decimal("30.00")


def test_update_is_refused_to_others_and_on_closed_opportunities(sales1, sales2, customer1, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    with pytest.raises(PermissionDenied):
        services.update_opportunity(actor=sales2, opportunity=opportunity, title="Mine now")
    services.mark_lost(actor=sales1, opportunity=opportunity, reason="Budget cut")
    with pytest.raises(ValidationError):
        services.update_opportunity(actor=sales1, opportunity=opportunity, title="Changed")
    opportunity.refresh_from_db()
    assert opportunity.title == "Sensors for line 3"


# --- moving through the pipeline ---------------------------------------------------------------


@pytest.mark.parametrize(("source", "target"), list(permutations(OPEN_CODES, 2)))
def test_every_move_between_open_stages_records_its_event(
    source, target, sales1, customer1, stages, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1, stage=source)
    before = timezone.now()
    moved = services.move_stage(
        actor=sales1, opportunity=opportunity, stage=stages[target], note=" called the buyer "
    )
    moved.refresh_from_db()
    assert moved.stage == stages[target]
    assert moved.probability == stages[target].probability
    assert moved.stage_entered_at >= before
    event = moved.events.latest("at", "id")
    assert (event.from_stage, event.to_stage, event.actor, event.note) == (
        stages[source],
        stages[target],
        sales1,
        "called the buyer",
    )
    assert event.at == moved.stage_entered_at
    assert moved.events.count() == 2


def test_moving_to_the_stage_it_is_in_records_nothing(sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, stage="evaluate")
    before = snapshot(opportunity)
    services.move_stage(actor=sales1, opportunity=opportunity, stage=stages["evaluate"])
    assert snapshot(opportunity) == before


@pytest.mark.parametrize("closing", ["won", "lost"])
def test_move_does_not_close(closing, sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    before = snapshot(opportunity)
    with pytest.raises(ValidationError):
        services.move_stage(actor=sales1, opportunity=opportunity, stage=stages[closing])
    assert snapshot(opportunity) == before


def test_a_move_from_a_stage_it_has_left_is_a_conflict(sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, stage="evaluate")
    services.move_stage(actor=sales1, opportunity=opportunity, stage=stages["decision"])
    before = snapshot(opportunity)
    with pytest.raises(services.OpportunityConflict) as conflict:
        services.move_stage(
            actor=sales1, opportunity=opportunity, stage=stages["qualify"], from_stage=stages["evaluate"]
        )
    assert conflict.value.current_stage == stages["decision"]
    assert snapshot(opportunity) == before


def test_others_cannot_move_win_lose_or_reopen(sales1, sales2, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    before = snapshot(opportunity)
    for action in (
        lambda: services.move_stage(actor=sales2, opportunity=opportunity, stage=stages["qualify"]),
        lambda: services.mark_won(actor=sales2, opportunity=opportunity),
        lambda: services.mark_lost(actor=sales2, opportunity=opportunity, reason="Not mine"),
    ):
        with pytest.raises(PermissionDenied):
            action()
    assert snapshot(opportunity) == before
    assert not Order.objects.exists()
    services.mark_lost(actor=sales1, opportunity=opportunity, reason="Budget cut")
    with pytest.raises(PermissionDenied):
        services.reopen(actor=sales2, opportunity=opportunity)


def test_managers_act_on_every_opportunity(manager, sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    services.move_stage(actor=manager, opportunity=opportunity, stage=stages["decision"])
    assert opportunity.events.latest("at", "id").actor == manager


# --- winning makes the order ---------------------------------------------------------------


def test_winning_creates_the_order_from_the_lines_in_one_step(sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, stage="decision")
    won = services.mark_won(
        actor=sales1, opportunity=opportunity, note="Signed today", from_stage=stages["decision"]
    )
    won.refresh_from_db()
    assert won.stage == stages["won"]
    assert won.probability == 100
    assert won.won_at is not None and won.lost_at is None
    order = won.order
    assert order is not None
    assert order.source_opportunity == won  # linked both ways
    assert (order.customer, order.owner, order.status) == (customer1, sales1, Order.Status.CREATED)
    assert list(order.lines.values_list("product__sku", "quantity", "unit_price", "line_total")) == [
        ("SEN-1", 3, Decimal("100.00"), Decimal("300.00")),
        ("CTL-1", 2, Decimal("200.00"), Decimal("400.00")),
    ]
    assert (order.subtotal, order.tax_rate, order.total) == (
        Decimal("700.00"),
        Decimal("13"),
        Decimal("791.00"),
    )
    assert order.events.get().note == "Signed today"
    event = won.events.latest("at", "id")
    assert (event.from_stage, event.to_stage, event.actor, event.note) == (
        stages["decision"],
        stages["won"],
        sales1,
        "Signed today",
    )
    assert won.history.first().history_change_reason == change_reason("won", order_number=order.number)


def test_a_won_deal_gives_a_complete_order_and_an_active_customer(sales1, customer1, new_opportunity):
    ContactMethodFactory(customer=customer1, type="address", value="北京市海淀区中关村大街 1 号")
    ContactMethodFactory(
        customer=customer1, type="address", value="上海市浦东新区张江路 88 号", is_primary=True
    )
    Customer.objects.filter(pk=customer1.pk).update(lifecycle_stage="prospect")
    order = services.mark_won(actor=sales1, opportunity=new_opportunity(sales1, customer1)).order
    assert order is not None
    assert (order.shipping_address, order.tax_rate, order.currency) == (
        "上海市浦东新区张江路 88 号",
        Decimal("13"),
        "CNY",
    )
    assert order.tax == Decimal("91.00")
    customer1.refresh_from_db()
    assert customer1.lifecycle_stage == "active"
    latest = customer1.history.first()
    assert (latest.lifecycle_stage, latest.history_change_reason, latest.history_user) == (
        "active",
        "active_by_deal",
        sales1,
    )


def test_the_default_tax_rate_is_a_setting(settings, sales1, customer1, new_opportunity):
    settings.DEFAULT_TAX_RATE = Decimal("6")
    customer1.address = "Dock 4, Harbour Road"
    customer1.save()
    order = services.mark_won(actor=sales1, opportunity=new_opportunity(sales1, customer1)).order
    assert order is not None and (order.tax_rate, order.shipping_address) == (
        Decimal("6"),
        "Dock 4, Harbour Road",
    )


def test_a_manager_winning_keeps_the_opportunity_owner_on_the_order(
    manager, sales1, customer1, new_opportunity
):
    opportunity = new_opportunity(manager, customer1, owner=manager)
    order = services.mark_won(actor=manager, opportunity=opportunity).order
    assert order is not None and order.owner == manager


def assert_nothing_won(opportunity, before):
    assert snapshot(opportunity) == before
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert not OrderEvent.objects.exists()


def test_winning_without_lines_is_refused_and_writes_nothing(sales1, customer1, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, lines=False, amount=Decimal("900"))
    before = snapshot(opportunity)
    with pytest.raises(ValidationError) as refused:
        services.mark_won(actor=sales1, opportunity=opportunity)
    assert "products of interest" in refused.value.messages[0]
    assert_nothing_won(opportunity, before)


def test_when_the_order_cannot_be_made_the_opportunity_is_not_won(
    sales1, customer1, products, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1, stage="decision")
    products[1].active = False  # withdrawn after it was offered
    products[1].save()
    before = snapshot(opportunity)
    with pytest.raises(ValidationError) as refused:
        services.mark_won(actor=sales1, opportunity=opportunity)
    messages = refused.value.messages
    assert "could not be created" in messages[0]
    assert messages[1].startswith("Line 2 (CTL-1 · Controller): ")
    assert "no longer sold" in messages[1]
    assert_nothing_won(opportunity, before)


def test_a_failure_after_the_order_was_made_undoes_the_order_too(sales1, customer1, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, stage="decision")
    before = snapshot(opportunity)
    with (
        mock.patch("opportunities.events.opportunity_won", side_effect=RuntimeError("database went away")),
        pytest.raises(RuntimeError),
    ):
        services.mark_won(actor=sales1, opportunity=opportunity)
    assert_nothing_won(opportunity, before)


def test_only_an_open_opportunity_can_be_won_or_lost(sales1, customer1, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    services.mark_lost(actor=sales1, opportunity=opportunity, reason="Too expensive")
    before = snapshot(opportunity)
    with pytest.raises(ValidationError):
        services.mark_won(actor=sales1, opportunity=opportunity)
    with pytest.raises(ValidationError):
        services.mark_lost(actor=sales1, opportunity=opportunity, reason="Again")
    assert snapshot(opportunity) == before
    assert not Order.objects.exists()


# --- losing and reopening --------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_losing_without_a_reason_is_refused(reason, sales1, customer1, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, stage="evaluate")
    before = snapshot(opportunity)
    with pytest.raises(ValidationError) as refused:
        services.mark_lost(actor=sales1, opportunity=opportunity, reason=reason)
    assert "reason" in refused.value.message_dict
    assert snapshot(opportunity) == before


def test_losing_records_the_reason(sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, stage="evaluate")
    lost = services.mark_lost(actor=sales1, opportunity=opportunity, reason=" Chose a  competitor ")
    lost.refresh_from_db()
    assert (lost.stage, lost.probability, lost.lost_reason) == (stages["lost"], 0, "Chose a competitor")
    assert lost.lost_at is not None and lost.won_at is None
    event = lost.events.latest("at", "id")
    assert (event.type, event.from_stage, event.to_stage, event.parameters) == (
        "lost",
        stages["evaluate"],
        stages["lost"],
        {"reason": "Chose a competitor"},
    )


def test_reopening_a_lost_opportunity_returns_it_where_it_left_off(
    sales1, customer1, stages, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1, stage="decision")
    services.mark_lost(actor=sales1, opportunity=opportunity, reason="Budget frozen")
    reopened = services.reopen(actor=sales1, opportunity=opportunity, note="Budget is back")
    reopened.refresh_from_db()
    assert (reopened.stage, reopened.probability) == (stages["decision"], 80)
    assert (reopened.lost_at, reopened.lost_reason, reopened.won_at) == (None, "", None)
    event = reopened.events.latest("at", "id")
    assert (event.from_stage, event.to_stage, event.note) == (
        stages["lost"],
        stages["decision"],
        "Budget is back",
    )
    again = services.reopen  # an open opportunity cannot be reopened
    with pytest.raises(ValidationError):
        again(actor=sales1, opportunity=reopened)


def test_reopening_into_a_chosen_stage(sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, stage="decision")
    services.mark_lost(actor=sales1, opportunity=opportunity, reason="Budget frozen")
    with pytest.raises(ValidationError):
        services.reopen(actor=sales1, opportunity=opportunity, stage=stages["won"])
    assert (
        services.reopen(actor=sales1, opportunity=opportunity, stage=stages["qualify"]).stage
        == stages["qualify"]
    )


def test_a_won_opportunity_reopens_only_once_its_order_is_closed(sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, stage="decision")
    first_order = services.mark_won(actor=sales1, opportunity=opportunity).order
    assert first_order is not None
    before = snapshot(opportunity)
    with pytest.raises(ValidationError) as refused:
        services.reopen(actor=sales1, opportunity=opportunity)
    assert first_order.number in refused.value.messages[0]
    assert snapshot(opportunity) == before

    close_order(actor=sales1, order=first_order, reason="Customer withdrew")
    reopened = services.reopen(actor=sales1, opportunity=opportunity)
    reopened.refresh_from_db()
    assert (reopened.stage, reopened.order, reopened.won_at) == (stages["decision"], None, None)
    event = reopened.events.latest("at", "id")
    assert (event.type, event.parameters["unlinked_order_number"]) == ("reopened", first_order.number)
    second_order = services.mark_won(actor=sales1, opportunity=reopened).order
    assert second_order is not None and second_order != first_order
    assert second_order.source_opportunity == reopened
