import json
from datetime import timedelta
from decimal import Decimal
from itertools import cycle

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from opportunities import services
from opportunities.models import Opportunity, Stage
from orders.models import Order
from tests.factories import CustomerFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

BOARD = reverse("opportunities:board")
HTMX = {"HTTP_HX_REQUEST": "true"}


def make_opportunities(customers, count):
    """`count` opportunities spread over every stage (the closed ones closed recently), in one insert."""
    now = timezone.now()
    stages = cycle(Stage.objects.all())
    owners = cycle(customers)
    rows = []
    for index in range(count):
        stage, customer = next(stages), next(owners)
        rows.append(
            OpportunityFactory.build(
                customer=customer,
                owner=customer.owner,
                title=f"Deal {index}",
                stage=stage,
                probability=stage.probability,
                amount=Decimal(1000 + index),
                won_at=now if stage.kind == "won" else None,
                lost_at=now if stage.kind == "lost" else None,
                lost_reason="Too expensive" if stage.kind == "lost" else "",
            )
        )
    return Opportunity.objects.bulk_create(rows)


@pytest.mark.parametrize("client_fixture", ["sales_client", "manager_client"])
def test_the_board_renders_500_opportunities_in_a_fixed_number_of_queries(
    request, client_fixture, sales1, count_queries
):
    client = request.getfixturevalue(client_fixture)
    customers = [CustomerFactory(owner=sales1) for _ in range(5)]
    make_opportunities(customers, 7)
    few = count_queries(client, BOARD)
    make_opportunities(customers, 493)
    many = count_queries(client, BOARD)
    assert sum(column["count"] for column in many.response.context["columns"]) == 500
    assert many.response.content.decode().count('class="board-card card"') == 500
    assert many == few
    assert count_queries(client, f"{BOARD}?owner={sales1.pk}") == few
    assert few <= 8


def test_the_board_partial_also_runs_a_fixed_number_of_queries(manager_client, sales1, count_queries):
    customers = [CustomerFactory(owner=sales1) for _ in range(3)]
    make_opportunities(customers, 7)
    few = count_queries(manager_client, BOARD, **HTMX)
    make_opportunities(customers, 100)
    assert count_queries(manager_client, BOARD, **HTMX) == few


def test_columns_count_and_sum_their_cards(sales_client, sales1, customer1, stages, new_opportunity):
    new_opportunity(sales1, customer1, stage="evaluate")  # 700
    new_opportunity(sales1, customer1, stage="evaluate", lines=False, amount=Decimal("300"))
    old = services.mark_lost(
        actor=sales1, opportunity=new_opportunity(sales1, customer1), reason="Too expensive"
    )
    Opportunity.objects.filter(pk=old.pk).update(lost_at=timezone.now() - timedelta(days=31))
    columns = {c["stage"].code: c for c in sales_client.get(BOARD).context["columns"]}
    evaluate = columns["evaluate"]
    assert (evaluate["count"], evaluate["amount"], evaluate["weighted"]) == (
        2,
        Decimal("1000.00"),
        Decimal("400.00"),
    )
    assert columns["lost"]["count"] == 0  # lost more than 30 days ago
    assert [c["stage"].code for c in columns.values()] == list(stages)


def test_the_owner_filter(manager_client, manager, sales1, customer1, new_opportunity):
    mine = new_opportunity(manager, customer1, owner=manager, title="Manager's deal")
    new_opportunity(sales1, customer1, title="Sales deal")
    response = manager_client.get(f"{BOARD}?owner={manager.pk}")
    cards = [card for column in response.context["columns"] for card in column["cards"]]
    assert cards == [mine]
    assert response.context["owner"] == manager
    # htmx redraws only the board
    partial = manager_client.get(f"{BOARD}?owner={manager.pk}", **HTMX)
    assert "<html" not in partial.content.decode()


def test_dropping_a_card_on_an_open_stage_moves_it_and_redraws_the_board(
    sales_client, sales1, customer1, stages, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1, stage="evaluate")
    response = sales_client.post(
        reverse("opportunities:move", args=[opportunity.pk]),
        {"stage": stages["decision"].pk, "from_stage": stages["evaluate"].pk, "board": "1"},
        **HTMX,
    )
    assert response.status_code == 200
    columns = {c["stage"].code: c for c in response.context["columns"]}
    assert [card.pk for card in columns["decision"]["cards"]] == [opportunity.pk]
    assert columns["evaluate"]["cards"] == []
    event = opportunity.events.first()
    assert (event.from_stage, event.to_stage, event.actor) == (stages["evaluate"], stages["decision"], sales1)


