"""Roles: the groups every user belongs to, and the permissions each group holds.

Sales staff see and change what they own or are assigned; team leads what their team's members own
(accounts/scope.py); managers see everything and use the admin.
The groups are created by a data migration; their permissions are synchronised after
every migrate, so the models a later migration adds are covered without another step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, QuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, Permission, User

SALES = "Sales"
TEAM_LEADS = "Team leads"
MANAGERS = "Managers"
ROLES = (SALES, TEAM_LEADS, MANAGERS)

CRM_APPS = ("customers", "orders", "opportunities", "followups")
# The attribute of a user (request.user's lazy object passes it on) holding their group names.
GROUPS_CACHE = "_crm_groups"

# Which permission actions each role holds in each CRM app ("*" means every permission).
ROLE_PERMISSIONS: dict[str, dict[str, str | tuple[str, ...]]] = {
    MANAGERS: dict.fromkeys(CRM_APPS, "*") | {"auth": ("view",)},
    SALES: dict.fromkeys(CRM_APPS, ("view", "add", "change")),
    TEAM_LEADS: dict.fromkeys(CRM_APPS, ("view", "add", "change")),
}


def group_names(user: User | AnonymousUser) -> frozenset[str]:
    """The roles (of ROLES) the user's groups give them, read once per request and cached on the user:
    with the user when it comes from the session (accounts/backends.py), else in one query."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, GROUPS_CACHE, None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        setattr(user, GROUPS_CACHE, cached)
    return cached


def with_roles(users: QuerySet[User]) -> QuerySet[User]:
    """`users`, each read with whether they hold each role (in the same query); see remember_roles."""
    from django.contrib.auth.models import User

    memberships = User.groups.through.objects.filter(user_id=OuterRef("pk"))
    return users.annotate(**{_holds(role): Exists(memberships.filter(group__name=role)) for role in ROLES})


def remember_roles(user: User) -> None:
    """Caches the roles of a user read through with_roles, so that group_names needs no query."""
    setattr(user, GROUPS_CACHE, frozenset(role for role in ROLES if getattr(user, _holds(role))))


def _holds(role: str) -> str:
    return "holds_" + role.lower().replace(" ", "_")


def is_manager(user: User | AnonymousUser) -> bool:
    """True for superusers and members of Managers."""
    return user.is_authenticated and (user.is_superuser or MANAGERS in group_names(user))


def is_team_lead(user: User | AnonymousUser) -> bool:
    return TEAM_LEADS in group_names(user)


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
