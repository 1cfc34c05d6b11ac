"""Pieces every app's models share: timestamps and the visibility rule."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.roles import is_manager


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class VisibleQuerySet(models.QuerySet):
    """Rows a user may see: managers see all, everyone else what they own.

    `owner_path` names the user a row belongs to, following relations where the row hangs
    off something owned (e.g. "customer__owner").
    """

    owner_path = "owner"

    def visible_to(self, user):
        if is_manager(user):
            return self
        if not user.is_authenticated:
            return self.none()
        return self.filter(**{self.owner_path: user})
