"""Stages and opportunities over HTTP: the pages' access helpers, filters and services."""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.views import ListViewSet
from crm.fields import parse_id
from opportunities import selectors, services
from opportunities.access import access_opportunity
from opportunities.api import serializers as s
from opportunities.filters import DEFAULT_SORT, SORTS, OpportunityFilter
from opportunities.models import Stage

STAGE_SORTS = {"position": ["position", "id"]}


def access_stage(user: Any, pk: object, *, for_write: bool = False) -> Stage:
    """A stage by id: the pipeline is the same for everyone signed in."""
    stage = Stage.objects.filter(pk=parse_id(pk) or 0).first()
    if stage is None:
        raise Http404
    return stage


class StageViewSet(ListViewSet):
    access_helper = staticmethod(access_stage)
    list_selector = staticmethod(lambda user: Stage.objects.all())
    serializer_class = s.StageSerializer
    filter_backends = []
    sorts, default_sort = STAGE_SORTS, "position"


class OpportunityViewSet(ListViewSet):
    access_helper = staticmethod(access_opportunity)
    list_selector = staticmethod(selectors.opportunities_for_list)
    serializer_class = s.OpportunitySerializer
    filterset_class = OpportunityFilter
    sorts, default_sort = SORTS, DEFAULT_SORT
    search_description = "A fragment of the title or of the customer's name."

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("lines")

    def filterset_kwargs(self, request: Request) -> dict[str, Any]:
        return {"user": request.user}

    def search(self, queryset: Any, text: str) -> Any:
        return selectors.search_opportunities(queryset, text)

    @extend_schema(request=s.OpportunityInput, responses={201: s.OpportunitySerializer})
    def create(self, request: Request) -> Response:
        fields = self.input(s.OpportunityInput)
        opportunity = services.create_opportunity(actor=self.actor, customer=fields.pop("customer"), **fields)
        return self.answer(opportunity, status.HTTP_201_CREATED)

    @extend_schema(request=s.OpportunityUpdateInput, responses=s.OpportunitySerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        with self.changing() as opportunity:
            fields = self.input(s.OpportunityUpdateInput, partial=True)
            opportunity = services.update_opportunity(actor=self.actor, opportunity=opportunity, **fields)
        return self.answer(opportunity)

    def _change(self, input_class: Any, service: Any) -> Response:
        with self.changing() as opportunity:
            opportunity = service(actor=self.actor, opportunity=opportunity, **self.input(input_class))
        return self.answer(opportunity)

    @extend_schema(request=s.MoveInput, responses=s.OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str) -> Response:
        """Move an open opportunity to another open stage."""
        return self._change(s.MoveInput, services.move_stage)

    @extend_schema(request=s.WinInput, responses=s.OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def win(self, request: Request, pk: str) -> Response:
        """Win it: its lines become an order, linked both ways (`order`)."""
        return self._change(s.WinInput, services.mark_won)

    @extend_schema(request=s.LoseInput, responses=s.OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def lose(self, request: Request, pk: str) -> Response:
        """Lose it, saying why."""
        return self._change(s.LoseInput, services.mark_lost)

    @extend_schema(request=s.ReopenInput, responses=s.OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        """Back into the pipeline; a won one's order must have been closed."""
        return self._change(s.ReopenInput, services.reopen)

    @extend_schema(request=None, responses=s.OpportunityEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request: Request, pk: str) -> Response:
        """Its stage changes and other events, newest first."""
        opportunity = self.get_object()
        events = opportunity.events.select_related("from_stage", "to_stage").order_by("-at", "-id")
        return Response(s.OpportunityEventSerializer(events, many=True).data)
