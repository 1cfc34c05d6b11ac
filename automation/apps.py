from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        from automation import signals, timeline

        timeline.register_sources()
        signals.connect()
