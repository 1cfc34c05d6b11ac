"""Customers and what hangs off them over HTTP: the pages' access helpers, filters and services."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.views import ListViewSet, RecordViewSet
from crm.roles import is_manager
from customers import selectors, services
from customers.access import access_contact_method, access_contact_person, access_customer, access_need
from customers.api import serializers as s
from customers.filters import DEFAULT_SORT, SORTS, CustomerFilter
from customers.forms import active_users
from customers.models import ContactMethod, ContactPerson, Need


class CustomerViewSet(ListViewSet):
    access_helper = staticmethod(access_customer)
    list_selector = staticmethod(selectors.customers_for_list)
    serializer_class = s.CustomerSerializer
    filterset_class = CustomerFilter
    sorts, default_sort = SORTS, DEFAULT_SORT
    search_description = "A fragment of the name, a phone, an email or a contact person."

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("contact_methods")

    def filterset_kwargs(self, request: Request) -> dict[str, Any]:
        return {"owners": active_users() if is_manager(request.user) else None}

    def search(self, queryset: Any, text: str) -> Any:
        return selectors.search_customers(queryset, text)

    @extend_schema(request=s.CustomerInput, responses={201: s.CustomerSerializer})
    def create(self, request: Request) -> Response:
        customer = services.create_customer(actor=self.actor, **self.input(s.CustomerInput))
        return self.answer(customer, status.HTTP_201_CREATED)

    @extend_schema(request=s.CustomerUpdateInput, responses=s.CustomerSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        with self.changing() as customer:
            fields = self.input(s.CustomerUpdateInput, partial=True)
            customer = services.update_customer(actor=self.actor, customer=customer, **fields)
        return self.answer(customer)

    @extend_schema(request=None, responses=s.ContactMethodSerializer(many=True))
    @action(
        detail=True, methods=["get"], url_path="contact-methods", pagination_class=None, filter_backends=[]
    )
    def contact_methods(self, request: Request, pk: str) -> Response:
        customer = self.get_object()
        return Response(s.ContactMethodSerializer(customer.contact_methods.all(), many=True).data)

    @extend_schema(request=s.ContactMethodInput, responses={201: s.ContactMethodSerializer})
    @contact_methods.mapping.post
    def add_contact_method(self, request: Request, pk: str) -> Response:
        customer = self.get_object()
        method = services.add_contact_method(
            actor=self.actor, customer=customer, **self.input(s.ContactMethodInput)
        )
        return Response(s.ContactMethodSerializer(method).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ContactPersonSerializer(many=True))
    @action(
        detail=True, methods=["get"], url_path="contact-persons", pagination_class=None, filter_backends=[]
    )
    def contact_persons(self, request: Request, pk: str) -> Response:
        customer = self.get_object()
        return Response(s.ContactPersonSerializer(customer.contact_persons.all(), many=True).data)

    @extend_schema(request=s.ContactPersonInput, responses={201: s.ContactPersonSerializer})
    @contact_persons.mapping.post
    def add_contact_person(self, request: Request, pk: str) -> Response:
        customer = self.get_object()
        person = services.add_contact_person(
            actor=self.actor, customer=customer, **self.input(s.ContactPersonInput)
        )
        return Response(s.ContactPersonSerializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.NeedSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def needs(self, request: Request, pk: str) -> Response:
        customer = self.get_object()
        return Response(s.NeedSerializer(customer.needs.all(), many=True).data)

    @extend_schema(request=s.NeedInput, responses={201: s.NeedSerializer})
    @needs.mapping.post
    def raise_need(self, request: Request, pk: str) -> Response:
        customer = self.get_object()
        need = services.raise_need(actor=self.actor, customer=customer, **self.input(s.NeedInput))
        return Response(s.NeedSerializer(need).data, status=status.HTTP_201_CREATED)


class ContactMethodViewSet(RecordViewSet):
    queryset = (
        ContactMethod.objects.none()
    )  # names the model to the schema; records come from the access helper
    access_helper = staticmethod(access_contact_method)
    serializer_class = s.ContactMethodSerializer

    @extend_schema(request=s.ContactMethodInput, responses=s.ContactMethodSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        with self.changing() as method:
            current = {name: getattr(method, name) for name in ("type", "value", "note", "is_primary")}
            fields = current | self.input(s.ContactMethodInput, partial=True)
            method = services.update_contact_method(actor=self.actor, method=method, **fields)
        return self.answer(method)

    def destroy(self, request: Request, pk: str) -> Response:
        with self.changing() as method:
            services.remove_contact_method(actor=self.actor, method=method)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactPersonViewSet(RecordViewSet):
    queryset = (
        ContactPerson.objects.none()
    )  # names the model to the schema; records come from the access helper
    access_helper = staticmethod(access_contact_person)
    serializer_class = s.ContactPersonSerializer

    @extend_schema(request=s.ContactPersonInput, responses=s.ContactPersonSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        with self.changing() as person:
            current = {name: getattr(person, name) for name in ("name", "title", "phone", "email")}
            fields = current | self.input(s.ContactPersonInput, partial=True)
            person = services.update_contact_person(actor=self.actor, person=person, **fields)
        return self.answer(person)

    def destroy(self, request: Request, pk: str) -> Response:
        with self.changing() as person:
            services.remove_contact_person(actor=self.actor, person=person)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NeedViewSet(RecordViewSet):
    queryset = Need.objects.none()  # names the model to the schema; records come from the access helper
    access_helper = staticmethod(access_need)
    serializer_class = s.NeedSerializer

    @extend_schema(request=s.NeedUpdateInput, responses=s.NeedSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        with self.changing() as need:
            need = services.update_need(
                actor=self.actor, need=need, **self.input(s.NeedUpdateInput, partial=True)
            )
        return self.answer(need)
