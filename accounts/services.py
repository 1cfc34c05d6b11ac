"""Every write to users and teams: managers add and change people and teams; a new user gets a link to
set their password by e-mail through the outbox, and a manager may send a new link. The stored e-mail
holds a placeholder where the link's token goes: the token is made when the e-mail is sent (a retry or
a later link gets a fresh one) and is never written to the database.

Each service takes the acting user as `actor` (None: the system, e.g. `import_users`), refuses a
forbidden act with PermissionDenied and bad input with a ValidationError keyed by field, having written
nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts import events
from accounts.models import Membership, Team
from accounts.names import display_name
from accounts.scope import SCOPE_CACHE, TEAM_CACHE
from automation.models import OutgoingEmail
from automation.outbox import queue_email
from crm.access import require_manager
from crm.history import change_reason, set_history_context
from crm.roles import GROUPS_CACHE, MANAGERS, ROLES, TEAM_LEADS


def role_of(user: User) -> str:
    """The user's role: Managers, Team leads or Sales (the highest group they are in)."""
    names = {group.name for group in user.groups.all()}
    return next((role for role in (MANAGERS, TEAM_LEADS) if role in names), ROLES[0])


@transaction.atomic
def create_user(
    *,
    actor: User | None,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    team: Team | None = None,
    is_active: bool = True,
    base_url: str = "",
) -> User:
    """A new user with an unusable password; after commit they get a link to set one (`base_url`, e.g.
    https://crm.example.com, is where the link points; SITE_URL by default)."""
    require_manager(actor)
    user = User(is_active=is_active)
    user.set_unusable_password()
    _apply(user, username=username, first_name=first_name, last_name=last_name, email=email, role=role)
    user.save()
    _set_role_and_team(user, role, team)
    _queue_password_link(user, base_url=base_url)
    return user


@transaction.atomic
def update_user(
    *,
    actor: User | None,
    user: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    team: Team | None,
) -> User:
    """Changes a user's name, e-mail, username, role and team (deactivation is `deactivate_user`)."""
    require_manager(actor)
    if actor is not None and user.pk == actor.pk and role != MANAGERS:
        raise ValidationError({"role": _("You cannot take your own manager role away.")})
    current = User.objects.select_for_update().get(pk=user.pk)
    _apply(current, username=username, first_name=first_name, last_name=last_name, email=email, role=role)
    current.save()
    _set_role_and_team(current, role, team)
    return current


def _apply(user: User, *, username: str, first_name: str, last_name: str, email: str, role: str) -> None:
    user.username = username.strip()
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.email = User.objects.normalize_email(email.strip()).lower()
    user.is_staff = role == MANAGERS or user.is_superuser
    errors: dict[str, list[str]] = {}
    if role not in ROLES:
        errors["role"] = [_("Choose a role.")]
    if not user.email:
        errors["email"] = [_("Enter an e-mail address: the link to set a password goes there.")]
    elif User.objects.filter(email__iexact=user.email).exclude(pk=user.pk).exists():
        errors["email"] = [_("Another user has this e-mail address.")]
    if not (user.first_name or user.last_name):
        errors["first_name"] = [_("Enter the person's name.")]
    try:
        user.full_clean(exclude=["password", "last_login", "date_joined"])
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _set_role_and_team(user: User, role: str, team: Team | None) -> None:
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(Group.objects.get(name=role))
    if team is None:
        Membership.objects.filter(user=user).delete()
    else:
        Membership.objects.update_or_create(user=user, defaults={"team": team})
    for cached in (GROUPS_CACHE, SCOPE_CACHE, TEAM_CACHE):
        user.__dict__.pop(cached, None)


# Where a password link's token goes in a stored e-mail (Django's reset token, made at sending).
PASSWORD_TOKEN = "set-password-token"


def password_link(user: User, *, base_url: str, token: str) -> str:
    """The link that lets `user` set a password with `token` (Django's: valid once, for
    PASSWORD_RESET_TIMEOUT)."""
    path = reverse(
        "password_reset_confirm",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token},
    )
    return f"{base_url.rstrip('/')}{path}"


def with_password_token(body: str, user: User) -> str:
    """A stored password-link e-mail's body as it is sent: with a fresh token for `user`."""
    return body.replace(PASSWORD_TOKEN, default_token_generator.make_token(user))


@transaction.atomic
def send_password_link(*, actor: User | None, user: User, base_url: str = "") -> None:
    """A manager sends an active user a new link to set their password (an earlier link keeps working
    until a password is set)."""
    require_manager(actor)
    if not user.is_active:
        raise ValidationError(_("An inactive user gets no password link; reactivate them first."))
    _queue_password_link(user, base_url=base_url)


