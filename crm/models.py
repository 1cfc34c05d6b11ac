"""Pieces every app's models share: timestamps and the visibility rule."""

from functools import reduce
from operator import or_
from typing import Self

from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.roles import is_manager


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class VisibleQuerySet(models.QuerySet):
    """Rows a user may see: managers and the system (None) see all, everyone else what they own.

    `owner_path` names the user a row belongs to, following relations where the row hangs
    off something owned (e.g. "customer__owner"); a tuple of paths makes a row visible to
    each user any of them names (e.g. the customer's owner and the task's assignee).
    """

    owner_path = "owner"

    def visible_to(self, user: User | AnonymousUser | None) -> Self:
        if user is None or is_manager(user):
            return self
        if not user.is_authenticated:
            return self.none()
        paths = (self.owner_path,) if isinstance(self.owner_path, str) else self.owner_path
        return self.filter(reduce(or_, (Q(**{path: user}) for path in paths)))
