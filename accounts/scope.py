"""A user's visibility scope: whose records they see and change.

- managers, superusers and the system (None): everything;
- a team lead: what any member of their team owns or is assigned (their own included);
- everyone else signed in: what they own or are assigned;
- nobody else: nothing.

`crm.models.VisibleQuerySet.visible_to` and `crm.access` read the rule from here and nowhere else.
The answer is cached on the user object for the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm.roles import TEAM_LEADS, is_manager, is_team_lead

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

SCOPE_CACHE = "_crm_scope"
# The ids of the members of the user's team, when they were read with the user.
TEAM_CACHE = "_crm_team"


@dataclass(frozen=True)
class Scope:
    """`user_ids` None means every user's records; an empty set means none."""

    kind: str  # "all", "team", "own" or "none"
    user_ids: frozenset[int] | None

    @property
    def sees_all(self) -> bool:
        return self.user_ids is None

    def covers(self, *user_ids: int | None) -> bool:
        """Whether a record belonging to any of these users is within the scope."""
        if self.user_ids is None:
            return True
        return any(user_id in self.user_ids for user_id in user_ids if user_id is not None)


ALL = Scope("all", None)
NONE = Scope("none", frozenset())


def visibility_scope(user: User | AnonymousUser | None) -> Scope:
    """The one answer to "whose records does this user see and change?"."""
    if user is None:
        return ALL
    if not user.is_authenticated:
        return NONE
    cached: Scope | None = getattr(user, SCOPE_CACHE, None)
    if cached is None:
        cached = _compute(user)
        setattr(user, SCOPE_CACHE, cached)
    return cached


def _compute(user: User) -> Scope:
    if is_manager(user):
        return ALL
    if is_team_lead(user):
        members = team_member_ids(user)
        if members:
            return Scope("team", frozenset(members) | {user.pk})
    return Scope("own", frozenset({user.pk}))


def team_member_ids(user: User) -> list[int]:
    """The ids of every member of the user's team (the user included); empty without a team. Read with
    the user when it comes from the session (accounts/backends.py), else in one query."""
    from accounts.models import Membership

    known: list[int] | None = getattr(user, TEAM_CACHE, None)
    if known is not None:
        return known
    return list(Membership.objects.filter(team__memberships__user=user).values_list("user_id", flat=True))


def leads_of(user_id: int) -> list[int]:
    """The ids of the active team leads of the user's team (for approvals and notifications)."""
    from django.contrib.auth.models import User

    return list(
        User.objects.filter(
            is_active=True,
            groups__name=TEAM_LEADS,
            membership__team__memberships__user_id=user_id,
        ).values_list("pk", flat=True)
    )


def is_lead_of(actor: User | None, user_id: int | None) -> bool:
    """Whether `actor` leads the team `user_id` belongs to (not true of managers as such)."""
    if actor is None or user_id is None or not actor.is_authenticated:
        return False
    return is_team_lead(actor) and user_id in team_member_ids(actor)
