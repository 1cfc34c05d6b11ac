"""Who may change a communication or a follow-up, and the only way pages fetch them by id
(crm/access.py explains the pattern)."""

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from crm.access import access, acts_for, require
from followups.models import Communication, FollowUp


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
