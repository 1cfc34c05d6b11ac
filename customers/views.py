from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from accounts.names import display_name
from accounts.selectors import owner_choices
from crm import timeline
from crm.fields import parse_id
from crm.forms import SearchForm, apply_errors, save_from_form
from crm.lists import export_list, export_view, filtered_and_sorted, keyset_page
from crm.roles import is_manager
from customers import selectors, services
from customers.access import (
    access_contact_method,
    access_contact_person,
    access_customer,
    access_customer_card,
    access_need,
    can_change_customer,
)
from customers.filters import DEFAULT_SORT, SORTS, CustomerFilter
from customers.forms import (
    PERSONS_CHANGED_EVENT,
    BulkActionForm,
    ContactMethodForm,
    ContactMethodFormSet,
    ContactPersonForm,
    CustomerForm,
    MergeForm,
    NeedForm,
    NeedStatusForm,
)
from customers.models import Need
from customers.reports import latest_score
from opportunities.selectors import open_opportunities_for_customer
from orders.selectors import customer_orders


def _filtered_customers(request):
    filterset = CustomerFilter(
        request.GET,
        queryset=selectors.customers_for_list(request.user),
        owners=owner_choices(request.user),
    )
    queryset, sort = filtered_and_sorted(request, filterset, SORTS, DEFAULT_SORT)
    return filterset, queryset, sort


@require_GET
def customer_list(request):
    filterset, queryset, sort = _filtered_customers(request)
    # A search reads at most SEARCH_MATCH_LIMIT matches: past that the total says "200+".
    searched = filterset.is_valid() and filterset.form.cleaned_data.get("q")
    count_limit = settings.SEARCH_MATCH_LIMIT if searched else None
    page = keyset_page(request, queryset, SORTS[sort], count_limit=count_limit)
    manager = is_manager(request.user)
    return render(
        request,
        "customers/customer_list.html",
        {
            "filterset": filterset,
            "page": page,
            "sort": sort,
            "bulk_form": BulkActionForm(user=request.user) if manager else None,
        },
    )


EXPORT_HEADERS = [
    "ID",
    gettext_noop("Name"),
    gettext_noop("Kind"),
    gettext_noop("Owner"),
    gettext_noop("Lifecycle stage"),
    gettext_noop("Source"),
    gettext_noop("Industry"),
    gettext_noop("Size"),
    gettext_noop("Region"),
    gettext_noop("Address"),
    gettext_noop("Phone"),
    gettext_noop("Email"),
    gettext_noop("Tags"),
    gettext_noop("Open needs"),
    gettext_noop("Created"),
    gettext_noop("Updated"),
]


def _export_row(customer):
    return [
        customer.pk,
        customer.name,
        customer.get_kind_display(),
        customer.owner.get_username(),
        customer.get_lifecycle_stage_display(),
        customer.get_source_display(),
        customer.get_industry_display(),
        customer.get_size_display(),
        customer.region,
        customer.address,
        customer.primary_phone,
        customer.primary_email,
        ", ".join(tag.name for tag in customer.tags.all()),
        customer.open_needs,
        customer.created_at,
        customer.updated_at,
    ]


@export_view
def customer_export(request):
    filterset, queryset, sort = _filtered_customers(request)
    return export_list(
        request,
        filterset,
        queryset,
        SORTS[sort],
        filename="customers",
        headers=EXPORT_HEADERS,
        row=_export_row,
        sheet_title=_("Customers"),
    )


def customer_create(request):
    form = CustomerForm(request.POST or None, user_is_manager=is_manager(request.user))
    methods = ContactMethodFormSet(request.POST or None, prefix="methods")
    duplicates = []
    if request.method == "POST" and form.is_valid() and methods.is_valid():
        contact_values = [m["value"] for m in methods.methods()]
        duplicates = selectors.duplicate_warnings(request.user, form.cleaned_data["name"], contact_values)
        if not duplicates or form.cleaned_data["save_anyway"]:
            try:
                customer = services.create_customer(
                    actor=request.user, contact_methods=methods.methods(), **form.service_fields()
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.name})
                return redirect(customer)
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "methods": methods, "duplicates": duplicates, "creating": True},
    )


def customer_edit(request, pk):
    customer = access_customer(request.user, pk, for_write=True)
    manager = is_manager(request.user)
    form = CustomerForm(request.POST or None, instance=customer, user_is_manager=manager)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        if "name" in form.changed_data:
            duplicates = selectors.duplicate_warnings(request.user, form.cleaned_data["name"], exclude_pk=pk)
        if not duplicates or form.cleaned_data["save_anyway"]:
            fields = form.service_fields()
            new_owner = fields.pop("owner", None)
            try:
                services.update_customer(actor=request.user, customer=customer, **fields)
                if manager and new_owner and new_owner != customer.owner:
                    services.reassign_owner(actor=request.user, customers=[customer], new_owner=new_owner)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Customer saved."))
                return redirect(customer)
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "customer": customer, "duplicates": duplicates},
    )


