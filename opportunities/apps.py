from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "opportunities"
    verbose_name = _("Opportunities")

    def ready(self):
        from opportunities.timeline import register_sources

        register_sources()
