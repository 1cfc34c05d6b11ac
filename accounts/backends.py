"""Signing in: Django's model backend, reading the user's roles and team with the user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import F

from accounts.scope import TEAM_CACHE
from crm.roles import remember_roles, with_roles


class RolesWithUserBackend(ModelBackend):
    """Django's ModelBackend; the user of a session is read with their roles (crm/roles.py) and the
    members of their team (accounts/scope.py) in one query, where reading them apart took three for a
    team lead and two for everyone else, on every request.

    The query joins the user to each member of their team: one row per member (one row without a team).
    """

    def get_user(self, user_id: Any) -> Any:
        users = get_user_model()._default_manager.filter(pk=user_id)
        rows = list(with_roles(users).annotate(team_member_id=F("membership__team__memberships__user")))
        if not rows or not self.user_can_authenticate(rows[0]):
            return None
        user = rows[0]
        remember_roles(user)
        setattr(user, TEAM_CACHE, [row.team_member_id for row in rows if row.team_member_id is not None])
        return user
