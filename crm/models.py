"""Pieces every app's models share: timestamps and the visibility rule."""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.roles import is_manager

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


ModelT = TypeVar("ModelT", bound=models.Model)


class VisibleQuerySet(models.QuerySet[ModelT]):
    """Rows a user may see: managers and the system (None) see all, everyone else what they own.

    `owner_path` names the user a row belongs to, following relations where the row hangs
    off something owned (e.g. "customer__owner"); a tuple of paths makes a row visible to
    each user any of them names (e.g. the customer's owner and the task's assignee).
    """

    owner_path: str | tuple[str, ...] = "owner"

    def visible_to(self, user: User | AnonymousUser | None) -> Self:
        if user is None or is_manager(user):
            return self
        if not user.is_authenticated:
            return self.none()
        paths = (self.owner_path,) if isinstance(self.owner_path, str) else self.owner_path
        return self.filter(reduce(or_, (Q(**{path: user}) for path in paths)))


def model_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The field `name` of `model`, one it declares (a relation pointing at the model is not one)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise FieldDoesNotExist(f"{model._meta.label}.{name} is a relation to it, not a field of its own.")
    return field


def field_max_length(model: type[models.Model], name: str) -> int:
    """The most characters the text field `name` of `model` holds."""
    max_length = model_field(model, name).max_length
    if max_length is None:
        raise FieldDoesNotExist(f"{model._meta.label}.{name} has no max_length.")
    return max_length


class IdempotencyKey(models.Model):
    """The first answer to a POST that carried an `Idempotency-Key` header (crm/api/idempotency.py).

    A retry with the same key and the same request gets this answer again and writes nothing; the row is
    written in the same transaction as what the request wrote, so a request that failed leaves none.
    """

    user = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("user"), db_index=False
    )
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True)
    response = models.JSONField(_("response"), null=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return self.key
