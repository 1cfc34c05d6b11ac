"""Webhooks against a real HTTP receiver on 127.0.0.1: signed, retried, paused, re-sent."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from automation import services, webhooks
from automation.models import Notification, WebhookDelivery, WebhookEndpoint
from orders import services as order_services
from tests.factories import CustomerFactory
from tests.orders.builders import advance, make_order

# The worker closes its database connections between tasks, as a real one does: these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "s3cret"


class Rollback(Exception):
    pass


class Receiver:
    """What the receiver got, and the status codes it answers with, one per request (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        self.url = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def receiver():
    received = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), received.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    received.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield received
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(receiver, manager):
    return services.save_endpoint(
        actor=manager, url=receiver.url, secret=SECRET, event_types=["order.status_changed"], active=True
    )


def due_now():
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    DBTaskResult.objects.update(run_after=timezone.now())


def test_an_order_confirmed_reaches_the_receiver_signed(receiver, endpoint, sales1, worker):
    order = make_order(sales1, CustomerFactory(owner=sales1))
    advance(sales1, order, "confirmed")
    worker()
    assert len(receiver.requests) == 2  # created, then confirmed
    headers, body = receiver.requests[1]
    expected = hmac.new(SECRET.encode(), headers["X-Crm-Timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["X-Crm-Signature"] == "sha256=" + expected.hexdigest()
    assert abs(int(headers["X-Crm-Timestamp"]) - timezone.now().timestamp()) < 60
    assert headers["X-Crm-Event"] == "order.status_changed"
    document = json.loads(body)
    assert (document["version"], document["type"]) == (1, "order.status_changed")
    assert document["data"]["order"]["number"] == order.number
    assert (document["data"]["from_status"], document["data"]["to_status"]) == ("created", "confirmed")
    delivery = WebhookDelivery.objects.get(pk=int(headers["X-Crm-Delivery"]))
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("sent", 200, 1)
    assert delivery.response_ms is not None


def test_only_subscribed_events_are_sent(receiver, endpoint, sales1, worker):
    customer = CustomerFactory(owner=sales1)  # customer.created: not subscribed
    order = advance(sales1, make_order(sales1, customer), "confirmed")
    order_services.record_payment(actor=sales1, order=order, amount=order.total, method="bank_transfer")
    assert set(WebhookDelivery.objects.values_list("event_type", flat=True)) == {"order.status_changed"}


def test_a_transaction_that_rolls_back_queues_nothing(endpoint, sales1):
    order = make_order(sales1, CustomerFactory(owner=sales1))
    WebhookDelivery.objects.all().delete()
    DBTaskResult.objects.all().delete()
    with pytest.raises(Rollback), transaction.atomic():
        order_services.confirm_order(actor=sales1, order=order)
        assert WebhookDelivery.objects.count() == DBTaskResult.objects.count() == 1
        raise Rollback
    assert not WebhookDelivery.objects.exists() and not DBTaskResult.objects.exists()


def test_a_failing_receiver_is_retried_then_the_endpoint_is_paused(
    receiver, endpoint, sales1, manager, worker, settings
):
    settings.OUTBOX_MAX_ATTEMPTS, settings.WEBHOOK_PAUSE_AFTER_FAILURES = 3, 2
    settings.LANGUAGE_CODE = "en"
    receiver.answers = [500] * 6
    make_order(sales1, CustomerFactory(owner=sales1))  # one delivery
    worker()
    first = WebhookDelivery.objects.get()
    assert (first.status, first.attempts, first.response_code) == ("pending", 1, 500)
    assert first.next_attempt_at > timezone.now()  # backoff
    for _ in range(2):
        due_now()
        worker()
    first.refresh_from_db()
    assert (first.status, first.attempts, len(receiver.requests)) == ("failed", 3, 3)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1 and endpoint.paused_at is None

    make_order(sales1, CustomerFactory(owner=sales1))  # a second delivery fails for good too: paused
    for _ in range(3):
        due_now()
        worker()
    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None
    assert Notification.objects.filter(user=manager, message__contains="paused").exists()

    make_order(sales1, CustomerFactory(owner=sales1))  # paused: queued to nobody
    assert WebhookDelivery.objects.count() == 2

    assert webhooks.resume(actor=manager, endpoint=endpoint) == 0
    webhooks.resend(actor=manager, row=first)  # re-sent: the same event, delivered this time
    worker()
    resent = WebhookDelivery.objects.latest("pk")
    assert (resent.status, resent.payload["id"]) == ("sent", first.payload["id"])


def test_an_unreachable_receiver_is_an_error_not_a_crash(endpoint, sales1, worker, settings):
    WebhookEndpoint.objects.update(url="http://127.0.0.1:9/nothing-listens")
    make_order(sales1, CustomerFactory(owner=sales1))
    worker()
    row = WebhookDelivery.objects.get()
    assert row.status == "pending" and row.response_code is None and "Error" in row.last_error


def test_managers_register_an_endpoint_and_see_its_log(manager_client, receiver, english):
    data = {
        "url": receiver.url,
        "description": "ERP",
        "secret": "",
        "event_types": ["customer.created"],
        "active": "on",
    }
    response = manager_client.post(reverse("automation:webhook_create"), data, follow=True)
    endpoint = WebhookEndpoint.objects.get()
    assert len(endpoint.secret) == 64 and endpoint.event_types == ["customer.created"]
    assert b"No deliveries yet." in response.content
    bad = manager_client.post(
        reverse("automation:webhook_create"), data | {"url": "ftp://x", "event_types": []}
    )
    assert {"url", "event_types"} <= set(bad.context["form"].errors)
    assert WebhookEndpoint.objects.count() == 1


def test_sales_staff_reach_no_webhook_page(sales_client, endpoint):
    assert sales_client.get(reverse("automation:webhooks")).status_code == 403
    assert sales_client.get(reverse("automation:webhook", args=[endpoint.pk])).status_code == 403
    assert sales_client.post(reverse("automation:webhook_resume", args=[endpoint.pk])).status_code == 403


def test_a_rule_calls_a_webhook(receiver, endpoint, sales1, worker):
    from automation.rules import run_rules

    services.save_rule(
        actor=None,
        name="Tell ERP",
        trigger="order_transition",
        status="confirmed",
        action="webhook",
        webhook=endpoint,
    )
    order = advance(sales1, make_order(sales1, CustomerFactory(owner=sales1, name="Acme")), "confirmed")
    run_rules()
    run_rules()
    worker()
    documents = [json.loads(body) for _headers, body in receiver.requests]
    fired = [d for d in documents if d["type"] == "automation.rule_fired"]
    assert len(fired) == 1
    assert fired[0]["data"]["variables"]["order_number"] == order.number
    assert fired[0]["data"]["customer"]["name"] == "Acme"


class Redirecting(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(307)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/hook", "http://10.1.2.3/hook", "http://169.254.169.254/", "http://[::1]/"]
)
def test_an_endpoint_inside_the_network_is_refused_at_the_field(manager_client, settings, english, url):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    data = {"url": url, "description": "", "secret": "", "event_types": ["customer.created"], "active": "on"}
    response = manager_client.post(reverse("automation:webhook_create"), data)
    assert "public addresses only" in str(response.context["form"].errors["url"])
    assert not WebhookEndpoint.objects.exists()


def test_a_delivery_to_an_address_that_became_private_is_not_sent(
    receiver, endpoint, sales1, settings, english
):
    make_order(sales1, CustomerFactory(owner=sales1))
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    webhooks.deliver(WebhookDelivery.objects.get().pk)
    row = WebhookDelivery.objects.get()
    assert row.status == "pending" and "public addresses only" in row.last_error
    assert receiver.requests == []


def test_a_redirect_is_not_followed(endpoint, sales1):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        WebhookEndpoint.objects.update(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
        make_order(sales1, CustomerFactory(owner=sales1))
        webhooks.deliver(WebhookDelivery.objects.get().pk)
    finally:
        server.shutdown()
        server.server_close()
    row = WebhookDelivery.objects.get()
    assert (row.status, row.response_code, row.last_error) == ("pending", 307, "HTTP 307")