def _queue_password_link(user: User, *, base_url: str) -> None:
    """Puts the e-mail with the link to set a password in the outbox, in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        link = password_link(user, base_url=base_url or settings.SITE_URL, token=PASSWORD_TOKEN)
        context = {"user": user, "name": display_name(user), "link": link}
        queue_email(
            kind=OutgoingEmail.Kind.PASSWORD_LINK,
            to=user.email,
            subject=_("Your CRM account"),
            body=render_to_string("accounts/email/set_password.txt", context),
            account=user,
        )


@transaction.atomic
def create_team(*, actor: User | None, name: str, region: str = "") -> Team:
    require_manager(actor)
    team = Team(name=" ".join(name.split()), region=region.strip())
    _validate_team(team)
    team.save()
    return team


@transaction.atomic
def update_team(*, actor: User | None, team: Team, name: str, region: str = "") -> Team:
    require_manager(actor)
    current = Team.objects.select_for_update().get(pk=team.pk)
    current.name, current.region = " ".join(name.split()), region.strip()
    _validate_team(current)
    current.save()
    return current


def _validate_team(team: Team) -> None:
    if not team.name:
        raise ValidationError({"name": _("Give the team a name.")})
    team.full_clean()


def handover(user: User) -> dict[str, QuerySet[Any]]:
    """What a leaving user hands to their successor: the customers they own, their open opportunities,
    unfinished orders and open follow-ups."""
    from customers.models import Customer
    from followups.models import FollowUp
    from opportunities.models import Opportunity, Stage
    from orders.models import Order

    return {
        "customers": Customer.objects.filter(owner=user),
        "opportunities": Opportunity.objects.filter(owner=user, stage__kind=Stage.Kind.OPEN),
        "orders": Order.objects.filter(owner=user, status__in=Order.OPEN_STATUSES),
        "followups": FollowUp.objects.filter(assignee=user, status=FollowUp.Status.OPEN),
    }


def handover_counts(user: User) -> dict[str, int]:
    """How many records of each kind `deactivate_user` would move (shown before confirming)."""
    return {kind: records.count() for kind, records in handover(user).items()}


# The column of each kind of record that names the person it belongs to.
HANDOVER_FIELDS = {"customers": "owner", "opportunities": "owner", "orders": "owner", "followups": "assignee"}


@transaction.atomic
def deactivate_user(*, actor: User | None, user: User, successor: User | None) -> dict[str, int]:
    """Deactivates `user` and moves every record `handover` names to `successor`, in one transaction,
    with a history record on each (reason "handed_over") and one summary event; returns the counts.
    Afterwards nothing open is left owned by an inactive user, and they can no longer log in."""
    from summaries.upkeep import count_deals, count_orders, facts_of, uncount_deals, uncount_orders

    require_manager(actor)
    current = User.objects.select_for_update().get(pk=user.pk)
    if actor is not None and current.pk == actor.pk:
        raise ValidationError({"successor": _("You cannot deactivate yourself.")})
    if not current.is_active:
        raise ValidationError({"successor": _("This user is already inactive.")})
    if successor is None or not successor.is_active or successor.pk == current.pk:
        raise ValidationError({"successor": _("Choose an active colleague to take over.")})
    reason = change_reason("handed_over", name=display_name(current))
    now = timezone.now()
    moved: dict[str, int] = {}
    orders, deals = facts_of(current)
    uncount_orders(orders)
    uncount_deals(deals)
    for kind, records in handover(current).items():
        rows = list(records.select_for_update())
        field = HANDOVER_FIELDS[kind]
        for row in rows:
            setattr(row, field, successor)
            row.updated_at = now
            set_history_context(row, user=actor, reason=reason)
        if rows:
            model = type(rows[0])
            bulk_update_with_history(
                rows, model, [field, "updated_at"], default_user=actor, default_change_reason=reason
            )
        moved[kind] = len(rows)
    count_orders(orders)
    count_deals(deals)
    current.is_active = False
    current.save(update_fields=["is_active"])
    events.user_deactivated(user=current, actor=actor, successor=successor, moved=moved)
    return moved


@transaction.atomic
def reactivate_user(*, actor: User | None, user: User) -> User:
    """Lets a deactivated user log in again (what they handed over stays with their successor)."""
    require_manager(actor)
    current = User.objects.select_for_update().get(pk=user.pk)
    if not current.is_active:
        current.is_active = True
        current.save(update_fields=["is_active"])
        events.user_reactivated(user=current, actor=actor)
    return current