def test_the_cards_move_control_opens_a_dialog_and_moves_with_a_note(
    sales_client, sales1, customer1, stages, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1, stage="qualify")
    move = reverse("opportunities:move", args=[opportunity.pk])
    dialog = sales_client.get(move, **HTMX)
    assert dialog["HX-Retarget"] == "#board-dialog-content"
    assert dialog.context["form"]["stage"].value() == stages["qualify"].pk
    assert sales_client.get(move).status_code == 302  # without htmx: the opportunity's page
    response = sales_client.post(
        move,
        {
            "stage": stages["evaluate"].pk,
            "from_stage": stages["qualify"].pk,
            "note": "Budget confirmed",
            "board": "1",
        },
        **HTMX,
    )
    assert response["HX-Retarget"] == "#board"
    assert json.loads(response["HX-Trigger"]) == {"board:close-dialog": {}}
    event = opportunity.events.first()
    assert (event.to_stage, event.note) == (stages["evaluate"], "Budget confirmed")


def test_dropping_a_card_on_won_asks_first_then_wins_and_goes_to_the_order(
    sales_client, sales1, customer1, stages, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1, stage="decision")
    move = reverse("opportunities:move", args=[opportunity.pk])
    with translation.override("en"):
        dialog = sales_client.post(
            move,
            {"stage": stages["won"].pk, "from_stage": stages["decision"].pk, "board": "1"},
            HTTP_ACCEPT_LANGUAGE="en",
            **HTMX,
        )
    assert dialog["HX-Retarget"] == "#board-dialog-content"
    assert json.loads(dialog["HX-Trigger-After-Settle"]) == {"board:dialog": {}}
    assert "Win and create the order" in dialog.content.decode()
    assert not Order.objects.exists()  # nothing happens before the user confirms

    won = sales_client.post(
        reverse("opportunities:win", args=[opportunity.pk]),
        {"from_stage": stages["decision"].pk, "board": "1", "note": ""},
        **HTMX,
    )
    order = Order.objects.get()
    opportunity.refresh_from_db()
    assert opportunity.order == order
    assert won["HX-Redirect"] == order.get_absolute_url()


def test_a_refused_win_stays_in_the_dialog(sales_client, sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, stage="decision", lines=False, amount=Decimal(5))
    with translation.override("en"):
        response = sales_client.post(
            reverse("opportunities:win", args=[opportunity.pk]),
            {"from_stage": stages["decision"].pk, "board": "1"},
            HTTP_ACCEPT_LANGUAGE="en",
            **HTMX,
        )
    assert response["HX-Retarget"] == "#board-dialog-content"
    assert "Add the products of interest" in response.content.decode()
    assert not Order.objects.exists()


def test_dropping_a_card_on_lost_asks_for_the_reason(
    sales_client, sales1, customer1, stages, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1, stage="qualify")
    lose = reverse("opportunities:lose", args=[opportunity.pk])
    refused = sales_client.post(
        lose, {"reason": " ", "from_stage": stages["qualify"].pk, "board": "1"}, **HTMX
    )
    assert refused["HX-Retarget"] == "#board-dialog-content"
    assert "reason" in refused.context["form"].errors
    opportunity.refresh_from_db()
    assert opportunity.lost_at is None

    response = sales_client.post(
        lose, {"reason": "Chose a competitor", "from_stage": stages["qualify"].pk, "board": "1"}, **HTMX
    )
    assert response["HX-Retarget"] == "#board"
    assert json.loads(response["HX-Trigger"]) == {"board:close-dialog": {}}
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.lost_reason) == (stages["lost"], "Chose a competitor")


def test_a_card_moved_meanwhile_is_not_moved_again(sales_client, sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, stage="decision")
    with translation.override("en"):
        response = sales_client.post(
            reverse("opportunities:move", args=[opportunity.pk]),
            {"stage": stages["qualify"].pk, "from_stage": stages["evaluate"].pk, "board": "1"},
            HTTP_ACCEPT_LANGUAGE="en",
            **HTMX,
        )
    assert "Someone else moved this opportunity meanwhile" in response.content.decode()
    columns = {c["stage"].code: c for c in response.context["columns"]}
    assert [card.pk for card in columns["decision"]["cards"]] == [opportunity.pk]
    assert opportunity.events.count() == 1
