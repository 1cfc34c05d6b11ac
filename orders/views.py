from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.selectors import owner_choices
from crm.formatting import money
from crm.forms import SearchForm
from crm.lists import export_list, export_view, filtered_and_sorted, keyset_page
from crm.roles import is_manager
from customers.access import access_customer
from customers.models import Customer
from customers.selectors import search_customers
from orders import selectors, services
from orders.access import access_approval, access_order, approvable_orders, can_change_order
from orders.documents import statement_pdf
from orders.filters import (
    BALANCE_SORTS,
    DEFAULT_BALANCE_SORT,
    DEFAULT_ORDER_SORT,
    ORDER_SORTS,
    BalanceFilter,
    OrderFilter,
)
from orders.forms import (
    ApprovalDecisionForm,
    ApprovalRequestForm,
    CreditNoteForm,
    LineFormSet,
    OrderForm,
    PaymentForm,
    SellerProfileForm,
    TransitionForm,
    line_initial,
)
from orders.models import Order, SellerProfile
from orders.once import run_once

CUSTOMER_OPTIONS_LIMIT = 10


def apply_order_errors(form, formset, error):
    """Puts a service's ValidationError next to the fields it names, and each line's on its row."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    filled = formset.filled_forms() if formset is not None else []
    for key, texts in error.message_dict.items():
        index = key.removeprefix("lines-")
        if key.startswith("lines-") and index.isdigit() and int(index) < len(filled):
            filled[int(index)].add_error(None, texts)
        else:
            form.add_error(key if key in form.fields else None, texts)


# The list and its export


def _filtered_orders(request):
    filterset = OrderFilter(
        request.GET,
        queryset=selectors.orders_for_list(request.user),
        owners=owner_choices(request.user),
    )
    queryset, sort = filtered_and_sorted(request, filterset, ORDER_SORTS, DEFAULT_ORDER_SORT)
    return filterset, queryset, sort


@require_GET
def order_list(request):
    filterset, queryset, sort = _filtered_orders(request)
    page = keyset_page(request, queryset, ORDER_SORTS[sort])
    return render(request, "orders/order_list.html", {"filterset": filterset, "page": page, "sort": sort})


EXPORT_HEADERS = [
    gettext_noop("Number"),
    gettext_noop("Customer"),
    gettext_noop("Owner"),
    gettext_noop("Status"),
    gettext_noop("Currency"),
    gettext_noop("Subtotal"),
    gettext_noop("Discount"),
    gettext_noop("Tax"),
    gettext_noop("Total"),
    gettext_noop("Credited"),
    gettext_noop("Net total"),
    gettext_noop("Paid"),
    gettext_noop("Balance"),
    gettext_noop("Payment method"),
    gettext_noop("Carrier"),
    gettext_noop("Tracking number"),
    gettext_noop("Invoice number"),
    gettext_noop("Created"),
    gettext_noop("Confirmed"),
    gettext_noop("Processing since"),
    gettext_noop("Finished"),
    gettext_noop("Closed"),
    gettext_noop("Reason for closing"),
]


def _export_row(order):
    return [
        order.number,
        order.customer.name,
        order.owner.get_username(),
        order.get_status_display(),
        order.currency,
        order.subtotal,
        order.discount,
        order.tax,
        order.total,
        order.credited,
        order.net_total,
        order.paid_amount,
        order.balance,
        order.get_payment_method_display(),
        order.carrier,
        order.tracking_number,
        order.invoice_number,
        order.created_at,
        order.confirmed_at,
        order.processing_at,
        order.finished_at,
        order.closed_at,
        order.close_reason,
    ]


@export_view
def order_export(request):
    filterset, queryset, sort = _filtered_orders(request)
    return export_list(
        request,
        filterset,
        queryset,
        ORDER_SORTS[sort],
        filename="orders",
        headers=EXPORT_HEADERS,
        row=_export_row,
        sheet_title=_("Orders"),
    )


# Balances due


def _filtered_balances(request):
    today = timezone.localdate()
    filterset = BalanceFilter(
        request.GET,
        queryset=selectors.balances_for_list(request.user),
        owners=owner_choices(request.user),
        today=today,
        currencies=selectors.balance_currencies(request.user),
    )
    queryset, sort = filtered_and_sorted(request, filterset, BALANCE_SORTS, DEFAULT_BALANCE_SORT)
    return filterset, queryset, sort, today


@require_GET
def balances_due(request):
    """Confirmed, processing and finished orders with money to collect, oldest first, with the
    totals per currency and by age."""
    filterset, queryset, sort, today = _filtered_balances(request)
    page = keyset_page(request, queryset, BALANCE_SORTS[sort])
    for order in page.items:
        order.days_open = selectors.days_since(order.confirmed_at, today)
    summary = selectors.balances_by_currency(queryset, today) if filterset.is_valid() else []
    context = {
        "filterset": filterset,
        "page": page,
        "sort": sort,
        "summary": summary,
        "buckets": selectors.AGEING_BUCKETS,
    }
    return render(request, "orders/balances_due.html", context)


BALANCE_HEADERS = [
    gettext_noop("Number"),
    gettext_noop("Customer"),
    gettext_noop("Owner"),
    gettext_noop("Status"),
    gettext_noop("Currency"),
    gettext_noop("Net total"),
    gettext_noop("Paid"),
    gettext_noop("Balance"),
    gettext_noop("Confirmed"),
    gettext_noop("Days since confirmation"),
]


@export_view
def balances_export(request):
    filterset, queryset, sort, today = _filtered_balances(request)

    def row(order):
        return [
            order.number,
            order.customer.name,
            order.owner.get_username(),
            order.get_status_display(),
            order.currency,
            order.net_total,
            order.paid_amount,
            order.balance,
            order.confirmed_at,
            selectors.days_since(order.confirmed_at, today),
        ]

    return export_list(
        request,
        filterset,
        queryset,
        BALANCE_SORTS[sort],
        filename="balances_due",
        headers=BALANCE_HEADERS,
        row=row,
        sheet_title=_("Balances due"),
    )


# Creating and editing


def _customer_from_query(request):
    """The customer the address names (?customer=ID), if the user may order for it."""
    try:
        return access_customer(request.user, request.GET.get("customer"), for_write=True)
    except Http404:
        return None


def order_create(request):
    manager = is_manager(request.user)
    customer = _customer_from_query(request)
    form = OrderForm(
        request.POST or None,
        initial={"customer": customer.pk} if customer else None,
        user=request.user,
        user_is_manager=manager,
    )
    lines = LineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        try:
            order = services.create_order(
                actor=request.user,
                customer=form.cleaned_data["customer"],
                lines=lines.lines(),
                **form.service_fields(),
            )
        except ValidationError as error:
            apply_order_errors(form, lines, error)
        else:
            messages.success(request, _("Order %(number)s created.") % {"number": order.number})
            return redirect(order)
    chosen = form.cleaned_data.get("customer") if form.is_bound else customer
    return render(
        request,
        "orders/order_form.html",
        {"form": form, "lines": lines, "chosen_customer": chosen, "creating": True},
    )


def order_edit(request, pk):
    order = access_order(request.user, pk, for_write=True)
    if not order.is_open:
        messages.warning(request, _("A finished or closed order cannot be changed."))
        return redirect(order)
    form = OrderForm(
        request.POST or None, instance=order, user=request.user, user_is_manager=is_manager(request.user)
    )
    lines = None
    if order.is_editable:
        lines = LineFormSet(
            request.POST or None,
            prefix="lines",
            initial=None if request.method == "POST" else line_initial(order.lines.select_related("product")),
        )
    if request.method == "POST" and form.is_valid() and (lines is None or lines.is_valid()):
        fields = form.service_fields()
        if lines is not None:
            fields["lines"] = lines.lines()
        try:
            # What the user edited was shown for the status they saw: lines typed for a created order
            # must not be dropped silently because someone confirmed it meanwhile.
            services.ensure_status(order, request.POST.get("seen_status", ""))
            services.update_order(actor=request.user, order=Order.objects.get(pk=order.pk), **fields)
        except ValidationError as error:
            apply_order_errors(form, lines, error)
        else:
            messages.success(request, _("Order saved."))
            return redirect(order)
    return render(request, "orders/order_form.html", {"form": form, "lines": lines, "order": order})


@require_GET
def customer_options(request):
    """htmx: the user's customers matching what is typed into the order form's customer box."""
    query = SearchForm(request.GET).query
    customers = []
    if query:
        matches = search_customers(Customer.objects.visible_to(request.user), query)
        customers = list(matches.order_by("name", "id")[:CUSTOMER_OPTIONS_LIMIT])
    return render(request, "orders/partials/customer_options.html", {"customers": customers, "query": query})


# The order page and what is done on it


def _detail_context(request, pk, failed_form=None, **overrides):
    """The order page's context; `failed_form` is a transition form to show again with its errors."""
    context = selectors.order_detail(request.user, access_order(request.user, pk))
    for action in context["actions"]:
        if failed_form is not None and failed_form.name == action.name:
            action.form, failed_form = failed_form, None
        elif action.allowed:
            action.form = TransitionForm(action.name)
    # A form whose action the order no longer offers (it moved on meanwhile) still says what happened.
    context["action_errors"] = failed_form.non_field_errors() if failed_form is not None else []
    order = context["order"]
    primary = selectors.primary_action(context["actions"])
    return {
        **context,
        "primary_action": primary,
        # Without a transition to take, recording what the customer owes is the next step.
        "primary_payment": primary is None and order.takes_payments and order.balance > 0,
        "payment_form": PaymentForm(),
        "approval_form": ApprovalRequestForm(),
        "can_edit": order.is_open,
        "can_credit": can_change_order(request.user, order),
        **overrides,
    }


