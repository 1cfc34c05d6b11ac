"""The base of every API view set: records by id through the access helpers, the pages' filters,
`?search=`, `?sort=`, keyset pages, ETags, `If-Match` and `Idempotency-Key`.

A view set names its access helper (`access_order`…), the list selector, the page's FilterSet and
sorts, and its serializers; its actions call the services. Nothing here decides who may do what.
"""

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, filters, mixins, status, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from crm.api.idempotency import idempotent
from crm.forms import SearchForm


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy("The record changed since you read it; read it again.")
    default_code = "precondition_failed"


def etag_of(data: Any) -> str:
    """A strong ETag of a record's representation: it changes whenever anything shown changes."""
    body = json.dumps(json.loads(JSONRenderer().render(data)), sort_keys=True).encode()
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class FilterBackend(DjangoFilterBackend):
    """The page's FilterSet, given what the view set adds (the owners a manager may pick, the user)."""

    def get_filterset_kwargs(self, request: Any, queryset: QuerySet[Any], view: Any) -> dict[str, Any]:
        return {**super().get_filterset_kwargs(request, queryset, view), **view.filterset_kwargs(request)}


class SearchBackend(filters.SearchFilter):
    """`?search=` (at most 200 characters): the page's search, `view.search(queryset, text)`."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        form = SearchForm(request.query_params, field_name=self.search_param)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors.get_json_data())
        text = form.cleaned_data[self.search_param].strip()
        return view.search(queryset, text) if text else queryset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.search_param,
                "in": "query",
                "required": False,
                "description": view.search_description,
                "schema": {"type": "string", "maxLength": 200},
            }
        ]


class SortBackend(filters.BaseFilterBackend):
    """`?sort=`: one of the list's sort keys, as on the page; KeysetPagination orders by it."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        return queryset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "sort",
                "in": "query",
                "required": False,
                "description": f"Default: {view.default_sort}.",
                "schema": {"type": "string", "enum": list(view.sorts)},
            }
        ]


class RecordViewSet(viewsets.GenericViewSet):
    """Each record by id, through the access helper; subclasses add the writes, each calling a service."""

    access_helper: Callable[..., Model]
    filter_backends: list[type[Any]] = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        handler = getattr(self, "post", None)
        if request.method == "POST" and handler is not None:
            self.post = idempotent(handler, self.handle_exception)

    @property
    def actor(self) -> User:
        """The signed-in user (every view requires one)."""
        user = self.request.user
        if not isinstance(user, User):
            raise exceptions.NotAuthenticated
        return user

    def get_object(self) -> Any:
        for_write = self.request.method not in SAFE_METHODS
        return type(self).access_helper(self.request.user, self.kwargs["pk"], for_write=for_write)

    def output(self, record: Any, serializer_class: type[BaseSerializer] | None = None) -> Any:
        serializer_class = serializer_class or self.get_serializer_class()
        return serializer_class(record, context=self.get_serializer_context()).data

    def answer(self, record: Any, status_code: int = status.HTTP_200_OK) -> Response:
        """The record as the API shows it, with its ETag."""
        data = self.output(record)
        return Response(data, status=status_code, headers={"ETag": etag_of(data)})

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.answer(self.get_object())

    @contextmanager
    def changing(self) -> Iterator[Any]:
        """The record to change, in a transaction: with `If-Match`, its row is locked and its ETag
        compared with the header first (412 when it differs)."""
        with transaction.atomic():
            record = self.get_object()
            expected = self.request.headers.get("If-Match")
            if expected is not None:
                model = type(record)
                model._default_manager.select_for_update().filter(pk=record.pk).values_list("pk").get()
                record = self.get_object()
                tags = {tag.strip() for tag in expected.split(",")}
                if "*" not in tags and etag_of(self.output(record)) not in tags:
                    raise PreconditionFailed
            yield record

    def input(self, serializer_class: type[BaseSerializer], *, partial: bool = False) -> dict[str, Any]:
        """The request's body, checked by `serializer_class` (400 with field messages when not valid)."""
        serializer = serializer_class(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class ListViewSet(mixins.ListModelMixin, RecordViewSet):
    """Records by id, and the list: the page's selector, FilterSet, search and sorts, a page at a time."""

    list_selector: Callable[[Any], QuerySet[Any]]
    sorts: Mapping[str, Sequence[str]] = {}
    default_sort = ""
    search_description = ""
    filter_backends: list[type[Any]] = [FilterBackend, SearchBackend, SortBackend]

    def get_queryset(self) -> QuerySet[Any]:
        return type(self).list_selector(self.request.user)

    def filterset_kwargs(self, request: Request) -> dict[str, Any]:
        return {}

    def search(self, queryset: QuerySet[Any], text: str) -> QuerySet[Any]:
        return queryset

    def sort_ordering(self, request: Request) -> Sequence[str]:
        return self.sorts.get(request.query_params.get("sort", ""), self.sorts[self.default_sort])
