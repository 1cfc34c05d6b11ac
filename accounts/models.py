"""Teams and who belongs to which: the organisation the sharing rule follows.

A user belongs to at most one team (a `Membership`, one per user). Roles stay groups (crm/roles.py):
a member of `Team leads` leads the team they belong to, so "lead of a team" is never stored twice.
"""

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.names import picker_label
from crm.roles import TEAM_LEADS


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    region = models.CharField(_("region / office"), max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="team_name_not_empty")]

    def __str__(self) -> str:
        return self.name

    def leads(self) -> models.QuerySet[User]:
        """The members who lead the team: those in the Team leads group."""
        return User.objects.filter(membership__team=self, groups__name=TEAM_LEADS)


class Membership(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership", verbose_name=_("user")
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("team")
    )

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        # The lead's scope is "the users of my team": one index scan.
        indexes = [models.Index(fields=["team", "user"], name="membership_team_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.team}"


class Person(User):
    """A user as pickers list them: by full name, the username as a hint (accounts/names.py). The same
    rows as User (a proxy): a Person is assigned wherever a User is expected."""

    class Meta:
        proxy = True
        ordering = ["first_name", "last_name", "username"]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return picker_label(self)


class UserEventType(models.TextChoices):
    DEACTIVATED = "deactivated", _("User deactivated")
    REACTIVATED = "reactivated", _("User reactivated")


class UserEvent(models.Model):
    """One fact about a user account, as `type` + `parameters` (never a sentence): e.g. a deactivation
    with its successor and how many records of each kind moved to them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="account_events",
        verbose_name=_("user"),
    )
    type = models.CharField(_("type"), max_length=30, choices=UserEventType.choices)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("user event")
        verbose_name_plural = _("user events")
        indexes = [models.Index(fields=["user", "at"], name="user_event_user_at_idx")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.user}"
