"""`Idempotency-Key` on every POST of the API: a retried request gets the first answer and writes nothing.

The key (1–255 visible ASCII characters, chosen by the client, e.g. a UUID) is scoped to the user. The
first request with a key inserts its row before it runs, in the same transaction as everything it
writes, and stores its answer (a success or a refusal) in that row; a request that fails with a server
error rolls back, leaving no row, so it can be retried. A retry with the same key and the same method,
path and body gets the stored answer, marked `Idempotent-Replayed: true`; the same key with another
request answers 422. Two requests with the same key at once queue on the key's unique index: the second
gets the first's answer once the first commits.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from crm.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

Handler = Callable[..., Response]


def _key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not (1 <= len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable() and key.strip() == key):
        raise ValidationError({HEADER: [_("Send 1 to 255 visible ASCII characters, such as a UUID.")]})
    return key


def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256((request.method or "").encode())
    digest.update(request.get_full_path().encode())
    digest.update(b"\0")
    digest.update(request._request.body)
    return digest.hexdigest()


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        return Response(
            {"detail": _("This Idempotency-Key was sent with another request; use a new key for it.")},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    response = Response(stored.response, status=stored.status_code)
    response[REPLAYED] = "true"
    return response


def idempotent(handler: Handler, handle_exception: Callable[[Exception], Response]) -> Handler:
    """The POST handler of a view (whose permission requires a signed-in user), made idempotent for
    requests that carry the header."""

    def run(request: Request, *args: Any, **kwargs: Any) -> Response:
        user = request.user
        assert isinstance(user, User)
        key = _key(request)
        if key is None:
            return handler(request, *args, **kwargs)
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
            except IntegrityError:
                return _replay(IdempotencyKey.objects.get(user=user, key=key), fingerprint)
            try:
                response = handler(request, *args, **kwargs)
            except Exception as error:
                response = handle_exception(error)
            record.status_code = response.status_code
            record.response = json.loads(JSONRenderer().render(response.data) or b"null")
            record.save(update_fields=["status_code", "response"])
        return response

    return run


def prune(now: Any = None) -> int:
    """Forgets the keys older than settings.API_IDEMPOTENCY_HOURS; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    deleted, _kinds = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
