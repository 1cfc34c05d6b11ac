"""Users, read only: who owns, is assigned or acts (the ids the other resources name)."""

from typing import Any

from django.contrib.auth.models import User
from django.http import Http404
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from crm.api.views import ListViewSet
from crm.fields import parse_id

USER_SORTS = {"username": ["username", "id"]}


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "is_active"]


def access_user(user: Any, pk: object, *, for_write: bool = False) -> User:
    """A user by id: everyone signed in sees who works here (the pages offer them as owners)."""
    found = User.objects.filter(pk=parse_id(pk) or 0).first()
    if found is None:
        raise Http404
    return found


class UserViewSet(ListViewSet):
    access_helper = staticmethod(access_user)
    list_selector = staticmethod(lambda user: User.objects.all())
    serializer_class = UserSerializer
    filter_backends = []
    sorts, default_sort = USER_SORTS, "username"


router = SimpleRouter()
router.register("users", UserViewSet, basename="user")
urlpatterns = router.urls
