"""Who may change a customer and what hangs off it, and the only way pages fetch them by id.

Contact methods, contact persons and needs belong to their customer: who may change the customer
may change them (crm/access.py explains the pattern).
"""

from django.contrib.auth.models import User
from django.http import Http404
from django.utils.translation import gettext as _

from crm.access import access, acts_for, require
from crm.fields import parse_id
from customers.models import ContactMethod, ContactPerson, Customer, Need


def can_change_customer(actor: User | None, customer: Customer) -> bool:
    """The write rule of a customer and its parts: its owner, their team lead, managers and the system."""
    return acts_for(actor, customer.owner_id)


def require_change_customer(actor: User | None, customer: Customer) -> None:
    require(can_change_customer(actor, customer), _("You may not change this customer."))


def _can_change_part(actor: User | None, part: ContactMethod | ContactPerson | Need) -> bool:
    return can_change_customer(actor, part.customer)


def access_customer(user: User | None, pk: object, *, for_write: bool = False) -> Customer:
    return access(
        Customer.objects.select_related("owner"),
        user,
        pk,
        can_change=can_change_customer,
        for_write=for_write,
    )


def access_customer_card(user: User | None, pk: object) -> Customer:
    """The customer whose card (name, contact methods and persons) the user may read because they work a
    deal, order, follow-up or conversation of theirs on it, though they do not own it; 404 otherwise.

    Read only: it never grants a write, nor the customer's other records.
    """
    customer_id = parse_id(pk)
    if customer_id is None:
        raise Http404
    customer = Customer.objects.select_related("owner").filter(pk=customer_id).first()
    if customer is None or not works_on(user, customer):
        raise Http404
    return customer


def works_on(user: User | None, customer: Customer) -> bool:
    """Whether a record on the customer the user sees is theirs: one EXISTS per kind of record."""
    from followups.models import Communication, FollowUp
    from opportunities.models import Opportunity
    from orders.models import Order

    return (
        Opportunity.objects.visible_to(user).filter(customer=customer).exists()
        or Order.objects.visible_to(user).filter(customer=customer).exists()
        or FollowUp.objects.visible_to(user).filter(customer=customer).exists()
        or Communication.objects.visible_to(user).filter(customer=customer).exists()
    )


def access_contact_method(user: User | None, pk: object, *, for_write: bool = False) -> ContactMethod:
    return access(
        ContactMethod.objects.select_related("customer"),
        user,
        pk,
        can_change=_can_change_part,
        for_write=for_write,
    )


def access_contact_person(user: User | None, pk: object, *, for_write: bool = False) -> ContactPerson:
    return access(
        ContactPerson.objects.select_related("customer"),
        user,
        pk,
        can_change=_can_change_part,
        for_write=for_write,
    )


def access_need(user: User | None, pk: object, *, for_write: bool = False) -> Need:
    return access(
        Need.objects.select_related("customer"), user, pk, can_change=_can_change_part, for_write=for_write
    )
