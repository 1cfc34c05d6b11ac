"""Who may change an order, and the only way pages fetch one by id (crm/access.py explains the pattern)."""

from django.contrib.auth.models import User
from django.http import Http404
from django.utils.translation import gettext as _

from crm.access import access, acts_for, require
from crm.fields import parse_id
from orders.models import Order, Product


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
