"""Webhooks: signed JSON deliveries of the CRM's events to the endpoints managers register.

A delivery is a row written in the transaction of the change it reports (automation/signals.py reads
the typed events), sent by a worker like an e-mail (automation/delivery.py: claimed once, retried with
backoff, failed after OUTBOX_MAX_ATTEMPTS). Each POST carries

    Content-Type: application/json
    X-CRM-Event: order.status_changed
    X-CRM-Delivery: <the delivery's id>
    X-CRM-Timestamp: <Unix seconds when it was sent>
    X-CRM-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret>

and any 2xx answer counts as received; a redirect is not followed (it counts as a failure). Endpoints
must be public: an address that resolves to a private, loopback, link-local or reserved IP is refused
when it is saved and again before each POST (DNS may have changed since), so a webhook cannot be
pointed at the CRM's own network; WEBHOOK_ALLOW_PRIVATE_ADDRESSES lifts this for an intranet receiver.
An endpoint whose deliveries failed for good WEBHOOK_PAUSE_AFTER_FAILURES times in a row is paused
(managers are notified) until a manager resumes it.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automation import delivery
from automation.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from automation.notifications import notify
from crm.access import require_manager
from crm.roles import MANAGERS

logger = logging.getLogger(__name__)

PAYLOAD_VERSION = 1


def payload(event_type: str, data: dict[str, Any], occurred_at: datetime | None = None) -> dict[str, Any]:
    """The versioned JSON document of one event (see README, "Webhooks")."""
    return {
        "version": PAYLOAD_VERSION,
        "id": str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": (occurred_at or timezone.now()).isoformat(),
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def queue_delivery(*, endpoint: WebhookEndpoint, document: dict[str, Any]) -> WebhookDelivery:
    """One delivery of `document` to `endpoint`, sent once the caller's transaction commits."""
    from automation.tasks import deliver_webhook

    row = WebhookDelivery.objects.create(endpoint=endpoint, event_type=document["type"], payload=document)
    deliver_webhook.enqueue(row.pk)
    return row


def queue_event(event_type: str, data: dict[str, Any], occurred_at: datetime | None = None) -> int:
    """Queues the event for every active endpoint that subscribes to its type; returns how many."""
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(active=True, paused_at__isnull=True)
        if event_type in endpoint.event_types
    ]
    if endpoints:
        document = payload(event_type, data, occurred_at)
        for endpoint in endpoints:
            queue_delivery(endpoint=endpoint, document=document)
    return len(endpoints)


REFUSED_ADDRESS = gettext_lazy(
    "%(host)s is a private or reserved address (%(address)s); webhooks go to public addresses only."
)


def refused_address(url: str) -> str:
    """Why webhooks may not go to `url` (its host resolves to a non-public address), or ''. A host that
    does not resolve is not refused here: the POST then fails and says so."""
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return ""
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return ""
    for address in sorted(addresses):
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            return REFUSED_ADDRESS % {"host": host, "address": address}
    return ""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx code


_opener = urllib.request.build_opener(_NoRedirects)


def _post(row: WebhookDelivery) -> tuple[int | None, str]:
    """POSTs the delivery; returns the answer's status code (None without one) and an error ('' on 2xx)."""
    refused = refused_address(row.endpoint.url)
    if refused:
        return None, refused
    body = json.dumps(row.payload, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        row.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "CRM-Webhooks/1",
            "X-CRM-Event": row.event_type,
            "X-CRM-Delivery": str(row.pk),
            "X-CRM-Timestamp": timestamp,
            "X-CRM-Signature": sign(row.endpoint.secret, timestamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (OSError, ValueError) as error:  # refused, unreachable, timed out, a bad address
        return None, f"{type(error).__name__}: {error}"


def deliver(delivery_id: int) -> str:
    """Sends one delivery if it is due and its endpoint is not paused; returns its status after."""
    if WebhookDelivery.objects.filter(pk=delivery_id, endpoint__paused_at__isnull=False).exists():
        return "paused"
    row = delivery.claim(WebhookDelivery, delivery_id)
    if row is None:
        return "skipped"
    assert isinstance(row, WebhookDelivery)
    started = time.monotonic()
    code, error = _post(row)
    timing = {"response_code": code, "response_ms": round((time.monotonic() - started) * 1000)}
    if not error:
        delivery.finish(row, **timing)
        WebhookEndpoint.objects.filter(pk=row.endpoint_id).update(consecutive_failures=0)
        return DeliveryStatus.SENT
    logger.warning(
        "Webhook delivery %s to %s failed (attempt %s): %s", row.pk, row.endpoint.url, row.attempts, error
    )
    status = delivery.fail(row, error, **timing)
    if status == DeliveryStatus.PENDING:
        from automation.tasks import deliver_webhook

        deliver_webhook.using(run_after=row.next_attempt_at).enqueue(row.pk)
    else:
        _count_failure(row.endpoint)
    return status


def _count_failure(endpoint: WebhookEndpoint) -> None:
    """One more delivery failed for good; the endpoint is paused once they keep failing."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    paused = WebhookEndpoint.objects.filter(
        pk=endpoint.pk,
        paused_at__isnull=True,
        consecutive_failures__gte=settings.WEBHOOK_PAUSE_AFTER_FAILURES,
    ).update(paused_at=timezone.now())
    if paused:
        _tell_managers(endpoint)


def _tell_managers(endpoint: WebhookEndpoint) -> None:
    managers = User.objects.filter(is_active=True, groups__name=MANAGERS)

    def message() -> str:
        return _("Webhook %(endpoint)s is paused: its deliveries keep failing.") % {"endpoint": endpoint}

    url = reverse("automation:webhook", args=[endpoint.pk])
    for manager in managers:
        notify(user=manager, message=message, url=url)


@transaction.atomic
def resend(*, actor: User | None, row: WebhookDelivery) -> WebhookDelivery:
    """A manager sends a delivery again: a new delivery of the same document (the same event id)."""
    require_manager(actor)
    return queue_delivery(endpoint=row.endpoint, document=row.payload)


@transaction.atomic
def resume(*, actor: User | None, endpoint: WebhookEndpoint) -> int:
    """A manager resumes a paused endpoint: its pending deliveries go out again; returns how many."""
    from automation.tasks import deliver_webhook

    require_manager(actor)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(paused_at=None, consecutive_failures=0)
    pending = list(endpoint.deliveries.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True))
    for pk in pending:
        deliver_webhook.enqueue(pk)
    return len(pending)
