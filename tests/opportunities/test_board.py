import json
from datetime import date, timedelta
from decimal import Decimal
from itertools import cycle

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from opportunities import selectors, services
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


def card_count(response):
    return response.content.decode().count('class="board-card card')


@pytest.mark.parametrize("client_fixture", ["sales_client", "manager_client"])
def test_the_board_sends_at_most_200_cards_in_a_fixed_number_of_queries(
    request, client_fixture, sales1, count_queries
):
    client = request.getfixturevalue(client_fixture)
    everyone = f"{BOARD}?owner=all"
    customers = [CustomerFactory(owner=sales1) for _ in range(5)]
    make_opportunities(customers, 7)
    few = count_queries(client, everyone)
    make_opportunities(customers, 1393)
    many = count_queries(client, everyone)
    columns = many.response.context["columns"]
    # the true count and amount of every column, from the aggregate, but at most 200 cards sent
    assert sum(column["count"] for column in columns) == 1400
    assert sum(column["amount"] for column in columns) == sum(o.amount for o in Opportunity.objects.all())
    assert card_count(many.response) <= selectors.BOARD_CARD_BUDGET
    size = selectors.board_column_size(len(columns))
    assert [len(column["cards"]) for column in columns] == [size] * len(columns)
    assert all(column["next_offset"] == size for column in columns)
    assert many.response.content.decode().count('data-testid="more-') == len(columns)
    assert many == few
    assert count_queries(client, f"{BOARD}?owner={sales1.pk}") == few
    assert few <= 9


def test_each_column_shows_the_cards_closing_first(sales_client, sales1, customer1, stages):
    late = date.today() + timedelta(days=400)
    rows = make_opportunities([customer1], 7 * 40)
    Opportunity.objects.filter(pk__in=[row.pk for row in rows[:7]]).update(expected_close_date=late)
    columns = sales_client.get(BOARD).context["columns"]
    shown = {card.pk for column in columns for card in column["cards"]}
    assert not shown & {row.pk for row in rows[:7]}
    for column in columns:
        dates = [card.expected_close_date for card in column["cards"]]
        assert dates == sorted(dates)


def test_show_more_loads_the_next_cards_of_one_column_then_stops(sales_client, sales1, customer1, stages):
    make_opportunities([customer1], 7 * 40)  # 40 cards a stage
    size = selectors.board_column_size(len(stages))
    columns = {c["stage"].code: c for c in sales_client.get(BOARD).context["columns"]}
    shown = [card.pk for card in columns["qualify"]["cards"]]
    url = reverse("opportunities:board_column", args=[stages["qualify"].pk])
    offset = columns["qualify"]["next_offset"]
    while offset is not None:
        more = sales_client.get(f"{url}?offset={offset}", **HTMX)
        following = [card.pk for card in more.context["column"]["cards"]]
        assert card_count(more) == len(following) == min(size, 40 - offset)
        shown += following
        offset = more.context["column"]["next_offset"]
    assert 'data-testid="more-' not in more.content.decode()
    assert len(shown) == len(set(shown)) == 40
    assert set(shown) == set(Opportunity.objects.filter(stage=stages["qualify"]).values_list("pk", flat=True))


def test_show_more_shows_only_what_the_user_sees(client, sales2, sales1, customer1, stages):
    make_opportunities([customer1], 14)
    client.force_login(sales2)
    url = reverse("opportunities:board_column", args=[stages["capture"].pk])
    response = client.get(f"{url}?offset=0&owner={sales1.pk}", **HTMX)
    assert response.context["column"]["cards"] == []
    assert card_count(response) == 0
    assert client.get(reverse("opportunities:board_column", args=[99999]), **HTMX).status_code == 404


def test_a_column_asked_for_without_htmx_is_the_board_with_its_filters(sales_client, sales1, stages):
    url = reverse("opportunities:board_column", args=[stages["capture"].pk])
    response = sales_client.get(f"{url}?offset=20&owner={sales1.pk}&closed=quarter")
    assert response.status_code == 302
    assert response.url == f"{BOARD}?owner={sales1.pk}&closed=quarter"
    assert sales_client.get(f"{url}?offset=20").url == BOARD


