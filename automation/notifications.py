"""In-app notifications: written by services and rules, read in the header's bell and /notifications/."""

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from automation.models import Notification


def notify(*, user: User, message: str, url: str = "") -> Notification:
    """Tells `user` something in the app (in the caller's transaction: only if that commits)."""
    return Notification.objects.create(user=user, message=" ".join(message.split())[:300], url=url[:200])


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
