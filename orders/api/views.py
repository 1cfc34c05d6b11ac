"""Products and orders over HTTP: the pages' access helpers, filters and services, nothing more."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import owner_choices
from crm.api.views import ListViewSet
from crm.roles import is_manager
from customers.forms import active_users
from orders import selectors, services
from orders.access import access_approval, access_order, access_product, approvable_orders
from orders.api import serializers as s
from orders.filters import (
    BALANCE_SORTS,
    DEFAULT_BALANCE_SORT,
    DEFAULT_ORDER_SORT,
    DEFAULT_PRODUCT_SORT,
    ORDER_SORTS,
    PRODUCT_SORTS,
    BalanceFilter,
    OrderFilter,
    ProductFilter,
)
from orders.models import Order
from orders.services import Return


def _lines(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines as create_order takes them: what was not sent is left to its default."""
    return [{name: value for name, value in spec.items() if value is not None} for spec in specs]


class ProductViewSet(ListViewSet):
    access_helper = staticmethod(access_product)
    list_selector = staticmethod(lambda user: selectors.products_for_list())
    serializer_class = s.ProductSerializer
    filterset_class = ProductFilter
    sorts, default_sort = PRODUCT_SORTS, DEFAULT_PRODUCT_SORT
    search_description = "A fragment of the SKU or the name."

    def search(self, queryset: Any, text: str) -> Any:
        return selectors.search_products(queryset, text)

    @extend_schema(request=s.ProductSerializer, responses={201: s.ProductSerializer})
    def create(self, request: Request) -> Response:
        product = services.create_product(actor=self.actor, **self.input(s.ProductSerializer))
        return self.answer(product, status.HTTP_201_CREATED)

    @extend_schema(request=s.ProductSerializer, responses=s.ProductSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        with self.changing() as product:
            fields = self.input(s.ProductSerializer, partial=True)
            product = services.update_product(actor=self.actor, product=product, **fields)
        return self.answer(product)


TRANSITIONS: dict[str, tuple[type[s.TransitionInput], Callable[..., Order]]] = {
    "confirm": (s.ConfirmInput, services.confirm_order),
    "process": (s.ProcessInput, services.start_processing),
    "finish": (s.FinishInput, services.finish_order),
    "close": (s.CloseInput, services.close_order),
}


class OrderViewSet(ListViewSet):
    access_helper = staticmethod(access_order)
    list_selector = staticmethod(selectors.orders_for_list)
    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter
    sorts, default_sort = ORDER_SORTS, DEFAULT_ORDER_SORT
    search_description = "A fragment of the order or invoice number, or of the customer's name."

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("lines", "credit_notes__lines")

    def filterset_kwargs(self, request: Request) -> dict[str, Any]:
        return {"owners": active_users() if is_manager(request.user) else None}

    def search(self, queryset: Any, text: str) -> Any:
        return selectors.search_orders(queryset, text)

    @extend_schema(request=s.OrderCreateInput, responses={201: s.OrderSerializer})
    def create(self, request: Request) -> Response:
        fields = self.input(s.OrderCreateInput)
        order = services.create_order(
            actor=self.actor,
            customer=fields.pop("customer"),
            lines=_lines(fields.pop("lines", [])),
            **fields,
        )
        return self.answer(order, status.HTTP_201_CREATED)

    @extend_schema(request=s.OrderUpdateInput, responses=s.OrderSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        with self.changing() as order:
            fields = self.input(s.OrderUpdateInput, partial=True)
            if "lines" in fields:
                fields["lines"] = _lines(fields["lines"])
            order = services.update_order(actor=self.actor, order=order, **fields)
        return self.answer(order)

    def _transition(self, name: str) -> Response:
        input_class, service = TRANSITIONS[name]
        with self.changing() as order:
            fields = self.input(input_class)
            services.ensure_status(order, fields.pop("seen_status", ""))
            order = service(actor=self.actor, order=order, **fields)
        return self.answer(order)

    @extend_schema(request=s.ConfirmInput, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        """created → confirmed: complete, and above the approval limit confirmed by a manager."""
        return self._transition("confirm")

    @extend_schema(request=s.ProcessInput, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def process(self, request: Request, pk: str) -> Response:
        """confirmed → processing: fulfilment has started."""
        return self._transition("process")

    @extend_schema(request=s.FinishInput, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def finish(self, request: Request, pk: str) -> Response:
        """processing → finished: delivered and settled; the invoice number is issued."""
        return self._transition("finish")

    @extend_schema(request=s.CloseInput, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        """created, confirmed or processing → closed (cancelled), with a reason."""
        return self._transition("close")

    @extend_schema(request=None, responses=s.PaymentSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def payments(self, request: Request, pk: str) -> Response:
        order = self.get_object()
        return Response(s.PaymentSerializer(order.payments.all(), many=True).data)

    @extend_schema(request=s.PaymentInput, responses={201: s.PaymentSerializer})
    @payments.mapping.post
    def record_payment(self, request: Request, pk: str) -> Response:
        """A payment (positive) or a refund (negative) of the order."""
        with self.changing() as order:
            payment = services.record_payment(actor=self.actor, order=order, **self.input(s.PaymentInput))
        return Response(s.PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.CreditNoteSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="credit-notes", pagination_class=None, filter_backends=[])
    def credit_notes(self, request: Request, pk: str) -> Response:
        """The order's credit notes, oldest first, with their lines."""
        order = self.get_object()
        notes = order.credit_notes.prefetch_related("lines")
        return Response(s.CreditNoteSerializer(notes, many=True).data)

    @extend_schema(request=s.CreditNoteInput, responses={201: s.CreditNoteSerializer})
    @credit_notes.mapping.post
    def issue_credit_note(self, request: Request, pk: str) -> Response:
        """A credit note for goods returned (`returns`) and/or a free `amount`, with the `refund` that
        pays it back (recorded as a negative payment in the same transaction), as on the order's page."""
        with self.changing() as order:
            fields = self.input(s.CreditNoteInput)
            lines = {line.pk: line for line in order.lines.all()}
            returns = []
            for item in fields.pop("returns", []):
                if item["line"] not in lines:
                    raise ValidationError({"returns": _("That line is not one of this order's.")})
                returns.append(Return(line=lines[item["line"]], quantity=item["quantity"]))
            note = services.issue_credit_note(actor=self.actor, order=order, returns=returns, **fields)
        return Response(s.CreditNoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ApprovalRequestInput, responses={201: s.ApprovalSerializer})
    @action(detail=True, methods=["post"], url_path="request-approval")
    def request_approval(self, request: Request, pk: str) -> Response:
        """Asks for the created order above the approval limit to be approved."""
        with self.changing() as order:
            note = self.input(s.ApprovalRequestInput).get("note", "")
            approval = services.request_approval(actor=self.actor, order=order, note=note)
        return Response(s.ApprovalSerializer(approval).data, status=status.HTTP_201_CREATED)

    def _decide(self, approve: bool) -> Response:
        with self.changing() as order:
            note = self.input(s.ApprovalDecisionInput).get("note", "")
            approval = selectors.approval_state(self.actor, order)["approval"]
            if approval is None:
                raise ValidationError(_("No approval was asked for this order."))
            approval = services.decide_approval(
                actor=self.actor, approval=approval, approve=approve, note=note
            )
        return Response(s.ApprovalSerializer(approval).data)

    @extend_schema(request=s.ApprovalDecisionInput, responses=s.ApprovalSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        """Approves the order's pending approval request (managers, and the owner's team lead)."""
        return self._decide(approve=True)

    @extend_schema(request=s.ApprovalDecisionInput, responses=s.ApprovalSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk: str) -> Response:
        """Refuses the order's pending approval request, saying why in the note."""
        return self._decide(approve=False)

    @extend_schema(request=None, responses=s.OrderEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request: Request, pk: str) -> Response:
        """What happened to the order, newest first: each event's type, time, actor and parameters."""
        order = self.get_object()
        events = order.events.order_by("-at", "-id")
        return Response(s.OrderEventSerializer(events, many=True).data)


class ApprovalViewSet(ListViewSet):
    """The approval queue: the pending requests the user may answer, oldest first (as the page)."""

    access_helper = staticmethod(lambda user, pk, for_write=False: access_approval(user, pk))
    list_selector = staticmethod(selectors.approval_queue)
    serializer_class = s.ApprovalSerializer
    filter_backends: list[type[Any]] = []
    sorts, default_sort = {"requested": ["requested_at", "id"]}, "requested"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if approvable_orders(self.actor) is None:
            raise PermissionDenied(_("You approve no orders."))


class BalanceViewSet(ListViewSet):
    """The balances due: confirmed, processing and finished orders with money to collect."""

    access_helper = staticmethod(access_order)
    list_selector = staticmethod(selectors.balances_for_list)
    serializer_class = s.BalanceSerializer
    filterset_class = BalanceFilter
    sorts, default_sort = BALANCE_SORTS, DEFAULT_BALANCE_SORT

    def filterset_kwargs(self, request: Request) -> dict[str, Any]:
        return {
            "owners": owner_choices(self.actor),
            "today": timezone.localdate(),
            "currencies": selectors.balance_currencies(self.actor),
        }

    @extend_schema(responses=s.BalanceSummarySerializer(many=True))
    def summary(self, request: Request) -> Response:
        """Per currency: the orders, the balance due and its ageing, for the filters given."""
        queryset = self.filter_queryset(self.get_queryset())
        rows = selectors.balances_by_currency(queryset, timezone.localdate())
        return Response(s.BalanceSummarySerializer(rows, many=True).data)
