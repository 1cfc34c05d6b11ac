"""Pieces every app's models share: timestamps and the visibility rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.db.models.sql.where import AND, WhereNode
from django.utils.translation import gettext_lazy as _

from accounts.scope import visibility_scope

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


ModelT = TypeVar("ModelT", bound=models.Model)


class VisibleQuerySet(models.QuerySet[ModelT]):
    """Rows a user may see, by the sharing rule of accounts/scope.py: managers and the system (None) see
    all, a team lead what the team's members own or are assigned, everyone else their own.

    `owner_path` names the users a row belongs to, through its own columns (its owner, its assignee)
    or through a relation (e.g. "customer__owner": a deal on a customer one owns); a tuple of paths
    makes a row visible to each user any of them names. A path through a relation is matched on the
    row's own foreign key (`customer_id IN (SELECT id FROM customer WHERE owner_id IN …)`), never by a
    join, so a list still walks its own sort index and stops at the page's end. `visible_with` instead
    makes a row visible exactly when the record it hangs off is (an order's lines, events and payments).

    Rows visible through several paths remember the condition on the first of their own columns
    (`owned_in_own_columns`): a subset one index answers, which a bounded count reads first.
    """

    owner_path: str | tuple[str, ...] = "owner"
    visible_with: str | None = None
    # When visible_to let rows in through several paths: the condition it added, and the one on the
    # first own column alone (carried along as the queryset is filtered further).
    _own_columns_in_place_of: tuple[object, WhereNode] | None = None

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]  # not in django-stubs
        clone._own_columns_in_place_of = self._own_columns_in_place_of
        return clone

    def visible_to(self, user: User | AnonymousUser | None) -> Self:
        scope = visibility_scope(user)
        if scope.user_ids is None:
            return self
        if not scope.user_ids:
            return self.none()
        if self.visible_with is not None:
            parent = self.model._meta.get_field(self.visible_with).related_model
            visible_parents = parent._default_manager.all().visible_to(user).order_by().values("pk")  # type: ignore[union-attr]
            return self.filter(**{f"{self.visible_with}__in": visible_parents})
        ids = sorted(scope.user_ids)
        paths = owner_paths(self)
        condition = Q()
        for path in paths:
            condition |= self._owned_by(path, ids)
        visible = self.filter(condition)
        own_columns = [path for path in paths if "__" not in path]
        if own_columns and len(paths) > 1:
            own_condition = Q(**{f"{own_columns[0]}__in": ids})
            own_clause = self.model._base_manager.filter(own_condition).query.where
            visible._own_columns_in_place_of = (visible.query.where.children[-1], own_clause)
        return visible

    def owned_in_own_columns(self) -> Self | None:
        """These rows, only those whose first own owner column names a user of the scope visible_to
        applied (an order its owner sees, not one seen through its customer's owner): a subset of them
        that an index on the column answers alone, for visible_to's condition is replaced, not added
        to. None when one path lets rows in (the subset would be all of them) or the condition is not
        found as one of the filters that all apply."""
        where = self.query.where
        if self._own_columns_in_place_of is None or where.connector != AND or where.negated:
            return None
        visibility, own = self._own_columns_in_place_of
        if visibility not in where.children:
            return None
        owned = self.all()
        owned.query.where.children = [own if child == visibility else child for child in where.children]
        return owned

    def visible_parts(self, user: User | AnonymousUser | None) -> list[Self]:
        """What `visible_to` keeps, as disjoint parts that each filter one of the row's own owner columns
        (the first, then the second without the rows the first has...): for an aggregate over all of
        them, which then reads one index per part instead of an OR across the table. One part when
        the rule goes through a relation, or the user sees everything."""
        scope = visibility_scope(user)
        paths = owner_paths(self)
        if scope.user_ids is None or any("__" in path for path in paths):
            return [self.visible_to(user)]
        ids = sorted(scope.user_ids)
        parts = []
        for index, path in enumerate(paths):
            part = self.filter(**{f"{path}__in": ids})
            for earlier in paths[:index]:
                part = part.exclude(**{f"{earlier}__in": ids})
            parts.append(part)
        return parts

    def visible_by_join(self, user: User | AnonymousUser | None) -> Self:
        """The rows `visible_to` keeps, tested on each row through joins to the rows its owner paths
        name (`owner_id IN … OR customer.owner_id IN …`): for a query that starts from a few rows an
        index found (a search), which then costs one lookup per row instead of a set of everything
        the user owns."""
        scope = visibility_scope(user)
        if scope.user_ids is None:
            return self
        ids = sorted(scope.user_ids)
        condition = Q(pk__in=[])
        for path in owner_paths(self):
            condition |= Q(**{f"{path}__in": ids})
        return self.filter(condition)

    def _owned_by(self, path: str, ids: list[int]) -> Q:
        """Rows whose `path` names one of the users `ids`. Through a relation ("customer__owner"), the
        row's own foreign key is matched against the related rows those users own: one index-only
        scan, hashed once, that the row's list walks in its own order and stops early on."""
        relation, _through, owner = path.rpartition("__")
        if not relation:
            return Q(**{f"{path}__in": ids})
        related = self.model._meta.get_field(relation).related_model
        owned = related._base_manager.using(self.db).filter(**{f"{owner}__in": ids}).order_by().values("pk")  # type: ignore[union-attr]
        return Q(**{f"{relation}__in": owned})


def owner_paths(records: models.QuerySet[Any]) -> tuple[str, ...]:
    """The owner paths a queryset names (empty for records without owners, e.g. products)."""
    paths = getattr(records, "owner_path", None)
    if paths is None:
        return ()
    return (paths,) if isinstance(paths, str) else tuple(paths)


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
