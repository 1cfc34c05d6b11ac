"""The follow-up pages: My day, the week, the lists and their exports, a follow-up's and a
communication's page, and the customer page's forms to log a communication or schedule a follow-up."""

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from accounts.names import display_name
from crm import timeline
from crm.fields import parse_id
from crm.forms import save_from_form
from crm.lists import export_list, export_view, filtered_and_sorted, keyset_page
from customers.forms import active_users
from followups import selectors, services
from followups.access import (
    access_communication,
    access_customer_to_add,
    access_followup,
    can_change_followup,
)
from followups.filters import COMMUNICATION_SORTS, FOLLOWUP_SORTS, CommunicationFilter, FollowUpFilter
from followups.forms import (
    CancelForm,
    CommunicationForm,
    CompleteForm,
    FollowUpForm,
    MoreRowsForm,
    PostponeForm,
    ReassignForm,
    RescheduleForm,
    WeekForm,
    postpone_days,
    quick_add_context,
)
from followups.models import FollowUp
from opportunities.access import access_opportunity
from opportunities.models import Opportunity
from orders.access import access_order
from orders.models import Order

# --- the customer page: log a communication, schedule a follow-up ----------------------------


def _next_url(request):
    """The page a plain form returns to (`next`, posted or in the address), when it is on this site."""
    url = request.POST.get("next") or request.GET.get("next", "")
    return url if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}) else ""


def _links_asked_for(request, form_class):
    """Links given in the address, e.g. ?order=12 from an order's page: the form starts with them."""
    return {name: request.GET[name] for name in form_class._meta.model.LINK_FIELDS if name in request.GET}


def _next_of(request, form_class, customer):
    """`?after=ID`: the follow-up to schedule after that one (of this customer), pre-filled from it."""
    after = parse_id(request.GET.get("after"))
    if form_class is not FollowUpForm or after is None:
        return {}
    previous = access_followup(request.user, after)
    if previous.customer_id != customer.pk:
        raise Http404
    fields = ("subject", "priority", "assignee", "contact_person", "order", "opportunity")
    return {name: getattr(previous, f"{name}_id", None) or getattr(previous, name) for name in fields}


def _add_to_customer(request, customer_pk, form_class, tab, action, saved_message):
    """Runs a quick-add form of the customer page.

    From the page's htmx form it answers with the quick-add area (errors at the fields, or a fresh
    form) and tells the timeline to reload; an htmx GET is the area as the page first loads it.
    Without htmx it is a page of its own (phones, and the buttons of an order's or opportunity's
    page), which returns to `next` once saved.
    """
    customer = access_customer_to_add(request.user, customer_pk, request.POST or request.GET)
    form = form_class(
        request.POST or None,
        customer=customer,
        user=request.user,
        initial=_links_asked_for(request, form_class) | _next_of(request, form_class, customer),
    )
    saved = request.method == "POST" and save_from_form(form, lambda data: action(customer, form))
    if request.htmx:
        # The other form offers the same links: it reads what this one read (a fresh form reads anew).
        context = quick_add_context(
            request.user,
            customer,
            active_tab=tab,
            records=None if saved else form.records,
            **{f"{tab}_form": None if saved else form},
        )
        response = render(
            request, "followups/partials/quick_add.html", {**context, "saved": saved_message if saved else ""}
        )
        return trigger_client_event(response, timeline.CHANGED_EVENT) if saved else response
    back = _next_url(request) or customer.get_absolute_url()
    if saved:
        messages.success(request, saved_message)
        return redirect(back)
    context = {"customer": customer, "form": form, "tab": tab, "back": back}
    return render(request, "followups/add_to_customer.html", context)


def communication_log(request, customer_pk):
    return _add_to_customer(
        request,
        customer_pk,
        CommunicationForm,
        "communication",
        lambda customer, form: services.log_communication(
            actor=request.user, customer=customer, **form.service_fields()
        ),
        _("Communication logged."),
    )


