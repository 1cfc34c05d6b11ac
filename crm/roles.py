"""Roles: the groups every user belongs to, and the permissions each group holds.

Sales staff see and change what they own; managers see everything and use the admin.
The groups are created by a data migration; their permissions are synchronised after
every migrate, so the models a later migration adds are covered without another step.
"""

SALES = "Sales"
MANAGERS = "Managers"

CRM_APPS = ("customers", "orders", "opportunities", "followups")

# Which permission actions each role holds in each CRM app ("*" means every permission).
ROLE_PERMISSIONS = {
    MANAGERS: dict.fromkeys(CRM_APPS, "*") | {"auth": ("view",)},
    SALES: dict.fromkeys(CRM_APPS, ("view", "add", "change")),
}


def is_manager(user):
    """True for superusers and members of Managers; cached on the user for the request."""
    if not user.is_authenticated:
        return False
    if not hasattr(user, "_crm_is_manager"):
        user._crm_is_manager = user.is_superuser or user.groups.filter(name=MANAGERS).exists()
    return user._crm_is_manager


def sync_role_permissions(using="default", **kwargs):
    from django.contrib.auth.models import Group, Permission

    for group_name, apps in ROLE_PERMISSIONS.items():
        # get_or_create: a database flush (as tests do) also runs this, after removing the groups.
        group, _created = Group.objects.using(using).get_or_create(name=group_name)
        wanted = []
        for app_label, actions in apps.items():
            permissions = Permission.objects.using(using).filter(content_type__app_label=app_label)
            if actions != "*":
                permissions = [p for p in permissions if p.codename.split("_", 1)[0] in actions]
            wanted.extend(permissions)
        group.permissions.set(wanted)
