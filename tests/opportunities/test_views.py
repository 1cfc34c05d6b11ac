import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from opportunities import services
from opportunities.models import Opportunity, OpportunityEvent, Stage
from orders.models import Order
from tests.factories import CommunicationFactory, CustomerFactory, FollowUpFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

LIST = reverse("opportunities:index")
EXPORT = reverse("opportunities:export")
CREATE = reverse("opportunities:create")
HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, opportunity):
    return reverse(f"opportunities:{name}", args=[opportunity.pk])


def titles(response):
    return [o.title for o in response.context["page"].items]


# --- the list ---------------------------------------------------------------------------------


def test_sales_staff_list_only_their_customers_opportunities(
    sales_client, sales1, sales2, customer1, customer2
):
    OpportunityFactory(customer=customer1, title="Mine")
    OpportunityFactory(customer=customer2, title="Theirs")
    assert titles(sales_client.get(LIST)) == ["Mine"]


def test_the_list_filters(manager_client, sales1, sales2, customer1, customer2, stages):
    today = date.today()
    a = OpportunityFactory(
        customer=customer1, title="Alpha", amount=Decimal("500"), expected_close_date=today, value_score=20
    )
    b = OpportunityFactory(
        customer=customer1,
        title="Beta",
        stage=stages["decision"],
        amount=Decimal("5000"),
        expected_close_date=today + timedelta(days=40),
        value_score=70,
    )
    c = OpportunityFactory(
        customer=customer2, title="Gamma", owner=sales2, amount=Decimal("50000"), expected_close_date=today
    )
    cases = {
        f"owner={sales2.pk}": [c],
        f"stage={stages['decision'].pk}": [b],
        "status=open": [a, b, c],
        f"customer={customer1.pk}": [a, b],
        f"close_after={today + timedelta(days=1)}": [b],
        f"close_before={today}": [a, c],
        "amount_min=1000&amount_max=10000": [b],
        "score_min=50": [b],
        "score_max=50": [a, c],
        "q=alp": [a],
        "q=theirs": [c],  # the customer's name
    }
    for query, expected in cases.items():
        response = manager_client.get(f"{LIST}?{query}")
        assert sorted(titles(response)) == sorted(o.title for o in expected), query


def test_the_list_sorts_and_pages_with_keysets(sales_client, customer1):
    for i in range(30):
        OpportunityFactory(customer=customer1, title=f"Deal {i:02d}", amount=Decimal(i * 10))
    first = sales_client.get(f"{LIST}?sort=-amount")
    assert titles(first)[:2] == ["Deal 29", "Deal 28"]
    page = first.context["page"]
    second = sales_client.get(f"{LIST}?sort=-amount&page=next&cursor={page.next_cursor}")
    assert titles(second) == ["Deal 04", "Deal 03", "Deal 02", "Deal 01", "Deal 00"]
    assert titles(sales_client.get(f"{LIST}?sort=title&page=last"))[-1] == "Deal 29"


@pytest.mark.parametrize("client_fixture", ["sales_client", "manager_client"])
def test_the_list_runs_a_fixed_number_of_queries(request, client_fixture, customer1, count_queries):
    client = request.getfixturevalue(client_fixture)
    OpportunityFactory.create_batch(3, customer=customer1)
    few = count_queries(client, LIST)
    OpportunityFactory.create_batch(40, customer=CustomerFactory(owner=customer1.owner))
    assert count_queries(client, LIST) == few
    assert count_queries(client, f"{LIST}?page=last&sort=-score") == few


