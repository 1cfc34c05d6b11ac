"""In-app notifications: written by services and rules, read in the header's bell and /notifications/."""

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from automation.models import Notification, NotificationPreference, OutgoingEmail


def notify(*, user: User, message: str, url: str = "") -> Notification:
    """Tells `user` something in the app, and by e-mail when they asked for it (both in the caller's
    transaction: only if that commits)."""
    notification = Notification.objects.create(
        user=user, message=" ".join(message.split())[:300], url=url[:200]
    )
    if user.email and wants_email(user):
        _email(notification)
    return notification


def wants_email(user: User) -> bool:
    return NotificationPreference.objects.filter(user=user, email=True).exists()


def _email(notification: Notification) -> None:
    from automation.outbox import queue_email

    link = (
        f"{settings.SITE_URL}{notification.url}"
        if settings.SITE_URL and notification.url.startswith("/")
        else ""
    )
    queue_email(
        kind=OutgoingEmail.Kind.NOTIFICATION,
        to=notification.user.email,
        subject=notification.message[:200],
        body="\n\n".join(part for part in (notification.message, link) if part),
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