@require_GET
def person_options(request, customer_pk):
    """htmx: the contact person select's options, after a person was added on the customer page;
    the one selected (`contact_person`) stays selected."""
    customer = access_customer_to_add(request.user, customer_pk, request.GET)
    if not request.htmx:
        return redirect(customer)
    form = CommunicationForm(
        customer=customer, user=request.user, initial={"contact_person": request.GET.get("contact_person")}
    )
    return render(request, "followups/partials/person_options.html", {"field": form["contact_person"]})


def followup_schedule(request, customer_pk):
    return _add_to_customer(
        request,
        customer_pk,
        FollowUpForm,
        "followup",
        lambda customer, form: services.schedule_followup(
            actor=request.user, customer=customer, **form.service_fields()
        ),
        _("Follow-up scheduled."),
    )


# --- acting on a follow-up: from My day (htmx) or from its page --------------------------------


def _back(request, followup):
    """Where a plain form returns to: the page it came from (`next`), or the follow-up's page."""
    return redirect(_next_url(request) or followup)


def _act(request, pk, form_class, action, done_message, moves=False):
    """Runs an action on a follow-up: from My day (htmx) it answers with the follow-up's row in its
    new state (done, cancelled, moved elsewhere; or with the form's errors) and the day's counts."""
    followup = access_followup(request.user, pk, for_write=True)
    form = form_class(request.POST)
    done = save_from_form(form, lambda data: action(followup, form))
    if request.htmx:
        return render(
            request,
            "followups/partials/my_day_row.html",
            {
                "followup": followup,
                "form": None if done else form,
                "moved": done and moves,
                "counts": selectors.my_day_counts(request.user),
                "update_counts": True,
            },
        )
    if done:
        messages.success(request, done_message)
    else:
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return _back(request, followup)


@require_POST
def followup_complete(request, pk):
    return _act(
        request,
        pk,
        CompleteForm,
        lambda followup, form: services.complete_followup(
            actor=request.user, followup=followup, result=form.cleaned_data["result"]
        ),
        _("Follow-up done."),
    )


@require_POST
def followup_postpone(request, pk):
    return _act(
        request,
        pk,
        PostponeForm,
        lambda followup, form: services.postpone_followup(
            actor=request.user, followup=followup, day=form.target_day()
        ),
        _("Follow-up postponed."),
        moves=True,
    )


@require_POST
def followup_reschedule(request, pk):
    return _act(
        request,
        pk,
        RescheduleForm,
        lambda followup, form: services.reschedule_followup(
            actor=request.user, followup=followup, due_at=form.cleaned_data["due_at"]
        ),
        _("Follow-up rescheduled."),
        moves=True,
    )


@require_POST
def followup_reassign(request, pk):
    return _act(
        request,
        pk,
        ReassignForm,
        lambda followup, form: services.reassign_followup(
            actor=request.user, followup=followup, assignee=form.cleaned_data["assignee"]
        ),
        _("Follow-up reassigned."),
    )


@require_POST
def followup_cancel(request, pk):
    return _act(
        request,
        pk,
        CancelForm,
        lambda followup, form: services.cancel_followup(
            actor=request.user, followup=followup, reason=form.cleaned_data["reason"]
        ),
        _("Follow-up cancelled."),
    )


# --- pages ---------------------------------------------------------------------------------------


@require_GET
def followup_postpone_menu(request, pk):
    """htmx: a row of My day's postpone menu, loaded when it is opened (thirty rows' menus written
    into the page made half its size and a third of its rendering time).

    Names the days a quick postpone moves the follow-up to, and takes today as the date input's minimum.
    """
    followup = access_followup(request.user, pk, for_write=True)
    if not request.htmx:
        return redirect(followup)
    days = {
        choice: f"{date_format(day, 'D')} {date_format(day, 'MONTH_DAY_FORMAT')}"
        for choice, day in postpone_days().items()
    }
    context = {
        "followup": followup,
        "postpone_days": days,
        "today_iso": timezone.localdate().isoformat(),
        "next": request.htmx.current_url_abs_path or "",
    }
    return render(request, "followups/partials/postpone_menu.html", context)


