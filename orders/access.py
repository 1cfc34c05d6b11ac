"""Who may change an order, who may approve one, and the only way pages fetch one by id (crm/access.py
explains the pattern)."""

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.scope import visibility_scope
from crm.access import access, acts_as_manager, acts_for, require
from crm.fields import parse_id
from crm.roles import is_team_lead
from orders.models import ApprovalRequest, Order, Product


def can_change_order(actor: User | None, order: Order) -> bool:
    """The write rule of an order, its lines and payments: its owner, its customer's owner, their team
    lead, managers and the system."""
    return acts_for(actor, order.owner_id, order.customer.owner_id)


def require_change_order(actor: User | None, order: Order) -> None:
    require(can_change_order(actor, order), _("You may not change this order."))


def access_order(user: User | None, pk: object, *, for_write: bool = False) -> Order:
    return access(
        Order.objects.select_related("customer", "owner", "source_opportunity"),
        user,
        pk,
        can_change=can_change_order,
        for_write=for_write,
    )


def access_product(user: User | None, pk: object, *, for_write: bool = False) -> Product:
    """A product by id: everyone signed in sees the catalogue; the services let managers change it."""
    product_id = parse_id(pk)
    if product_id is None:
        raise Http404
    try:
        return Product.objects.get(pk=product_id)
    except Product.DoesNotExist:
        raise Http404 from None


# Approvals. The one place that says who approves: managers (and the system) approve every order; a
# team lead approves the orders of their team's members, never their own.


def approvable_orders(actor: User | None) -> Q | None:
    """The orders `actor` may approve, as a filter on Order; None when they approve none."""
    if acts_as_manager(actor):
        return Q()
    if actor is not None and is_team_lead(actor):
        members = (visibility_scope(actor).user_ids or frozenset()) - {actor.pk}
        return Q(owner_id__in=members) if members else None
    return None


def can_approve(actor: User | None, order: Order) -> bool:
    scope = approvable_orders(actor)
    if scope is None:
        return False
    return scope == Q() or Order.objects.filter(scope, pk=order.pk).exists()


def approvals_for(user: User | None) -> QuerySet[ApprovalRequest]:
    """The approval requests `user` may decide (all states; the queue narrows to pending)."""
    scope = approvable_orders(user)
    if scope is None:
        return ApprovalRequest.objects.none()
    if scope == Q():
        return ApprovalRequest.objects.all()
    return ApprovalRequest.objects.filter(order__in=Order.objects.filter(scope))


def access_approval(user: User | None, pk: object) -> ApprovalRequest:
    """An approval request the user may decide, with its order; 404 otherwise."""
    return access(
        approvals_for(user).select_related("order__customer", "requested_by"),
        user,
        pk,
        can_change=lambda actor, approval: can_approve(actor, approval.order),
        for_write=True,
    )
