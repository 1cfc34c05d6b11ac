"""Who may change an opportunity, and the only way pages fetch one by id (crm/access.py explains the
pattern)."""

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from crm.access import access, acts_for, require
from opportunities.models import Opportunity


def can_change_opportunity(actor: User | None, opportunity: Opportunity) -> bool:
    """The write rule of an opportunity: its owner, its customer's owner, their team lead, managers and
    the system (the same rule as for orders)."""
    return acts_for(actor, opportunity.owner_id, opportunity.customer.owner_id)


def require_change_opportunity(actor: User | None, opportunity: Opportunity) -> None:
    require(can_change_opportunity(actor, opportunity), _("You may not change this opportunity."))


def access_opportunity(user: User | None, pk: object, *, for_write: bool = False) -> Opportunity:
    return access(
        Opportunity.objects.select_related("customer", "owner", "stage", "order"),
        user,
        pk,
        can_change=can_change_opportunity,
        for_write=for_write,
    )
