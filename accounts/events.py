"""One function per fact about a user account: the only code that writes a UserEvent."""

from django.contrib.auth.models import User

from accounts.models import UserEvent, UserEventType


def user_deactivated(*, user: User, actor: User | None, successor: User, moved: dict[str, int]) -> UserEvent:
    """`moved`: how many customers, opportunities, orders and follow-ups went to the successor."""
    return UserEvent.objects.create(
        user=user,
        actor=actor,
        type=UserEventType.DEACTIVATED,
        parameters={"successor": successor.pk, **moved},
    )


def user_reactivated(*, user: User, actor: User | None) -> UserEvent:
    return UserEvent.objects.create(user=user, actor=actor, type=UserEventType.REACTIVATED)
