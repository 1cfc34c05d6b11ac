from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.backends.signals import connection_created
from django.db.models import CharField, Field
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CRMAdminConfig(AdminConfig):
    default_site = "crm.admin_site.CRMAdminSite"


class CRMConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM")

    def ready(self) -> None:
        from crm.db import load_dates_outside_the_calendar
        from crm.lookups import AnyOf
        from crm.roles import sync_role_permissions
        from crm.search import Fragment

        CharField.register_lookup(Fragment)
        Field.register_lookup(AnyOf)

        connection_created.connect(load_dates_outside_the_calendar, dispatch_uid="crm.load_dates")

        # Runs after every migrate, when the permissions of newly added models exist.
        post_migrate.connect(sync_role_permissions, dispatch_uid="crm.sync_role_permissions")
