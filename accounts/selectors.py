"""Reads of users and teams for the management pages (managers only; the views check)."""

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Membership, Person, Team
from accounts.scope import visibility_scope
from crm.fields import parse_id
from crm.roles import TEAM_LEADS


def users_for_list() -> QuerySet[User]:
    """Every user with their team and role groups, by name: two queries whatever the number."""
    return (
        User.objects.select_related("membership__team")
        .prefetch_related("groups")
        .order_by("-is_active", "first_name", "last_name", "username")
    )


def teams_for_list() -> QuerySet[Team]:
    """Teams with how many active members they have and their leads: two queries."""
    leads = Membership.objects.filter(user__groups__name=TEAM_LEADS, user__is_active=True).select_related(
        "user"
    )
    return Team.objects.annotate(
        members=Count("memberships", filter=Q(memberships__user__is_active=True))
    ).prefetch_related(Prefetch("memberships", queryset=leads, to_attr="lead_memberships"))


def user_by_id(pk: object) -> User:
    return get_object_or_404(User.objects.select_related("membership__team"), pk=parse_id(pk) or 0)


def team_by_id(pk: object) -> Team:
    return get_object_or_404(Team, pk=parse_id(pk) or 0)


def owner_choices(user: User) -> QuerySet[Person] | None:
    """Whom a list's or report's owner filter offers: managers everyone active, a team lead the active
    members of their team; None (no owner filter) for everyone else."""
    scope = visibility_scope(user)
    if scope.kind == "all":
        return Person.objects.filter(is_active=True)
    if scope.kind == "team" and scope.user_ids is not None:
        return Person.objects.filter(is_active=True, pk__in=sorted(scope.user_ids))
    return None


def team_choices(user: User) -> QuerySet[Team] | None:
    """Which teams a report's team filter offers: managers every team, a team lead their own; None (no
    team filter) for everyone else."""
    scope = visibility_scope(user)
    if scope.kind == "all":
        return Team.objects.all()
    if scope.kind == "team":
        return Team.objects.filter(memberships__user=user)
    return None