def test_the_export_follows_the_filters_and_neutralises_formulas(sales_client, customer1, customer2):
    OpportunityFactory(
        customer=customer1, title="=HYPERLINK(evil)", amount=Decimal("1234.50"), probability=40
    )
    OpportunityFactory(customer=customer1, title="Other", amount=Decimal("1"))
    OpportunityFactory(customer=customer2, title="Theirs")
    with translation.override("en"):
        response = sales_client.get(f"{EXPORT}?format=csv&amount_min=1000", HTTP_ACCEPT_LANGUAGE="en")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["ID", "Title", "Customer"]
    assert len(rows) == 2
    assert rows[1][1] == "'=HYPERLINK(evil)"
    assert rows[1][5:8] == ["1234.50", "40", "493.80"]
    response = sales_client.get(f"{EXPORT}?format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    exported = sorted(str(row[1]) for row in sheet.iter_rows(min_row=2, values_only=True))
    assert exported == ["=HYPERLINK(evil)", "Other"]
    assert sheet.cell(row=2, column=2).data_type == "s"


# --- one opportunity -------------------------------------------------------------------------


def test_the_detail_page_shows_lines_events_time_in_stage_and_the_order(
    sales_client, sales1, customer1, stages, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1, stage="evaluate")
    services.move_stage(
        actor=sales1, opportunity=opportunity, stage=stages["decision"], note="Demo went well"
    )
    won = services.mark_won(actor=sales1, opportunity=opportunity)
    with translation.override("en"):
        page = sales_client.get(won.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "SEN-1 · Sensor" in page and "700.00" in page
    assert "Demo went well" in page
    assert won.order is not None and won.order.number in page
    assert 'id="time-in-stage"' in page and "Evaluate" in page and "Decision" in page
    assert "<del>Evaluate</del> → <strong>Decision</strong>" in page  # the change history names stages


def test_the_detail_page_runs_a_fixed_number_of_queries(
    sales_client, sales1, customer1, stages, new_opportunity, count_queries
):
    opportunity = new_opportunity(sales1, customer1)
    services.move_stage(
        actor=sales1, opportunity=opportunity, stage=stages["qualify"]
    )  # the history names a stage
    CommunicationFactory(customer=customer1, opportunity=opportunity)
    few = count_queries(sales_client, opportunity.get_absolute_url())
    for _ in range(10):
        services.move_stage(actor=sales1, opportunity=opportunity, stage=stages["qualify"])
        services.move_stage(actor=sales1, opportunity=opportunity, stage=stages["capture"])
        services.update_opportunity(actor=sales1, opportunity=opportunity, description="more")
        CommunicationFactory(customer=customer1, opportunity=opportunity)
        FollowUpFactory(customer=customer1, opportunity=opportunity, assignee=sales1)
    assert count_queries(sales_client, opportunity.get_absolute_url()) == few
    linked = reverse("followups:linked", args=["opportunity", opportunity.pk])
    card = sales_client.get(linked, HTTP_HX_REQUEST="true").context["card"]
    assert card.more_communications and card.more_followups
    won = services.mark_won(actor=sales1, opportunity=new_opportunity(sales1, customer1))
    few = count_queries(sales_client, won.get_absolute_url())
    services.mark_won(actor=sales1, opportunity=opportunity)
    assert count_queries(sales_client, opportunity.get_absolute_url()) == few


def test_the_create_form_starts_from_the_customer_page(sales_client, customer1):
    response = sales_client.get(f"{CREATE}?customer={customer1.pk}")
    form = response.context["form"]
    assert form["customer"].value() == customer1.pk
    assert form["customer_search"].value() == "Mine Ltd"


def form_data(customer, **overrides):
    data = {
        "customer": customer.pk if customer else "",
        "customer_search": customer.name if customer else "",
        "title": "Sensors for line 3",
        "stage": str(Stage.objects.get(code="capture").pk),
        "expected_close_date": (date.today() + timedelta(days=20)).isoformat(),
        "amount": "",
        "probability": "",
        "source": "referral",
        "description": "",
        "score_segmentation": "80",
        "score_characteristics": "60",
        "score_relationship": "50",
        "score_resources": "40",
        "budget_confirmed": "on",
        "budget_note": "Approved",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
        "lines-0-product": "",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "",
        "lines-1-product": "",
        "lines-1-quantity": "1",
        "lines-1-unit_price": "",
        "lines-2-product": "",
        "lines-2-quantity": "1",
        "lines-2-unit_price": "",
    }
    data.update(overrides)
    return data


def test_creating_with_products(sales_client, sales1, customer1, products, stages):
    data = form_data(
        customer1,
        stage=str(stages["evaluate"].pk),
        **{
            "lines-0-product": str(products[0].pk),
            "lines-0-quantity": "3",
            "lines-2-product": str(products[1].pk),
        },
    )
    response = sales_client.post(CREATE, data)
    opportunity = Opportunity.objects.get()
    assert response.status_code == 302 and response.url == opportunity.get_absolute_url()
    assert (opportunity.customer, opportunity.owner, opportunity.stage) == (
        customer1,
        sales1,
        stages["evaluate"],
    )
    assert opportunity.amount == Decimal("550.50")
    assert opportunity.probability == 40
    assert opportunity.value_score == Decimal("59.00")
    assert (opportunity.budget_confirmed, opportunity.budget_note) == (True, "Approved")
    assert list(opportunity.lines.values_list("product__sku", "quantity")) == [("SEN-1", 3), ("CTL-1", 1)]


def test_a_refused_form_keeps_what_was_typed_and_writes_nothing(sales_client, customer1, products):
    products[1].active = False
    products[1].save()
    data = form_data(
        customer1,
        title="   ",
        **{
            "lines-0-product": str(products[0].pk),
            "lines-0-quantity": "0",
            "lines-0-unit_price": "99.90",
            "lines-1-product": str(products[1].pk),  # withdrawn: not offered any more
        },
    )
    with translation.override("en"):
        response = sales_client.post(CREATE, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    form, lines = response.context["form"], response.context["lines"]
    assert "title" in form.errors
    assert "quantity" in lines.forms[0].errors
    assert "product" in lines.forms[1].errors
    page = response.content.decode()
    assert 'value="99.90"' in page and 'value="Mine Ltd"' in page and 'value="Approved"' in page
    assert f'<option value="{products[0].pk}" selected data-price="100.00">' in page
    assert not Opportunity.objects.exists()


def test_a_service_refusal_shows_next_to_the_line(sales_client, customer1, products, monkeypatch):
    def refuse(*args, **kwargs):
        from django.core.exceptions import ValidationError

        raise ValidationError({"lines-0-quantity": ["Too many."], "amount": ["Too much."]})

    monkeypatch.setattr(services, "create_opportunity", refuse)
    data = form_data(customer1, **{"lines-0-product": "", "lines-1-product": str(products[0].pk)})
    response = sales_client.post(CREATE, data)
    assert response.context["lines"].forms[1].errors["quantity"] == ["Too many."]
    assert response.context["form"].errors["amount"] == ["Too much."]


def test_someone_elses_customer_cannot_be_chosen(sales_client, customer2):
    response = sales_client.post(CREATE, form_data(customer2, amount="100"))
    assert response.status_code == 200
    assert "customer" in response.context["form"].errors
    assert not Opportunity.objects.exists()


def test_the_customer_suggestions_are_the_users_own(sales_client, customer1, customer2):
    page = sales_client.get(
        reverse("opportunities:customer_choices"), {"customer_search": "ltd"}
    ).content.decode()
    assert "Mine Ltd" in page and "Theirs Ltd" not in page


def test_editing_replaces_the_lines(sales_client, sales1, customer1, products, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    response = sales_client.get(url("edit", opportunity))
    assert [f["quantity"].value() for f in response.context["lines"].forms[:2]] == [3, 2]
    data = form_data(
        None,
        title="Renamed",
        **{
            "lines-TOTAL_FORMS": "2",
            "lines-0-product": str(products[1].pk),
            "lines-0-quantity": "4",
            "lines-1-product": "",
        },
    )
    del data["customer"], data["customer_search"], data["stage"]
    assert sales_client.post(url("edit", opportunity), data).status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.title == "Renamed"
    assert opportunity.amount == Decimal("1002.00")
    assert list(opportunity.lines.values_list("product__sku", "quantity")) == [("CTL-1", 4)]


def test_a_closed_opportunity_is_not_edited(sales_client, sales1, customer1, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    services.mark_lost(actor=sales1, opportunity=opportunity, reason="Too expensive")
    response = sales_client.post(url("edit", opportunity), form_data(None, title="Changed"))
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.title == "Sensors for line 3"


# --- stage changes from the pages ------------------------------------------------------------


def test_moving_from_the_detail_page(sales_client, sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    response = sales_client.post(
        url("move", opportunity),
        {"stage": stages["qualify"].pk, "from_stage": stages["capture"].pk, "note": "Data enriched"},
    )
    assert response.status_code == 302
    event = opportunity.events.first()
    assert (event.to_stage, event.note) == (stages["qualify"], "Data enriched")


def test_a_stale_move_from_the_page_says_where_the_opportunity_is(
    sales_client, sales1, customer1, stages, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1, stage="decision")
    with translation.override("en"):
        response = sales_client.post(
            url("move", opportunity),
            {"stage": stages["evaluate"].pk, "from_stage": stages["qualify"].pk, "board": "1"},
            HTTP_ACCEPT_LANGUAGE="en",
            **HTMX,
        )
    assert "it is now in “Decision”" in response.content.decode()
    assert opportunity.events.count() == 1


def test_winning_from_the_page_lands_on_the_order(sales_client, sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, stage="decision")
    assert sales_client.get(url("win", opportunity)).status_code == 200
    response = sales_client.post(url("win", opportunity), {"from_stage": stages["decision"].pk, "note": ""})
    order = Order.objects.get()
    assert order.source_opportunity == opportunity
    assert response.status_code == 302
    assert response.url == order.get_absolute_url()


def test_a_refused_win_shows_why_and_writes_nothing(sales_client, sales1, customer1, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, lines=False, amount=Decimal("100"))
    with translation.override("en"):
        response = sales_client.post(url("win", opportunity), {"note": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Add the products of interest before winning" in response.content.decode()
    assert not Order.objects.exists()
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "capture"


def test_losing_from_the_page_needs_a_reason(sales_client, sales1, customer1, new_opportunity):
    opportunity = new_opportunity(sales1, customer1)
    response = sales_client.post(url("lose", opportunity), {"reason": "  "})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    opportunity.refresh_from_db()
    assert opportunity.lost_at is None
    assert sales_client.post(url("lose", opportunity), {"reason": "Too expensive"}).status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.lost_reason == "Too expensive"


def test_reopening_from_the_page(sales_client, sales1, customer1, stages, new_opportunity):
    opportunity = new_opportunity(sales1, customer1, stage="evaluate")
    services.mark_lost(actor=sales1, opportunity=opportunity, reason="Too expensive")
    response = sales_client.post(url("reopen", opportunity), {"stage": "", "note": "They called back"})
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.stage == stages["evaluate"]


def test_a_won_opportunity_with_a_live_order_offers_no_reopening(
    sales_client, sales1, customer1, new_opportunity
):
    opportunity = new_opportunity(sales1, customer1)
    services.mark_won(actor=sales1, opportunity=opportunity)
    page = sales_client.get(opportunity.get_absolute_url()).content.decode()
    assert 'data-testid="reopen-problem"' in page and 'data-testid="reopen-form"' not in page


# --- the customer page and the dashboard -----------------------------------------------------


def test_the_customer_page_lists_open_opportunities_in_a_fixed_number_of_queries(
    sales_client, sales1, customer1, new_opportunity, count_queries
):
    won = new_opportunity(sales1, customer1, title="Already won")
    services.mark_won(actor=sales1, opportunity=won)
    new_opportunity(sales1, customer1, title="Open deal")
    card_url = reverse("customers:opportunities_card", args=[customer1.pk])
    card = sales_client.get(card_url, HTTP_HX_REQUEST="true").content.decode()
    assert "Open deal" in card and "Already won" not in card
    few = count_queries(sales_client, card_url, HTTP_HX_REQUEST="true")
    for i in range(12):
        new_opportunity(sales1, customer1, title=f"Deal {i}")
    more = count_queries(sales_client, card_url, HTTP_HX_REQUEST="true")
    assert more == few
    assert f"{LIST}?customer={customer1.pk}&amp;status=open" in more.response.content.decode()


def test_the_dashboard_runs_a_fixed_number_of_queries(
    manager_client, sales1, customer1, new_opportunity, count_queries
):
    few = count_queries(manager_client, "/")
    for stage in ("capture", "evaluate", "decision"):
        new_opportunity(sales1, customer1, stage=stage)
    assert count_queries(manager_client, "/") == few


# --- visibility, as an attacker would try it -------------------------------------------------


def test_guessing_another_salespersons_ids_finds_nothing(
    sales_client, sales2, customer2, stages, new_opportunity
):
    theirs = new_opportunity(sales2, customer2, stage="decision")
    before = (theirs.stage_id, OpportunityEvent.objects.count(), Order.objects.count())
    for name in ("detail", "edit", "win", "lose"):
        assert sales_client.get(url(name, theirs)).status_code == 404, name
    posts = {
        "edit": form_data(None, title="Hijacked"),
        "move": {"stage": stages["qualify"].pk, "board": "1"},
        "win": {"note": ""},
        "lose": {"reason": "Sabotage"},
        "reopen": {"note": ""},
    }
    for name, data in posts.items():
        assert sales_client.post(url(name, theirs), data).status_code == 404, name
        assert sales_client.post(url(name, theirs), data, **HTMX).status_code == 404, name
    theirs.refresh_from_db()
    assert (theirs.stage_id, OpportunityEvent.objects.count(), Order.objects.count()) == before
    assert theirs.title == "Sensors for line 3"

    board = sales_client.get(reverse("opportunities:board")).content.decode()
    assert f'data-testid="card-{theirs.pk}"' not in board
    assert titles(sales_client.get(f"{LIST}?customer={customer2.pk}")) == []
    refused = sales_client.get(f"{EXPORT}?format=csv&customer={customer2.pk}")  # not a customer of theirs
    assert refused.status_code == 400 and "Theirs Ltd" not in refused.content.decode()
    exported = b"".join(sales_client.get(f"{EXPORT}?format=csv").streaming_content)
    assert "Theirs Ltd" not in exported.decode("utf-8-sig")
    create = sales_client.get(f"{CREATE}?customer={customer2.pk}")
    assert create.context["form"]["customer"].value() is None


def test_managers_see_and_act_on_everything(manager_client, sales2, customer2, stages, new_opportunity):
    theirs = new_opportunity(sales2, customer2)
    assert manager_client.get(url("detail", theirs)).status_code == 200
    manager_client.post(url("move", theirs), {"stage": stages["qualify"].pk})
    theirs.refresh_from_db()
    assert theirs.stage == stages["qualify"]


def test_the_header_search_finds_visible_opportunities_by_title_or_customer(
    sales_client, sales1, sales2, customer1, customer2, new_opportunity
):
    mine = new_opportunity(sales1, customer1, title="Boiler retrofit")
    new_opportunity(sales2, customer2, title="Boiler replacement")
    assert sales_client.get(reverse("search") + "?q=boiler").context["opportunities"] == [mine]
    assert sales_client.get(reverse("search") + "?q=mine lt").context["opportunities"] == [mine]
    assert sales_client.get(reverse("search") + "?q=Theirs").context["opportunities"] == []
