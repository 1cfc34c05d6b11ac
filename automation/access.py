"""The only way the automation pages get a record by id: 404 for what the user may not reach.

Rules, the outbox and webhooks are managers' (the views also refuse everyone else with 403); a
notification and a background export are their user's alone, whatever their role.
"""

from typing import TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.http import Http404

from automation import exports, notifications, selectors
from automation.models import (
    AutomationRule,
    BackgroundExport,
    Notification,
    OutgoingEmail,
    WebhookDelivery,
    WebhookEndpoint,
)
from crm.access import acts_as_manager
from crm.fields import parse_id

RecordT = TypeVar("RecordT", bound=Model)


def _get(records: QuerySet[RecordT], pk: object) -> RecordT:
    record_id = parse_id(pk)
    if record_id is None:
        raise Http404
    try:
        return records.get(pk=record_id)
    except ObjectDoesNotExist:
        raise Http404 from None


def _managers(user: User, records: QuerySet[RecordT], pk: object) -> RecordT:
    if not acts_as_manager(user):
        raise Http404
    return _get(records, pk)


def access_rule(user: User, pk: object) -> AutomationRule:
    return _managers(user, selectors.rules(), pk)


def access_email(user: User, pk: object) -> OutgoingEmail:
    return _managers(user, selectors.outbox(), pk)


def access_endpoint(user: User, pk: object) -> WebhookEndpoint:
    return _managers(user, selectors.endpoints(), pk)


def access_delivery(user: User, pk: object) -> WebhookDelivery:
    return _managers(user, WebhookDelivery.objects.select_related("endpoint"), pk)


def access_export(user: User, pk: object) -> BackgroundExport:
    """One of the user's own background exports: anyone else's is a 404, whatever their role."""
    return _get(exports.for_user(user), pk)


def access_notification(user: User, pk: object) -> Notification:
    return _get(notifications.for_user(user), pk)
