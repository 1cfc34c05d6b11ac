"""Teams and who belongs to which: the organisation the sharing rule follows.

A user belongs to at most one team (a `Membership`, one per user). Roles stay groups (crm/roles.py):
a member of `Team leads` leads the team they belong to, so "lead of a team" is never stored twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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

    def leads(self) -> models.QuerySet:
        """The members who lead the team: those in the Team leads group."""
        from django.contrib.auth.models import User

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