def customer_detail(request, pk):
    """The customer's page: its facts, how to reach them and their needs. The cards that read other
    apps' tables (orders, opportunities), the quick-add forms and the timeline load on their own
    (htmx, each from its endpoint below), so the page costs the same few queries however much the
    customer has."""
    try:
        customer = access_customer(request.user, pk)
    except Http404:
        return _customer_card(request, access_customer_card(request.user, pk))
    context = selectors.customer_detail(customer)
    context.update(
        method_form=ContactMethodForm(),
        person_form=ContactPersonForm(),
        need_form=NeedForm(),
        can_edit=can_change_customer(request.user, customer),
        need_statuses=Need.Status.choices,
        rfm=latest_score(customer),
    )
    return render(request, "customers/customer_detail.html", context)


@require_GET
def customer_orders_card(request, pk):
    """htmx: the customer page's orders card (the latest orders, their count, the lifetime value)."""
    customer = access_customer(request.user, pk)
    if not request.htmx:
        return redirect(customer)
    context = {
        "customer": customer,
        "orders": customer_orders(request.user, customer),
        "can_edit": can_change_customer(request.user, customer),
    }
    return render(request, "orders/partials/customer_orders_card.html", context)


@require_GET
def customer_opportunities_card(request, pk):
    """htmx: the customer page's card of open opportunities, next to close first."""
    customer = access_customer(request.user, pk)
    if not request.htmx:
        return redirect(customer)
    context = {
        "customer": customer,
        "open_opportunities": open_opportunities_for_customer(customer),
        "can_edit": can_change_customer(request.user, customer),
    }
    return render(request, "opportunities/partials/customer_card.html", context)


def _customer_card(request, customer):
    """The read-only card of a customer someone else owns, for whoever works a record of theirs on it."""
    return render(request, "customers/customer_card.html", selectors.customer_card(request.user, customer))


@require_GET
def customer_timeline(request, pk):
    """htmx: a page of the customer's timeline, after `cursor` (the "load more" button), or the first
    (the customer page loads it once shown, and again when something was added)."""
    customer = access_customer(request.user, pk)
    if not request.htmx:
        return redirect(customer)
    page = timeline.customer_timeline(customer, request.GET.get("cursor", ""))
    return render(request, "crm/timeline/entries.html", {"customer": customer, "timeline": page})


def _section(request, customer, template, **context):
    """Re-renders one section of the customer page for htmx, or returns to the page without JS."""
    if not request.htmx:
        return redirect(customer)
    return render(
        request, f"customers/partials/{template}.html", {"customer": customer, "can_edit": True, **context}
    )


def _replace_section(response, target):
    """An inline edit that saved answers with its whole section, swapped in place of the row."""
    return reswap(retarget(response, target), "innerHTML")


def _methods_section(request, customer, form=None):
    methods = list(customer.contact_methods.all())
    return _section(
        request, customer, "contact_methods", contact_methods=methods, method_form=form or ContactMethodForm()
    )


def _persons_section(request, customer, form=None):
    persons = list(customer.contact_persons.all())
    return _section(
        request, customer, "contact_persons", contact_persons=persons, person_form=form or ContactPersonForm()
    )


def _persons_changed(response, changed):
    """Tells the page's other forms (htmx) that the contact persons changed, so their pickers reload."""
    return (
        trigger_client_event(response, PERSONS_CHANGED_EVENT)
        if changed and response.status_code == 200
        else response
    )


def _needs_section(request, customer, form=None):
    needs = list(customer.needs.filter(status__in=Need.OPEN_STATUSES).select_related("raised_by"))
    closed = customer.needs.filter(status__in=Need.CLOSED_STATUSES).count()
    return _section(
        request,
        customer,
        "needs",
        open_needs=needs,
        closed_needs_count=closed,
        need_form=form or NeedForm(),
        need_statuses=Need.Status.choices,
    )


@require_POST
def contact_method_add(request, pk):
    customer = access_customer(request.user, pk, for_write=True)
    form = ContactMethodForm(request.POST)
    saved = save_from_form(
        form, lambda data: services.add_contact_method(actor=request.user, customer=customer, **data)
    )
    return _methods_section(request, customer, None if saved else form)


def contact_method_edit(request, pk):
    method = access_contact_method(request.user, pk, for_write=True)
    form = ContactMethodForm(
        request.POST or None,
        instance=method if request.method == "GET" else None,
        auto_id=f"method{method.pk}_%s",
    )
    if request.method == "POST":
        if save_from_form(
            form, lambda data: services.update_contact_method(actor=request.user, method=method, **data)
        ):
            return _replace_section(_methods_section(request, method.customer), "#contact-methods")
        method.refresh_from_db()
    return render(request, "customers/partials/contact_method_edit.html", {"method": method, "form": form})


@require_POST
def contact_method_delete(request, pk):
    method = access_contact_method(request.user, pk, for_write=True)
    services.remove_contact_method(actor=request.user, method=method)
    return _methods_section(request, method.customer)


