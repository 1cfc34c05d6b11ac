"""In-app notifications: written by services and rules, read in the header's bell and /notifications/."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation

from automation.models import Notification, NotificationPreference, OutgoingEmail


def notify(*, user: User, message: str | Callable[[], str], url: str = "") -> Notification:
    """Tells `user` something in the app, and by e-mail when they asked for it (both in the caller's
    transaction: only if that commits). A `message` the CRM writes is a function giving it in the
    active language: it is stored in English and Chinese, and each reader sees their own; a text (a
    rule's subject, as its author wrote it) is shown as it is."""
    english, chinese = (
        (_in_language("en", message), _in_language("zh-hans", message))
        if callable(message)
        else (message, "")
    )
    notification = Notification.objects.create(
        user=user, message=_tidy(english), message_zh_hans=_tidy(chinese), url=url[:200]
    )
    if user.email and wants_email(user):
        _email(notification)
    return notification


def _in_language(language: str, message: Callable[[], str]) -> str:
    with translation.override(language):
        return message()


def _tidy(text: str) -> str:
    return " ".join(text.split())[:300]


def wants_email(user: User) -> bool:
    return NotificationPreference.objects.filter(user=user, email=True).exists()


def _email(notification: Notification) -> None:
    from automation.outbox import queue_email

    link = (
        f"{settings.SITE_URL}{notification.url}"
        if settings.SITE_URL and notification.url.startswith("/")
        else ""
    )
    with translation.override(settings.LANGUAGE_CODE):
        text = notification.text
    queue_email(
        kind=OutgoingEmail.Kind.NOTIFICATION,
        to=notification.user.email,
        subject=text[:200],
        body="\n\n".join(part for part in (text, link) if part),
    )


@transaction.atomic
def set_email_preference(*, actor: User, email: bool) -> None:
    """The actor's own choice: their notifications by e-mail too, or in the app only."""
    NotificationPreference.objects.update_or_create(user=actor, defaults={"email": email})


def for_user(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_count(user: User) -> int:
    return for_user(user).filter(read_at__isnull=True).count()


def mark_read(*, actor: User, notification_id: int | None = None) -> int:
    """Marks one of the actor's notifications (or all of them) read; returns how many changed."""
    unread = for_user(actor).filter(read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())
