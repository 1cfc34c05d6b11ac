"""Who may change a communication or a follow-up, and the only way pages fetch them by id
(crm/access.py explains the pattern)."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.http import Http404
from django.utils.translation import gettext as _

from crm.access import access, acts_for, require
from customers.access import access_customer, access_customer_card, can_change_customer
from customers.models import Customer
from followups.models import Communication, FollowUp
from opportunities.access import access_opportunity, can_change_opportunity
from orders.access import access_order, can_change_order


def can_change_communication(actor: User | None, communication: Communication) -> bool:
    """The write rule of a communication: its staff member, its customer's owner, their team lead,
    managers and the system."""
    return acts_for(actor, communication.staff_id, communication.customer.owner_id)


def can_change_followup(actor: User | None, followup: FollowUp) -> bool:
    """The write rule of a follow-up: its assignee, its customer's owner, their team lead, managers and
    the system."""
    return acts_for(actor, followup.assignee_id, followup.customer.owner_id)


def require_change_communication(actor: User | None, communication: Communication) -> None:
    require(can_change_communication(actor, communication), _("You may not change this communication."))


def require_change_followup(actor: User | None, followup: FollowUp) -> None:
    require(can_change_followup(actor, followup), _("You may not change this follow-up."))


def access_communication(user: User | None, pk: object, *, for_write: bool = False) -> Communication:
    return access(
        Communication.objects.select_related("customer", "staff", "contact_person", "order", "opportunity"),
        user,
        pk,
        can_change=can_change_communication,
        for_write=for_write,
    )


def access_followup(user: User | None, pk: object, *, for_write: bool = False) -> FollowUp:
    return access(
        FollowUp.objects.select_related(
            "customer",
            "assignee",
            "order",
            "opportunity",
            "contact_person",
            "completed_by",
            "created_by",
        ),
        user,
        pk,
        can_change=can_change_followup,
        for_write=for_write,
    )


def may_add_to(actor: User | None, customer: Customer, links: Mapping[str, Any]) -> bool:
    """Who may log a communication or schedule a follow-up on a customer: whoever may change the customer,
    and whoever may change the deal or order of that customer it is linked to (an agent working their
    deal on another agent's customer logs their conversations about it)."""
    if can_change_customer(actor, customer):
        return True
    opportunity, order = links.get("opportunity"), links.get("order")
    return (
        opportunity is not None
        and opportunity.customer_id == customer.pk
        and can_change_opportunity(actor, opportunity)
    ) or (order is not None and order.customer_id == customer.pk and can_change_order(actor, order))


def access_customer_to_add(user: User | None, pk: object, asked: Mapping[str, object]) -> Customer:
    """The customer a communication or follow-up is added to: one the user may change, or one they work
    the deal or order on that the request names (`asked`: its "opportunity" / "order" ids); else 404."""
    try:
        return access_customer(user, pk, for_write=True)
    except Http404:
        customer = access_customer_card(user, pk)
    links: dict[str, Any] = {}
    for name, fetch in (("opportunity", access_opportunity), ("order", access_order)):
        if asked.get(name):
            try:
                links[name] = fetch(user, asked[name], for_write=True)
            except Http404:
                continue
    if not may_add_to(user, customer, links):
        raise Http404
    return customer
