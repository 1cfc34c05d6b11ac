"""Roles: the groups every user belongs to, and the permissions each group holds.

Sales staff see and change what they own or are assigned; team leads what their team's members own
(accounts/scope.py); managers see everything and use the admin.
The groups are created by a data migration; their permissions are synchronised after
every migrate, so the models a later migration adds are covered without another step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, Permission, User

SALES = "Sales"
TEAM_LEADS = "Team leads"
MANAGERS = "Managers"
ROLES = (SALES, TEAM_LEADS, MANAGERS)

CRM_APPS = ("customers", "orders", "opportunities", "followups")
# The attribute of a user (request.user's lazy object passes it on) holding is_manager's answer.
IS_MANAGER_CACHE = "_crm_is_manager"

# Which permission actions each role holds in each CRM app ("*" means every permission).
ROLE_PERMISSIONS: dict[str, dict[str, str | tuple[str, ...]]] = {
    MANAGERS: dict.fromkeys(CRM_APPS, "*") | {"auth": ("view",)},
    SALES: dict.fromkeys(CRM_APPS, ("view", "add", "change")),
    TEAM_LEADS: dict.fromkeys(CRM_APPS, ("view", "add", "change")),
}


def is_manager(user: User | AnonymousUser) -> bool:
    """True for superusers and members of Managers; cached on the user for the request."""
    if not user.is_authenticated:
        return False
    cached: bool | None = getattr(user, IS_MANAGER_CACHE, None)
    if cached is None:
        cached = user.is_superuser or user.groups.filter(name=MANAGERS).exists()
        setattr(user, IS_MANAGER_CACHE, cached)
    return cached


def sync_role_permissions(using: str = "default", **kwargs: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    for group_name, apps in ROLE_PERMISSIONS.items():
        # get_or_create: a database flush (as tests do) also runs this, after removing the groups.
        group, _created = Group.objects.using(using).get_or_create(name=group_name)
        wanted: list[Permission] = []
        for app_label, actions in apps.items():
            permissions = Permission.objects.using(using).filter(content_type__app_label=app_label)
            wanted.extend(
                permission
                for permission in permissions
                if actions == "*" or permission.codename.split("_", 1)[0] in actions
            )
        group.permissions.set(wanted)
