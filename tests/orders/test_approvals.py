"""The approval workflow: a salesperson asks, a manager approves or refuses from the queue, the
salesperson sees the answer and confirms; changing the lines or money voids the approval."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from orders import services
from orders.models import ApprovalRequest, OrderEvent
from tests.factories import CustomerFactory
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db

QUEUE = reverse("orders:approvals")
BIG = [{"description": "Production line", "quantity": 1, "unit_price": D("5000.00")}]


@pytest.fixture(autouse=True)
def limit(settings):
    settings.ORDER_APPROVAL_LIMIT = D("1000")


@pytest.fixture
def manager_client(manager, settings):
    """The manager in a browser of their own, beside the salesperson's (sales_client), in English."""
    browser = Client()
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    browser.force_login(manager)
    return browser


@pytest.fixture
def big(sales1, customer):
    return make_order(sales1, customer, lines=BIG)


def test_request_approve_and_confirm(sales_client, manager_client, sales1, big):
    page = sales_client.get(big.get_absolute_url()).content.decode()
    assert 'data-testid="approval-request-form"' in page and "Above the approval limit of 1,000.00" in page
    response = sales_client.post(reverse("orders:approval_request", args=[big.pk]), {"note": "Key account"})
    assert response.status_code == 302
    approval = big.approvals.get()
    assert (approval.status, approval.note, approval.total, approval.requested_by) == (
        "pending",
        "Key account",
        D("5000.00"),
        sales1,
    )
    queue = manager_client.get(QUEUE)
    assert [a for a, _form in queue.context["requests"]] == [approval]
    assert 'data-testid="approvals-waiting">1<' in queue.content.decode()
    response = manager_client.post(
        reverse("orders:approval_decide", args=[approval.pk]), {"decision": "approve", "note": "Go ahead"}
    )
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.decision_note == "Go ahead"
    page = sales_client.get(big.get_absolute_url()).content.decode()
    assert "Go ahead" in page and 'data-testid="action-confirm"' in page
    dashboard = sales_client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="approval-answers"' in dashboard and big.number in dashboard
    order = services.confirm_order(actor=sales1, order=big)
    assert order.status == "confirmed"
    types = list(OrderEvent.objects.filter(order=big).order_by("at", "id").values_list("type", flat=True))
    assert types == ["created", "approval_requested", "approval_granted", "confirmed"]


def test_a_refusal_needs_a_note_and_the_requester_may_ask_again(sales_client, manager_client, sales1, big):
    approval = services.request_approval(actor=sales1, order=big)
    url = reverse("orders:approval_decide", args=[approval.pk])
    response = manager_client.post(url, {"decision": "reject", "note": ""})
    assert response.status_code == 200 and "Say why the approval is refused." in response.content.decode()
    assert ApprovalRequest.objects.get().status == "pending"
    manager_client.post(url, {"decision": "reject", "note": "Price too low"})
    assert ApprovalRequest.objects.get().status == "rejected"
    page = sales_client.get(big.get_absolute_url()).content.decode()
    assert "Price too low" in page and 'data-testid="approval-request-form"' in page
    with pytest.raises(PermissionDenied):
        services.confirm_order(actor=sales1, order=big)
    services.request_approval(actor=sales1, order=big, note="Better price now")
    assert big.approvals.filter(status="pending").count() == 1


def test_changing_lines_or_money_voids_the_approval(sales1, manager, big):
    approval = services.request_approval(actor=sales1, order=big)
    services.decide_approval(actor=manager, approval=approval, approve=True)
    services.update_order(actor=sales1, order=big, shipping_address="Dock 4")  # a detail: still approved
    assert ApprovalRequest.objects.get().status == "approved"
    services.update_order(actor=sales1, order=big, lines=[{**BIG[0], "quantity": 2}])
    assert ApprovalRequest.objects.get().status == "void"
    assert OrderEvent.objects.filter(order=big, type="approval_voided").exists()
    with pytest.raises(PermissionDenied):
        services.confirm_order(actor=sales1, order=big)
    services.request_approval(actor=sales1, order=big)
    services.update_order(actor=sales1, order=big, tax_rate=D("13"))
    assert not big.approvals.filter(status="pending").exists()


def test_what_cannot_be_asked_or_answered(sales1, sales2, manager, big, customer):
    small = make_order(sales1, customer)
    with pytest.raises(ValidationError):
        services.request_approval(actor=sales1, order=small)
    approval = services.request_approval(actor=sales1, order=big)
    with pytest.raises(ValidationError):
        services.request_approval(actor=sales1, order=big)
    with pytest.raises(PermissionDenied):
        services.decide_approval(actor=sales1, approval=approval, approve=True)
    services.decide_approval(actor=manager, approval=approval, approve=True)
    with pytest.raises(ValidationError):
        services.decide_approval(actor=manager, approval=approval, approve=False, note="changed my mind")
    assert ApprovalRequest.objects.get().status == "approved"


def test_others_cannot_request_or_answer(client, sales2, sales1, big):
    client.force_login(sales2)
    assert client.post(reverse("orders:approval_request", args=[big.pk]), {"note": "x"}).status_code == 404
    approval = services.request_approval(actor=sales1, order=big)
    assert client.get(QUEUE).status_code == 403
    assert (
        client.post(
            reverse("orders:approval_decide", args=[approval.pk]), {"decision": "approve"}
        ).status_code
        == 404
    )
    assert ApprovalRequest.objects.get().status == "pending"
    assert 'data-testid="nav-approvals"' not in client.get(reverse("dashboard")).content.decode()


def test_the_queue_runs_a_fixed_number_of_queries(manager_client, sales1, count_queries):
    def ask(count):
        for _ in range(count):
            order = make_order(sales1, CustomerFactory(owner=sales1), lines=BIG)
            services.request_approval(actor=sales1, order=order, note="please")

    ask(5)
    few = count_queries(manager_client, QUEUE)
    ask(45)
    assert count_queries(manager_client, QUEUE) == few