def _my_day_list_url(user, part):
    """The follow-up list filtered to a part of the user's day: where "Show more" goes without htmx."""
    today = timezone.localdate()
    days: dict[str, dict[str, object]] = {
        "overdue": {"overdue": "true"},
        "due_today": {"status": "open", "due_after": today, "due_before": today},
        "upcoming": {
            "status": "open",
            "due_after": today + timedelta(days=1),
            "due_before": today + timedelta(days=selectors.UPCOMING_DAYS),
        },
    }
    return f"{reverse('followups:index')}?{urlencode({'assignee': user.pk, **days[part]})}"


@require_GET
def my_day(request):
    list_urls = {part: _my_day_list_url(request.user, part) for part in selectors.MY_DAY_PARTS}
    context = selectors.my_day(request.user) | {"list_urls": list_urls}
    return render(request, "followups/my_day.html", context)


@require_GET
def my_day_more(request, part):
    """htmx: the next rows of a part of My day ("Show more"), with the button for the ones after them."""
    if part not in selectors.MY_DAY_PARTS:
        raise Http404
    if not request.htmx:
        return redirect("followups:today")
    rows, more = selectors.my_day_rows(request.user, part, MoreRowsForm(request.GET).after())
    context = {
        "rows": rows,
        "part": part,
        "more": more,
        "list_url": _my_day_list_url(request.user, part),
    }
    return render(request, "followups/partials/my_day_rows.html", context)


def _chosen_assignee(request, users):
    """The calendar shows the user's own follow-ups unless another user, or everyone ("all"), is chosen."""
    chosen = request.GET.get("assignee", "")
    if chosen == "all":
        return None
    return next((user for user in users if str(user.pk) == chosen), request.user)


@require_GET
def calendar(request):
    week = WeekForm(request.GET)
    for error in week.errors.get("week", []):
        messages.error(request, str(error))
    monday = selectors.monday_of(week.day())
    users = list(active_users())
    assignee = _chosen_assignee(request, users)
    context = selectors.week(request.user, monday, assignee)
    context.update(
        monday=monday,
        sunday=monday + timedelta(days=6),
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        today=timezone.localdate(),
        users=users,
        assignee=assignee,
    )
    return render(request, "followups/calendar.html", context)


def _filtered(request, filterset_class, queryset, sorts, default_sort, defaults=None):
    """The list's filter form, the rows it selects (none while it is invalid), and the sort key."""
    data = request.GET.copy()
    for name, value in (defaults or {}).items():
        data.setdefault(name, value)
    filterset = filterset_class(data, queryset=queryset, user=request.user)
    rows, sort = filtered_and_sorted(request, filterset, sorts, default_sort)
    return filterset, rows, sort


def _filtered_followups(request):
    # Open follow-ups until the user picks another status ("Any" included).
    defaults = {"status": FollowUp.Status.OPEN}
    queryset = selectors.followups_for_list(request.user)
    return _filtered(request, FollowUpFilter, queryset, FOLLOWUP_SORTS, "due", defaults)


def _filtered_communications(request):
    queryset = selectors.communications_for_list(request.user)
    return _filtered(request, CommunicationFilter, queryset, COMMUNICATION_SORTS, "-occurred")


def _list(request, filtered, sorts, template, current, export_url_name):
    filterset, rows, sort = filtered(request)
    context = {
        "filterset": filterset,
        "page": keyset_page(request, rows, sorts[sort]),
        "sort": sort,
        "current": current,
        "export_url": reverse(export_url_name),
    }
    return render(request, template, context)


@require_GET
def followup_list(request):
    return _list(
        request,
        _filtered_followups,
        FOLLOWUP_SORTS,
        "followups/followup_list.html",
        "index",
        "followups:export",
    )


@require_GET
def communication_list(request):
    return _list(
        request,
        _filtered_communications,
        COMMUNICATION_SORTS,
        "followups/communication_list.html",
        "communications",
        "followups:communications_export",
    )


