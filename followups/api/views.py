"""Communications and follow-ups over HTTP: the pages' access helpers, filters and services."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.views import ListViewSet
from followups import selectors, services
from followups.access import access_communication, access_followup
from followups.api import serializers as s
from followups.filters import COMMUNICATION_SORTS, FOLLOWUP_SORTS, CommunicationFilter, FollowUpFilter


class CommunicationViewSet(ListViewSet):
    access_helper = staticmethod(access_communication)
    list_selector = staticmethod(selectors.communications_for_list)
    serializer_class = s.CommunicationSerializer
    filterset_class = CommunicationFilter
    sorts, default_sort = COMMUNICATION_SORTS, "-occurred"
    search_description = "The customer: a fragment of its name, a phone, an email or a contact person."

    def filterset_kwargs(self, request: Request) -> dict[str, Any]:
        return {"user": request.user}

    def search(self, queryset: Any, text: str) -> Any:
        return selectors.of_customers_matching(queryset, text)

    @extend_schema(request=s.CommunicationInput, responses={201: s.CommunicationSerializer})
    def create(self, request: Request) -> Response:
        fields = self.input(s.CommunicationInput)
        communication = services.log_communication(
            actor=self.actor, customer=fields.pop("customer"), **fields
        )
        return self.answer(communication, status.HTTP_201_CREATED)

    @extend_schema(request=s.CommunicationUpdateInput, responses=s.CommunicationSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        with self.changing() as communication:
            fields = self.input(s.CommunicationUpdateInput, partial=True)
            communication = services.update_communication(
                actor=self.actor, communication=communication, **fields
            )
        return self.answer(communication)


class FollowUpViewSet(ListViewSet):
    access_helper = staticmethod(access_followup)
    list_selector = staticmethod(selectors.followups_for_list)
    serializer_class = s.FollowUpSerializer
    filterset_class = FollowUpFilter
    sorts, default_sort = FOLLOWUP_SORTS, "due"
    search_description = "The customer: a fragment of its name, a phone, an email or a contact person."

    def filterset_kwargs(self, request: Request) -> dict[str, Any]:
        return {"user": request.user}

    def search(self, queryset: Any, text: str) -> Any:
        return selectors.of_customers_matching(queryset, text)

    @extend_schema(request=s.FollowUpInput, responses={201: s.FollowUpSerializer})
    def create(self, request: Request) -> Response:
        fields = self.input(s.FollowUpInput)
        followup = services.schedule_followup(actor=self.actor, customer=fields.pop("customer"), **fields)
        return self.answer(followup, status.HTTP_201_CREATED)

    @extend_schema(request=s.FollowUpUpdateInput, responses=s.FollowUpSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        with self.changing() as followup:
            fields = self.input(s.FollowUpUpdateInput, partial=True)
            followup = services.update_followup(actor=self.actor, followup=followup, **fields)
        return self.answer(followup)

    def _change(self, input_class: Any, service: Any) -> Response:
        with self.changing() as followup:
            followup = service(actor=self.actor, followup=followup, **self.input(input_class))
        return self.answer(followup)

    @extend_schema(request=s.CompleteInput, responses=s.FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        """Done, with what came of it."""
        return self._change(s.CompleteInput, services.complete_followup)

    @extend_schema(request=s.PostponeInput, responses=s.FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def postpone(self, request: Request, pk: str) -> Response:
        """To another day, at the same time of day."""
        return self._change(s.PostponeInput, services.postpone_followup)

    @extend_schema(request=s.CancelInput, responses=s.FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """No longer needed; the reason is kept as its result."""
        return self._change(s.CancelInput, services.cancel_followup)
