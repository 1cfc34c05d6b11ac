"""Who may change a customer and what hangs off it, and the only way pages fetch them by id.

Contact methods, contact persons and needs belong to their customer: who may change the customer
may change them (crm/access.py explains the pattern).
"""

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from crm.access import access, acts_for, require
from customers.models import ContactMethod, ContactPerson, Customer, Need


def can_change_customer(actor: User | None, customer: Customer) -> bool:
    """The write rule of a customer and its parts: managers, the system and its owner."""
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