def _record_names(item):
    """The order number and opportunity title a communication or follow-up is about, for the exports."""
    return [item.order.number if item.order else "", item.opportunity.title if item.opportunity else ""]


FOLLOWUP_EXPORT_HEADERS = [
    "ID",
    gettext_noop("Due"),
    gettext_noop("Subject"),
    gettext_noop("Customer"),
    gettext_noop("Assignee"),
    gettext_noop("Priority"),
    gettext_noop("Status"),
    gettext_noop("Notes"),
    gettext_noop("Result"),
    gettext_noop("Completed at"),
    gettext_noop("Created"),
    gettext_noop("Order"),
    gettext_noop("Opportunity"),
]


def _followup_row(followup):
    return [
        followup.pk,
        followup.due_at,
        followup.subject,
        followup.customer.name,
        display_name(followup.assignee),
        followup.get_priority_display(),
        followup.get_status_display(),
        followup.notes,
        followup.result,
        followup.completed_at,
        followup.created_at,
        *_record_names(followup),
    ]


COMMUNICATION_EXPORT_HEADERS = [
    "ID",
    gettext_noop("When"),
    gettext_noop("Customer"),
    gettext_noop("Channel"),
    gettext_noop("Direction"),
    gettext_noop("Subject"),
    gettext_noop("Content"),
    gettext_noop("Outcome"),
    gettext_noop("Contact person"),
    gettext_noop("Staff member"),
    gettext_noop("Order"),
    gettext_noop("Opportunity"),
]


def _communication_row(communication):
    return [
        communication.pk,
        communication.occurred_at,
        communication.customer.name,
        communication.get_channel_display(),
        communication.get_direction_display(),
        communication.subject,
        communication.content,
        communication.outcome,
        communication.contact_person.name if communication.contact_person else "",
        display_name(communication.staff),
        *_record_names(communication),
    ]


def _export(request, filtered, sorts, headers, to_row, name, title):
    filterset, rows, sort = filtered(request)
    return export_list(
        request, filterset, rows, sorts[sort], filename=name, headers=headers, row=to_row, sheet_title=title
    )


@export_view
def followup_export(request):
    return _export(
        request,
        _filtered_followups,
        FOLLOWUP_SORTS,
        FOLLOWUP_EXPORT_HEADERS,
        _followup_row,
        "followups",
        _("Follow-ups"),
    )


@export_view
def communication_export(request):
    return _export(
        request,
        _filtered_communications,
        COMMUNICATION_SORTS,
        COMMUNICATION_EXPORT_HEADERS,
        _communication_row,
        "communications",
        _("Communications"),
    )


@require_GET
def followup_detail(request, pk):
    followup = access_followup(request.user, pk)
    context = selectors.followup_detail(request.user, followup)
    context.update(
        can_act=followup.is_open and can_change_followup(request.user, followup),
        reschedule_form=RescheduleForm(initial={"due_at": followup.due_at}),
        reassign_form=ReassignForm(initial={"assignee": followup.assignee_id}),
        complete_form=CompleteForm(),
        cancel_form=CancelForm(),
    )
    return render(request, "followups/followup_detail.html", context)


@require_GET
def communication_detail(request, pk):
    communication = access_communication(request.user, pk)
    return render(
        request,
        "followups/communication_detail.html",
        selectors.communication_detail(request.user, communication),
    )


LINKED_RECORDS: dict[str, Callable[..., Order | Opportunity]] = {
    "order": access_order,
    "opportunity": access_opportunity,
}


@require_GET
def linked_card(request, link, pk):
    """htmx: an order's or opportunity's card of the communications and follow-ups about it (its
    page loads the card after itself)."""
    if link not in LINKED_RECORDS:
        raise Http404
    record = LINKED_RECORDS[link](request.user, pk)
    if not request.htmx:
        return redirect(record)
    card = selectors.linked_to(request.user, link, record)
    return render(request, "followups/partials/linked_card.html", {"card": card})
