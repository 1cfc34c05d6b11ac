"""The admin for managers and ops. Orders change only through the services: their lines, payments
and events show read-only, the status changes by the actions below, and the few details the admin
edits are saved by services.update_order, which refuses at the field (crm/service_admin.py)."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.admin_site import BoundedFieldsAdmin, HistoryAdmin, LargeTableAdmin
from crm.service_admin import ServiceAdmin, actor, changed_fields
from orders import services
from orders.forms import ProductForm
from orders.models import CreditNote, Order, OrderEvent, OrderLine, Payment, Product
from orders.selectors import search_orders


class ReadOnlyInline(BoundedFieldsAdmin, admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["position", "product", "description", "quantity", "unit_price", "discount", "line_total"]


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["paid_at", "amount", "method", "reference", "recorded_by", "recorded_at"]


class CreditNoteInline(ReadOnlyInline):
    model = CreditNote
    fields = ["number", "created_at", "amount", "reason", "created_by"]


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["at", "what_happened", "actor", "note"]
    ordering = ["at", "id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderEvent]:
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("What happened"))
    def what_happened(self, event: OrderEvent) -> str:
        return event.summary


@admin.register(Order)
class OrderAdmin(LargeTableAdmin, ServiceAdmin, HistoryAdmin):
    list_display = ["number", "customer", "owner", "status", "total", "balance", "currency", "created_at"]
    list_filter = ["status", "created_at", "confirmed_at", "owner"]
    search_fields = ["number", "customer__name"]
    search_help_text = _("A fragment of the order's number or of its customer's name, as in the order list.")
    list_select_related = ["customer", "owner"]
    fields = [
        ("number", "status"),
        ("customer", "owner"),
        ("currency", "subtotal", "discount", "tax_rate", "tax", "total", "credited"),
        ("paid_amount", "balance", "payment_method"),
        "shipping_address",
        ("carrier", "tracking_number"),
        "notes",
        ("invoice_number", "close_reason"),
        ("created_at", "confirmed_at", "processing_at", "finished_at", "closed_at"),
    ]
    editable_details = sorted(services.DETAIL_FIELDS)
    inlines = [OrderLineInline, CreditNoteInline, PaymentInline, OrderEventInline]
    actions = ["confirm_selected", "start_processing_selected", "finish_selected", "close_selected"]

    def get_readonly_fields(self, request, obj=None):
        flat = [name for row in self.fields for name in (row if isinstance(row, tuple) else (row,))]
        editable = self.editable_details if obj is not None and obj.is_open else []
        return [name for name in flat if name not in editable]

    def search(self, queryset, text):
        return search_orders(queryset, text)

    def has_add_permission(self, request):
        return False  # orders are made on the order pages, with their lines

    def has_delete_permission(self, request, obj=None):
        return False  # an order is closed, never deleted

    def update_through_service(self, request, obj, form):
        return services.update_order(
            actor=actor(request), order=obj, **changed_fields(form, services.DETAIL_FIELDS)
        )

    def _apply(self, request, queryset, step, done_message, **arguments):
        """Runs a service on each selected order; reports how many moved, and which did not and why."""
        done, failed = 0, []
        for order in queryset.select_related("customer"):
            try:
                step(actor=request.user, order=order, **arguments)
            except (ValidationError, PermissionDenied) as error:
                failed.append(f"{order.number}: {' '.join(_messages(error))}")
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done) % {"count": done}, level=messages.SUCCESS)
        if failed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d order was not changed: %(orders)s",
                    "%(count)d orders were not changed: %(orders)s",
                    len(failed),
                )
                % {"count": len(failed), "orders": "; ".join(failed)},
                level=messages.ERROR,
            )

    @admin.action(description=_("Confirm the selected orders"))
    def confirm_selected(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.confirm_order,
            lambda count: ngettext("%(count)d order confirmed.", "%(count)d orders confirmed.", count),
        )

    @admin.action(description=_("Start processing the selected orders"))
    def start_processing_selected(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.start_processing,
            lambda count: ngettext(
                "%(count)d order is being processed.", "%(count)d orders are being processed.", count
            ),
        )

    @admin.action(description=_("Finish the selected orders (their balance must be zero)"))
    def finish_selected(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.finish_order,
            lambda count: ngettext("%(count)d order finished.", "%(count)d orders finished.", count),
        )

    @admin.action(description=_("Close the selected orders…"))
    def close_selected(self, request, queryset):
        """Asks for the reason first, on a page of its own, then closes each order with it."""
        reason = " ".join(request.POST.get("reason", "").split())
        if request.POST.get("confirmed") and reason:
            self._apply(
                request,
                queryset,
                services.close_order,
                lambda count: ngettext("%(count)d order closed.", "%(count)d orders closed.", count),
                reason=reason,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Close orders"),
            "orders": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "missing_reason": bool(request.POST.get("confirmed")),
        }
        return TemplateResponse(request, "admin/orders/order/close_selected.html", context)


def _messages(error):
    return error.messages if isinstance(error, ValidationError) else [str(error)]


@admin.register(Product)
class ProductAdmin(ServiceAdmin, HistoryAdmin):
    form = ProductForm
    list_display = ["sku", "name", "series", "unit_price", "active"]
    list_filter = ["active", "series"]
    search_fields = ["sku", "name"]
    readonly_fields = ["created_at", "updated_at"]

    def create_through_service(self, request, form):
        fields = {name: form.cleaned_data[name] for name in services.PRODUCT_FIELDS & set(form.cleaned_data)}
        return services.create_product(actor=actor(request), **fields)

    def update_through_service(self, request, obj, form):
        return services.update_product(
            actor=actor(request), product=obj, **changed_fields(form, services.PRODUCT_FIELDS)
        )