@require_GET
def order_detail(request, pk):
    return render(request, "orders/order_detail.html", _detail_context(request, pk))


@require_GET
def order_history(request, pk):
    """htmx: the order page's change history."""
    order = access_order(request.user, pk)
    if not request.htmx:
        return redirect(order)
    return render(request, "includes/field_history.html", {"history": selectors.order_history(order)})


def _done(request, order, message):
    messages.success(request, message)
    return HttpResponseClientRedirect(order.get_absolute_url()) if request.htmx else redirect(order)


def _failed(request, pk, partial, **context):
    """Re-renders the part of the page whose form failed (htmx), or the whole page."""
    context = _detail_context(request, pk, **context)
    if request.htmx:
        return render(request, f"orders/partials/{partial}.html", context)
    return render(request, "orders/order_detail.html", context)


TRANSITION_DONE = {
    "confirm": gettext_lazy("Order %(number)s confirmed."),
    "start_processing": gettext_lazy("Order %(number)s is being processed."),
    "finish": gettext_lazy("Order %(number)s finished; invoice %(invoice)s issued."),
    "close": gettext_lazy("Order %(number)s closed."),
}


@require_POST
def order_transition(request, pk, name):
    order = access_order(request.user, pk, for_write=True)
    if name not in services.TRANSITIONS:
        raise Http404
    form = TransitionForm(name, request.POST)
    if form.is_valid():
        fields = dict(form.cleaned_data)
        token = fields.pop("form_token")

        def act():
            services.ensure_status(order, request.POST.get("seen_status", ""))
            return services.TRANSITIONS[name](actor=request.user, order=order, **fields)

        def done(moved):
            return TRANSITION_DONE[name] % {"number": moved.number, "invoice": moved.invoice_number}

        try:
            message = run_once(request.user, order, token, act, done)
        except ValidationError as error:
            apply_order_errors(form, None, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            return _done(request, order, message)
    return _failed(request, pk, "actions", failed_form=form)


def _payment_message(payment):
    template = (
        _("Refund of %(amount)s recorded.") if payment.is_refund else _("Payment of %(amount)s recorded.")
    )
    return template % {"amount": money(abs(payment.amount))}


@require_POST
def payment_add(request, pk):
    order = access_order(request.user, pk, for_write=True)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            message = run_once(
                request.user,
                order,
                form.cleaned_data["form_token"],
                lambda: services.record_payment(actor=request.user, order=order, **form.service_fields()),
                _payment_message,
            )
        except ValidationError as error:
            apply_order_errors(form, None, error)
        else:
            return _done(request, order, message)
    return _failed(request, pk, "payments", payment_form=form)


def credit_note_create(request, pk):
    """The credit note form: what is returned or conceded, why, and the refund that goes with it."""
    order = access_order(request.user, pk, for_write=True)
    if not order.takes_credit_notes:
        messages.warning(request, _("This order takes no credit notes."))
        return redirect(order)
    form = CreditNoteForm(request.POST or None, lines=order.lines.all())
    if request.method == "POST" and form.is_valid():
        try:
            message = run_once(
                request.user,
                order,
                form.cleaned_data["form_token"],
                lambda: services.issue_credit_note(actor=request.user, order=order, **form.service_fields()),
                lambda note: (
                    _("Credit note %(number)s of %(amount)s %(currency)s issued.")
                    % {"number": note.number, "amount": money(note.amount), "currency": order.currency}
                ),
            )
        except ValidationError as error:
            apply_order_errors(form, None, error)
        else:
            messages.success(request, message)
            return redirect(order)
    return render(request, "orders/credit_note_form.html", {"order": order, "form": form})


# Approvals


@require_POST
def approval_request(request, pk):
    """A salesperson asks for the order above the approval limit to be approved."""
    order = access_order(request.user, pk, for_write=True)
    form = ApprovalRequestForm(request.POST)
    if form.is_valid():
        try:
            services.request_approval(actor=request.user, order=order, note=form.cleaned_data["note"])
        except ValidationError as error:
            apply_order_errors(form, None, error)
        else:
            return _done(
                request, order, _("Approval requested: a manager will answer on the approvals page.")
            )
    return _failed(request, pk, "actions", approval_form=form)


@require_GET
def approval_queue(request):
    if approvable_orders(request.user) is None:
        raise PermissionDenied
    return _approval_queue_page(request)


def _approval_queue_page(request, failed=None):
    """The queue, each request with its answer form (`failed`, a form with errors, for its own)."""
    requests = [
        (
            approval,
            failed
            if failed is not None and failed.approval_id == approval.pk
            else ApprovalDecisionForm(approval_id=approval.pk),
        )
        for approval in selectors.approval_queue(request.user)
    ]
    context = {"requests": requests, "approval_limit": settings.ORDER_APPROVAL_LIMIT}
    return render(request, "orders/approval_queue.html", context)


@require_POST
def approval_decide(request, pk):
    approval = access_approval(request.user, pk)
    form = ApprovalDecisionForm(request.POST, approval_id=approval.pk)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == ApprovalDecisionForm.APPROVE
        try:
            services.decide_approval(
                actor=request.user, approval=approval, approve=approve, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            apply_order_errors(form, None, error)
        else:
            template = _("Order %(number)s approved.") if approve else _("Order %(number)s refused.")
            messages.success(request, template % {"number": approval.order.number})
            return redirect("orders:approvals")
    if approval.status != approval.Status.PENDING:  # answered meanwhile: the queue no longer shows it
        for text in form.non_field_errors():
            messages.warning(request, str(text))
    return _approval_queue_page(request, failed=form)


def _statement_context(order):
    return {
        "order": order,
        "seller": SellerProfile.current(),
        "lines": list(order.lines.select_related("product")),
        "credit_notes": list(order.credit_notes.prefetch_related("lines")),
        "payments": list(order.payments.all()),
    }


@require_GET
def order_statement(request, pk):
    """The settlement statement (结算单) to print: not a tax invoice (发票), which the seller's tax
    system issues."""
    order = access_order(request.user, pk)
    return render(request, "orders/statement.html", _statement_context(order))


@require_GET
def order_statement_pdf(request, pk):
    """The same statement as a PDF (WeasyPrint, with the CJK fonts the machine has)."""
    order = access_order(request.user, pk)
    html = render_to_string("orders/statement_pdf.html", _statement_context(order), request=request)
    response = HttpResponse(statement_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{order.number}.pdf"'
    return response


def seller_profile(request):
    """Managers edit the seller named on every settlement statement."""
    if not is_manager(request.user):
        raise PermissionDenied
    form = SellerProfileForm(request.POST or None, instance=SellerProfile.current())
    if request.method == "POST" and form.is_valid():
        try:
            services.update_seller_profile(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_order_errors(form, None, error)
        else:
            messages.success(request, _("Seller profile saved."))
            return redirect("orders:seller")
    return render(request, "orders/seller_profile.html", {"form": form})