@pytest.mark.parametrize(
    "query", ["offset=-1", "offset=99999999999", "offset=abc", "closed=decade", "owner=x"]
)
def test_bad_board_parameters_fall_back_to_the_defaults(sales_client, customer1, stages, query):
    make_opportunities([customer1], 7)
    assert sales_client.get(f"{BOARD}?{query}").status_code == 200
    url = reverse("opportunities:board_column", args=[stages["capture"].pk])
    response = sales_client.get(f"{url}?{query}", **HTMX)
    assert response.status_code == 200
    assert len(response.context["column"]["cards"]) == 1  # from the first card


def test_managers_land_on_their_own_cards_with_everyone_one_click_away(
    manager_client, manager, sales1, customer1, new_opportunity
):
    mine = new_opportunity(manager, customer1, owner=manager, title="Manager's deal")
    theirs = new_opportunity(sales1, customer1, title="Sales deal")
    response = manager_client.get(BOARD)
    assert response.context["owner"] == manager
    assert [card for column in response.context["columns"] for card in column["cards"]] == [mine]
    assert 'data-testid="board-everyone"' in response.content.decode()
    everyone = manager_client.get(f"{BOARD}?owner=all")
    assert everyone.context["owner"] is None
    assert {card for column in everyone.context["columns"] for card in column["cards"]} == {mine, theirs}


def test_won_and_lost_columns_show_this_month_unless_asked(sales_client, sales1, customer1, stages):
    this_month, last_month = make_opportunities([customer1], 14)[5::7], []
    start, _end = selectors.closed_period("month")
    earlier = make_opportunities([customer1], 7)[5]  # won
    Opportunity.objects.filter(pk=earlier.pk).update(won_at=start - timedelta(hours=1))
    last_month.append(earlier)
    won = {c["stage"].code: c for c in sales_client.get(BOARD).context["columns"]}["won"]
    assert {card.pk for card in won["cards"]} == {card.pk for card in this_month}
    assert won["count"] == 2
    won = {c["stage"].code: c for c in sales_client.get(f"{BOARD}?closed=last_month").context["columns"]}[
        "won"
    ]
    assert [card.pk for card in won["cards"]] == [earlier.pk]


def test_cards_past_their_close_date_are_marked_overdue(sales_client, sales1, customer1, new_opportunity):
    late = new_opportunity(sales1, customer1, title="Late deal")
    Opportunity.objects.filter(pk=late.pk).update(expected_close_date=date.today() - timedelta(days=2))
    new_opportunity(sales1, customer1, title="On time")
    with translation.override("en"):
        page = sales_client.get(BOARD, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count('data-testid="overdue"') == 1
    assert page.count("board-card-overdue") == 1
    assert "Overdue: past its expected close date" in page
    card = page[page.index(f'data-testid="card-{late.pk}"') - 80 :]
    assert "board-card-overdue" in card[:200]


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


def test_a_card_moved_past_its_columns_first_cards_is_still_shown_and_announced(
    sales_client, sales1, customer1, stages, new_opportunity
):
    make_opportunities([customer1], 7 * 40)
    opportunity = new_opportunity(sales1, customer1, stage="evaluate")
    Opportunity.objects.filter(pk=opportunity.pk).update(
        expected_close_date=date.today() + timedelta(days=900)
    )
    with translation.override("en"):
        response = sales_client.post(
            reverse("opportunities:move", args=[opportunity.pk]),
            {"stage": stages["decision"].pk, "from_stage": stages["evaluate"].pk, "board": "1"},
            HTTP_ACCEPT_LANGUAGE="en",
            **HTMX,
        )
    columns = {c["stage"].code: c for c in response.context["columns"]}
    assert columns["decision"]["cards"][-1].pk == opportunity.pk
    html = response.content.decode()
    assert f'data-moved-card="card-{opportunity.pk}"' in html
    assert 'id="board-status" hx-swap-oob="innerHTML"' in html
    assert "is now in Decision" in html
