"""One exception handler for the whole API: every refusal is JSON, none is a 500.

- a service's or a serializer's ValidationError → 400 `{"detail": …, "errors": {field: [messages]}}`
  (a service's messages for the whole record are under "non_field_errors");
- a concurrent change (OrderConflict, OpportunityConflict, a transition saved over a newer one, a
  uniqueness race) → 409 with the record's current state where there is one;
- PermissionDenied → 403 with the service's message; Http404 (a record one may not see) → 404;
- DRF's own (401, 405, 406, 415, 429 with Retry-After) keep their status, in the same shape.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

NON_FIELD = "non_field_errors"


def _field_errors(error: ValidationError) -> dict[str, list[str]]:
    if not hasattr(error, "error_dict"):
        return {NON_FIELD: error.messages}
    return {(NON_FIELD if name == "__all__" else name): texts for name, texts in error.message_dict.items()}


def _current_state(error: ValidationError) -> dict[str, Any]:
    """What the record is now, for a conflict: an order's status, an opportunity's stage."""
    if hasattr(error, "current_status"):
        return {"status": error.current_status}
    stage = getattr(error, "current_stage", None)
    return {"stage": stage.pk, "stage_code": stage.code} if stage is not None else {}


def _is_conflict(error: ValidationError) -> bool:
    return getattr(error, "code", None) == "conflict"


def _validation_response(errors: dict[str, Any]) -> Response:
    messages = errors.get(NON_FIELD)
    detail = " ".join(str(m) for m in messages) if messages else _("Some fields are not valid.")
    return Response({"detail": detail, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ValidationError):
        set_rollback()
        if _is_conflict(exc):
            return Response(
                {"detail": " ".join(exc.messages), "current": _current_state(exc)},
                status=status.HTTP_409_CONFLICT,
            )
        return _validation_response(_field_errors(exc))
    if isinstance(exc, ConcurrentTransition | IntegrityError):
        set_rollback()
        return Response(
            {"detail": _("Someone else changed this record meanwhile. Nothing was changed; try again.")},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {NON_FIELD: exc.detail}
        set_rollback()
        return _validation_response(errors)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()  # the same answer whether the record exists or not
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)