@require_POST
def contact_person_add(request, pk):
    customer = access_customer(request.user, pk, for_write=True)
    form = ContactPersonForm(request.POST)
    saved = save_from_form(
        form, lambda data: services.add_contact_person(actor=request.user, customer=customer, **data)
    )
    return _persons_changed(_persons_section(request, customer, None if saved else form), saved)


def contact_person_edit(request, pk):
    person = access_contact_person(request.user, pk, for_write=True)
    form = ContactPersonForm(
        request.POST or None,
        instance=person if request.method == "GET" else None,
        auto_id=f"person{person.pk}_%s",
    )
    if request.method == "POST":
        if save_from_form(
            form, lambda data: services.update_contact_person(actor=request.user, person=person, **data)
        ):
            section = _replace_section(_persons_section(request, person.customer), "#contact-persons")
            return _persons_changed(section, True)
        person.refresh_from_db()
    return render(request, "customers/partials/contact_person_edit.html", {"person": person, "form": form})


@require_POST
def contact_person_delete(request, pk):
    person = access_contact_person(request.user, pk, for_write=True)
    services.remove_contact_person(actor=request.user, person=person)
    return _persons_changed(_persons_section(request, person.customer), True)


@require_POST
def need_add(request, pk):
    customer = access_customer(request.user, pk, for_write=True)
    form = NeedForm(request.POST)
    if save_from_form(form, lambda data: services.raise_need(actor=request.user, customer=customer, **data)):
        return trigger_client_event(_needs_section(request, customer), timeline.CHANGED_EVENT)
    return _needs_section(request, customer, form)


@require_POST
def need_status(request, pk):
    need = access_need(request.user, pk, for_write=True)
    form = NeedStatusForm(request.POST)
    if not save_from_form(
        form, lambda data: services.update_need(actor=request.user, need=need, status=data["status"])
    ):
        return _needs_section(request, need.customer)
    return trigger_client_event(_needs_section(request, need.customer), timeline.CHANGED_EVENT)


def customer_merge(request, pk):
    survivor = access_customer(request.user, pk, for_write=True)
    form = MergeForm(request.POST or request.GET or None)
    if not form.is_valid():
        messages.error(request, _("Enter the number of the customer to merge into this one."))
        return redirect(survivor)
    merged = access_customer(request.user, form.cleaned_data["other"], for_write=True)
    if request.method == "POST":
        try:
            services.merge_customers(actor=request.user, survivor=survivor, merged=merged)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except PermissionDenied as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, _("“%(merged)s” was merged into this customer.") % {"merged": merged.name}
            )
        return redirect(survivor)
    context = {
        "survivor": survivor,
        "merged": merged,
        "moves": selectors.merge_preview(survivor, merged),
        "duplicates": selectors.duplicate_contact_methods(survivor, merged),
    }
    return render(request, "customers/customer_merge.html", context)


@require_GET
def merge_candidates(request, pk):
    """The customers to merge into this one, found by name, phone or number: htmx answers the list
    under the customer page's search box; without JS it is a page of its own."""
    survivor = access_customer(request.user, pk, for_write=True)
    search = SearchForm(request.GET)
    context = {
        "survivor": survivor,
        "query": search.query,
        "candidates": selectors.merge_candidates(request.user, survivor, search.query),
    }
    if request.htmx:
        return render(request, "customers/partials/merge_candidates.html", context)
    return render(request, "customers/merge_search.html", context)


@require_POST
def customer_bulk(request):
    if not is_manager(request.user):
        raise PermissionDenied
    form = BulkActionForm(request.POST, user=request.user)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("customers:index")
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect(back or "customers:index")
    customers = list(form.cleaned_data["customers"])
    if form.cleaned_data["action"] == BulkActionForm.REASSIGN:
        owner = form.cleaned_data["owner"]
        changed = services.reassign_owner(actor=request.user, customers=customers, new_owner=owner)
        messages.success(
            request,
            ngettext(
                "%(count)s customer now belongs to %(owner)s.",
                "%(count)s customers now belong to %(owner)s.",
                changed,
            )
            % {"count": changed, "owner": display_name(owner)},
        )
    else:
        tag = services.add_tag(actor=request.user, customers=customers, tag_name=form.cleaned_data["tag"])
        messages.success(
            request,
            ngettext(
                "Tagged %(count)s customer “%(tag)s”.",
                "Tagged %(count)s customers “%(tag)s”.",
                len(customers),
            )
            % {"count": len(customers), "tag": tag.name},
        )
    return redirect(back or "customers:index")


@require_GET
def duplicate_check(request):
    """htmx: likely duplicates of what is being typed into the customer form."""
    methods = ContactMethodFormSet(request.GET, prefix="methods")
    values = [form.cleaned_data["value"] for form in methods.forms if form.has_changed() and form.is_valid()]
    warnings = selectors.duplicate_warnings(
        request.user,
        SearchForm(request.GET, field_name="name").query,
        values,
        exclude_pk=parse_id(request.GET.get("exclude", "")),
    )
    return render(request, "customers/partials/duplicates.html", {"duplicates": warnings})


@require_GET
def needs_report(request):
    report = selectors.needs_report(request.user)
    return render(request, "customers/needs_report.html", {"report": report})
