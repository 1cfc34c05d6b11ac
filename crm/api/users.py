"""Users and teams, read only: who owns, is assigned or acts (the ids the other resources name), the
team each belongs to and whether they lead it."""

from typing import Any

from django.contrib.auth.models import User
from django.http import Http404
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from accounts.models import Team
from accounts.selectors import teams_for_list, users_for_list
from crm.api.fields import LabelledModelSerializer
from crm.api.views import ListViewSet
from crm.fields import parse_id
from crm.roles import TEAM_LEADS

USER_SORTS = {"username": ["username", "id"]}
TEAM_SORTS = {"name": ["name", "id"]}


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "region"]


class UserSerializer(LabelledModelSerializer):
    team = serializers.SerializerMethodField(help_text="The team the user belongs to, if any.")
    is_team_lead = serializers.SerializerMethodField(help_text="Whether the user leads their team.")

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "is_active", "team", "is_team_lead"]

    @extend_schema_field(TeamRefSerializer(allow_null=True))
    def get_team(self, user: User) -> dict[str, Any] | None:
        membership = getattr(user, "membership", None)
        return None if membership is None else TeamRefSerializer(membership.team).data

    def get_is_team_lead(self, user: User) -> bool:
        # The groups come prefetched (users_for_list); no query per user.
        return hasattr(user, "membership") and any(group.name == TEAM_LEADS for group in user.groups.all())


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.IntegerField(read_only=True, help_text="Active members.")
    leads = serializers.SerializerMethodField(help_text="The ids of the active members who lead it.")

    class Meta:
        model = Team
        fields = ["id", "name", "region", "members", "leads"]

    def get_leads(self, team: Team) -> list[int]:
        return [membership.user_id for membership in team.lead_memberships]  # type: ignore[attr-defined]


def access_user(user: Any, pk: object, *, for_write: bool = False) -> User:
    """A user by id: everyone signed in sees who works here (the pages offer them as owners)."""
    found = users_for_list().filter(pk=parse_id(pk) or 0).first()
    if found is None:
        raise Http404
    return found


def access_team(user: Any, pk: object, *, for_write: bool = False) -> Team:
    """A team by id: everyone signed in sees the teams (each user's team is shown with them)."""
    found = teams_for_list().filter(pk=parse_id(pk) or 0).first()
    if found is None:
        raise Http404
    return found


class UserViewSet(ListViewSet):
    access_helper = staticmethod(access_user)
    list_selector = staticmethod(lambda user: users_for_list())
    serializer_class = UserSerializer
    filter_backends: list[type[Any]] = []
    sorts, default_sort = USER_SORTS, "username"


class TeamViewSet(ListViewSet):
    access_helper = staticmethod(access_team)
    list_selector = staticmethod(lambda user: teams_for_list())
    serializer_class = TeamSerializer
    filter_backends: list[type[Any]] = []
    sorts, default_sort = TEAM_SORTS, "name"


router = SimpleRouter()
router.register("users", UserViewSet, basename="user")
router.register("teams", TeamViewSet, basename="team")
urlpatterns = router.urls
