"""Credit notes, approvals and balances due over the API: the services' rules and messages, the
approval queue's access (orders.access.approvable_orders), idempotent POSTs."""

from decimal import Decimal as D

import pytest

from orders import services
from orders.models import ApprovalRequest, CreditNote, Order, Payment
from tests.factories import CustomerFactory
from tests.orders.builders import make_order, order_in

pytestmark = pytest.mark.django_db

BIG = [{"description": "Production line", "quantity": 1, "unit_price": D("5000.00")}]


@pytest.fixture
def paid(sales1):
    """sales1's confirmed order of 3 × 100.00 (13% tax: 339.00), paid 200.00."""
    order = order_in("confirmed", sales1, CustomerFactory(owner=sales1), tax_rate=D("13"))
    services.record_payment(actor=sales1, order=order, amount=D("200.00"), method="cash")
    order.refresh_from_db()
    return order


def url(order, action=""):
    return f"/api/v1/orders/{order.pk}/{action}"


def test_a_credit_note_with_a_return_and_a_refund(api, paid):
    line = paid.lines.get()
    response = api.post(
        url(paid, "credit-notes/"),
        {
            "reason": "One sensor broken",
            "returns": [{"line": line.pk, "quantity": 1}],
            "amount": "10.00",
            "description": "Goodwill",
            "refund": "50.00",
            "refund_method": "bank_transfer",
            "reference": "R-1",
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 201, response.json()
    note = CreditNote.objects.get()
    expected = services.return_value(paid, line, 1) + D("10.00")
    assert expected == D("123.00")  # 113.00 for the sensor (100 + 13% tax), 10.00 conceded
    assert response.json()["number"] == note.number and note.number.startswith("CN-")
    assert D(response.json()["amount"]) == note.amount == expected
    assert [(row["order_line"], row["quantity"]) for row in response.json()["lines"]] == [
        (line.pk, 1),
        (None, None),
    ]
    paid.refresh_from_db()
    assert (paid.credited, paid.paid_amount, paid.balance) == (D("123.00"), D("150.00"), D("66.00"))
    refund = Payment.objects.get(amount__lt=0)
    assert (refund.amount, refund.method, refund.reference) == (D("-50.00"), "bank_transfer", "R-1")
    order = api.get(url(paid), HTTP_ACCEPT_LANGUAGE="en").json()
    assert [n["number"] for n in order["credit_notes"]] == [note.number]
    assert (order["credited"], order["balance"]) == ("123.00", "66.00")
    listed = api.get(url(paid, "credit-notes/")).json()
    assert [n["number"] for n in listed] == [note.number]
    events = [event["type"] for event in api.get(url(paid, "events/")).json()]
    assert events[:2] == ["refund_recorded", "credit_note_issued"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"reason": "x", "amount": "5.00", "refund": "5.00"},
            "refund_method",
            "Choose how the money is paid back.",
        ),
        ({"reason": "", "amount": "5.00"}, "reason", None),
        ({"reason": "x"}, "non_field_errors", "Enter a quantity returned or an amount to credit."),
        ({"reason": "x", "amount": "500.00"}, "non_field_errors", None),
        (
            {"reason": "x", "amount": "5.00", "refund": "300.00", "refund_method": "cash"},
            "refund",
            "At most 200.00 can be refunded: that is what has been paid.",
        ),
    ],
)
def test_a_refused_credit_note_says_why_at_the_field_and_writes_nothing(api, paid, body, field, message):
    response = api.post(url(paid, "credit-notes/"), body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert field in errors, errors
    if message:
        assert errors[field] == [message]
    assert not CreditNote.objects.exists() and not Payment.objects.filter(amount__lt=0).exists()
    paid.refresh_from_db()
    assert paid.credited == 0


def test_returns_name_the_orders_own_lines_once_and_within_their_quantity(api, sales1, paid):
    line = paid.lines.get()
    other = make_order(sales1, paid.customer).lines.get()
    cases = [
        ([{"line": other.pk, "quantity": 1}], "returns"),
        ([{"line": line.pk, "quantity": 1}, {"line": line.pk, "quantity": 1}], "returns"),
        ([{"line": line.pk, "quantity": 4}], f"return-{line.pk}"),
    ]
    for returns, field in cases:
        response = api.post(url(paid, "credit-notes/"), {"reason": "x", "returns": returns}, format="json")
        assert response.status_code == 400 and field in response.json()["errors"], response.json()
    assert not CreditNote.objects.exists()


def test_a_created_order_takes_no_credit_note(api, sales1):
    order = make_order(sales1, CustomerFactory(owner=sales1))
    response = api.post(
        url(order, "credit-notes/"),
        {"reason": "x", "amount": "1.00"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "An order that is “Created” takes no credit notes."
    assert not CreditNote.objects.exists()


def test_a_retried_credit_note_is_issued_once(api, paid):
    body = {"reason": "Retry", "amount": "20.00", "refund": "20.00", "refund_method": "cash"}
    first = api.post(url(paid, "credit-notes/"), body, format="json", HTTP_IDEMPOTENCY_KEY="cn-1")
    again = api.post(url(paid, "credit-notes/"), body, format="json", HTTP_IDEMPOTENCY_KEY="cn-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert CreditNote.objects.count() == 1 and Payment.objects.filter(amount__lt=0).count() == 1


# Approvals


@pytest.fixture
def big(settings, sales1):
    settings.ORDER_APPROVAL_LIMIT = D("1000")
    return make_order(sales1, CustomerFactory(owner=sales1), lines=BIG)


def test_request_refuse_request_again_and_approve(api, manager_api, big):
    asked = api.post(url(big, "request-approval/"), {"note": "Key account"}, format="json")
    assert asked.status_code == 201, asked.json()
    assert (asked.json()["status"], asked.json()["note"], asked.json()["total"]) == (
        "pending",
        "Key account",
        "5000.00",
    )
    twice = api.post(url(big, "request-approval/"), {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert twice.status_code == 400
    assert twice.json()["detail"] == "Approval was already asked for this order."
    # The salesperson neither approves nor sees a queue.
    assert api.post(url(big, "approve/"), {}, format="json").status_code == 403
    assert api.get("/api/v1/approvals/").status_code == 403
    queue = manager_api.get("/api/v1/approvals/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [(row["order"], row["status_label"]) for row in queue["results"]] == [(big.pk, "Waiting")]
    no_reason = manager_api.post(url(big, "refuse/"), {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert no_reason.status_code == 400
    assert no_reason.json()["errors"] == {"note": ["Say why the approval is refused."]}
    refused = manager_api.post(url(big, "refuse/"), {"note": "Too big"}, format="json")
    assert refused.status_code == 200 and refused.json()["status"] == "rejected"
    assert manager_api.get("/api/v1/approvals/").json()["results"] == []
    assert api.post(url(big, "request-approval/"), {}, format="json").status_code == 201
    approved = manager_api.post(url(big, "approve/"), {"note": "Fine"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    late = manager_api.post(url(big, "approve/"), {}, format="json")
    assert late.status_code == 409, "answered already"
    assert api.post(url(big, "confirm/"), {}, format="json").json()["status"] == "confirmed"
    assert list(big.approvals.values_list("status", flat=True).order_by("id")) == ["rejected", "approved"]


def test_an_order_within_the_limit_needs_no_approval(api, manager_api, sales1):
    order = make_order(sales1, CustomerFactory(owner=sales1))
    response = api.post(url(order, "request-approval/"), {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "within the approval limit" in response.json()["detail"]
    never = manager_api.post(url(order, "approve/"), {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert never.status_code == 400 and never.json()["detail"] == "No approval was asked for this order."
    assert not ApprovalRequest.objects.exists()


def test_a_retried_request_for_approval_is_made_once(api, big):
    first = api.post(url(big, "request-approval/"), {}, format="json", HTTP_IDEMPOTENCY_KEY="ask-1")
    again = api.post(url(big, "request-approval/"), {}, format="json", HTTP_IDEMPOTENCY_KEY="ask-1")
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert ApprovalRequest.objects.count() == 1


def test_a_team_lead_answers_their_members_requests_only(api_client, org, settings):
    """The queue and the decisions follow orders.access.approvable_orders: the East lead answers a1's
    request; the North lead sees neither it in the queue nor the order (404), and writes nothing."""
    settings.ORDER_APPROVAL_LIMIT = D("1000")
    users = org.users
    order = make_order(users["a1"], org.records["c_a1"], lines=BIG)
    services.request_approval(actor=users["a1"], order=order)
    east, north = api_client(users["lead_e"]), api_client(users["lead_n"])
    assert north.get("/api/v1/approvals/").json()["results"] == []
    approval = order.approvals.get()
    assert north.get(f"/api/v1/approvals/{approval.pk}/").status_code == 404
    for action in ("approve/", "refuse/"):
        assert north.post(url(order, action), {"note": "No"}, format="json").status_code == 404
    approval.refresh_from_db()
    assert approval.status == "pending"
    assert [row["id"] for row in east.get("/api/v1/approvals/").json()["results"]] == [approval.pk]
    assert east.post(url(order, "approve/"), {}, format="json").json()["status"] == "approved"


# Balances due


def test_balances_due_list_and_summary(api, sales1, sales2, paid):
    theirs = order_in("confirmed", sales2, CustomerFactory(owner=sales2))
    settled = order_in("finished", sales1, CustomerFactory(owner=sales1))
    rows = api.get("/api/v1/balances/", HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    assert [(row["id"], row["balance"], row["status_label"]) for row in rows] == [
        (paid.pk, "139.00", "Confirmed")
    ]
    assert theirs.balance > 0 and settled.balance == 0
    summary = api.get("/api/v1/balances/summary/").json()
    assert summary == [
        {"currency": "CNY", "orders": 1, "amount": "139.00", "buckets": ["139.00", "0.00", "0.00", "0.00"]}
    ]
    expected = sum(o.balance for o in Order.objects.filter(owner=sales1, balance__gt=0, status="confirmed"))
    assert D(summary[0]["amount"]) == expected
    assert api.get("/api/v1/balances/?age=90%2B").json()["results"] == []


def test_the_queue_and_balances_cost_the_same_queries_for_few_and_many(
    manager_api, sales1, count_queries, settings
):
    settings.ORDER_APPROVAL_LIMIT = D("1000")

    def add(count):
        customer = CustomerFactory(owner=sales1)
        for _ in range(count):
            order_in("confirmed", sales1, customer)
            services.request_approval(actor=sales1, order=make_order(sales1, customer, lines=BIG))

    add(3)
    urls = ("/api/v1/approvals/?page_size=100", "/api/v1/balances/?page_size=100")
    few = [count_queries(manager_api, u) for u in urls]
    add(20)
    many = [count_queries(manager_api, u) for u in urls]
    assert few == many
    assert [m.response.json()["count"] for m in many] == [23, 23]
    confirmed = list(Order.objects.filter(status="confirmed")[:10])
    services.issue_credit_note(actor=sales1, order=confirmed[0], reason="x", amount=D("1.00"))
    one = count_queries(manager_api, "/api/v1/orders/?page_size=100")
    for order in confirmed[1:]:
        services.issue_credit_note(actor=sales1, order=order, reason="x", amount=D("1.00"))
    assert count_queries(manager_api, "/api/v1/orders/?page_size=100") == one, "credit notes are prefetched"
