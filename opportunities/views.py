from datetime import timedelta
from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event

from accounts.selectors import owner_choices
from crm.forms import SearchForm, apply_errors
from crm.lists import export_list, export_view, filtered_and_sorted, keyset_page
from crm.roles import is_manager
from customers.access import access_customer
from opportunities import selectors, services
from opportunities.access import access_opportunity, can_change_opportunity
from opportunities.filters import DEFAULT_SORT, SORTS, OpportunityFilter
from opportunities.forms import (
    EVERYONE,
    BoardForm,
    LoseForm,
    MoveForm,
    OpportunityForm,
    ReopenForm,
    WinForm,
    line_formset,
)
from opportunities.models import Stage

NEW_OPPORTUNITY_CLOSE_DAYS = 30


# The list and its export


def _filtered(request):
    filterset = OpportunityFilter(
        request.GET, queryset=selectors.opportunities_for_list(request.user), user=request.user
    )
    queryset, sort = filtered_and_sorted(request, filterset, SORTS, DEFAULT_SORT)
    return filterset, queryset, sort


@require_GET
def opportunity_list(request):
    filterset, queryset, sort = _filtered(request)
    page = keyset_page(request, queryset, SORTS[sort])
    return render(
        request, "opportunities/opportunity_list.html", {"filterset": filterset, "page": page, "sort": sort}
    )


EXPORT_HEADERS = [
    "ID",
    gettext_noop("Title"),
    gettext_noop("Customer"),
    gettext_noop("Owner"),
    gettext_noop("Stage"),
    gettext_noop("Amount"),
    gettext_noop("Probability (%)"),
    gettext_noop("Expected value"),
    gettext_noop("Expected close date"),
    gettext_noop("Value score"),
    gettext_noop("Qualification score"),
    gettext_noop("Source"),
    gettext_noop("Order"),
    gettext_noop("Reason lost"),
    gettext_noop("Created"),
    gettext_noop("Updated"),
]


def _export_row(opportunity):
    return [
        opportunity.pk,
        opportunity.title,
        opportunity.customer.name,
        opportunity.owner.get_username(),
        opportunity.stage.name,
        opportunity.amount,
        opportunity.probability,
        opportunity.expected_value,
        opportunity.expected_close_date,
        opportunity.value_score,
        opportunity.qualification_score,
        opportunity.get_source_display(),
        opportunity.order.number if opportunity.order else "",
        opportunity.lost_reason,
        opportunity.created_at,
        opportunity.updated_at,
    ]


@export_view
def opportunity_export(request):
    filterset, queryset, sort = _filtered(request)
    return export_list(
        request,
        filterset,
        queryset,
        SORTS[sort],
        filename="opportunities",
        headers=EXPORT_HEADERS,
        row=_export_row,
        sheet_title=_("Opportunities"),
    )


# The board


def _board_params(request):
    return request.POST if request.method == "POST" else request.GET


def _board_owner(request, form):
    """The people the board can be filtered by, and the one chosen (None: everyone). Without a
    choice, managers land on their own cards ("everyone" is one click away); team leads on their
    team's and sales staff on everything they may see."""
    owners = list(owner_choices(request.user) or [])
    owner_id = form.data.get("owner") or ""
    if not owner_id:
        return owners, (request.user if is_manager(request.user) else None)
    return owners, next((person for person in owners if str(person.pk) == owner_id), None)


def _render_board(request, error=None, moved=None):
    form = BoardForm(_board_params(request))
    owners, owner = _board_owner(request, form)
    columns = selectors.board(request.user, owner, period=form.period, pinned=moved and moved.pk)
    context = {
        "columns": columns,
        "owners": owners,
        "owner": owner,
        "everyone": EVERYONE,
        "form": form,
        "period": form.period,
        "board_error": error,
        "moved": moved and _moved_card(columns, moved.pk),
        "today": timezone.localdate(),
    }
    if request.htmx:
        return render(request, "opportunities/partials/board.html", context)
    return render(request, "opportunities/board.html", context)


def _moved_card(columns, pk):
    """The card just moved as the board shows it now (None if the filters hide it)."""
    return next((card for column in columns for card in column["cards"] if card.pk == pk), None)


@require_GET
def opportunity_board(request):
    return _render_board(request)


@require_GET
def board_column(request, stage_pk):
    """htmx: a column's next cards ("load more"), with the button for the ones after them."""
    stage = get_object_or_404(Stage, pk=stage_pk)
    if not request.htmx:
        board_filters = request.GET.copy()
        board_filters.pop("offset", None)
        query = board_filters.urlencode()
        return redirect(reverse("opportunities:board") + (f"?{query}" if query else ""))
    form = BoardForm(request.GET)
    _owners, owner = _board_owner(request, form)
    cards, next_offset = selectors.board_column(
        request.user, stage, owner, period=form.period, offset=form.offset_value
    )
    context = {
        "column": {"stage": stage, "cards": cards, "next_offset": next_offset},
        "today": timezone.localdate(),
    }
    return render(request, "opportunities/partials/board_more.html", context)


# One opportunity


def opportunity_detail(request, pk):
    opportunity = access_opportunity(request.user, pk)
    context = selectors.opportunity_detail(opportunity)
    context.update(
        can_act=can_change_opportunity(request.user, opportunity),
        move_form=MoveForm(initial={"stage": opportunity.stage, "from_stage": opportunity.stage}),
        reopen_form=ReopenForm(),
        reopen_problem=None if opportunity.is_open else services.reopen_problem(opportunity),
    )
    return render(request, "opportunities/opportunity_detail.html", context)


def _apply_line_errors(form, lines, error):
    """Puts a service's errors next to the fields they name: lines-<index>-<field> on the product rows."""
    if not hasattr(error, "error_dict"):
        apply_errors(form, error)
        return
    other = {}
    filled = lines.filled_forms()
    for key, texts in error.message_dict.items():
        if key.startswith("lines-"):
            _prefix, index, field = key.split("-", 2)
            filled[int(index)].add_error(field if field in lines.form.base_fields else None, texts)
        else:
            other[key] = texts
    if other:
        apply_errors(form, ValidationError(other))


def _save_opportunity(form, lines, save):
    """The opportunity `save` returns for the forms' data; None, with the refusal on the forms, if the
    forms are invalid or the service refuses."""
    if not (form.is_valid() and lines.is_valid()):
        return None
    try:
        return save(form.service_fields(), lines.lines())
    except ValidationError as error:
        _apply_line_errors(form, lines, error)
        return None


def opportunity_create(request):
    try:  # the customer the address names (?customer=ID), if the user may open an opportunity for it
        customer = access_customer(request.user, request.GET.get("customer"), for_write=True)
    except Http404:
        customer = None
    initial = {
        "expected_close_date": timezone.localdate() + timedelta(days=NEW_OPPORTUNITY_CLOSE_DAYS),
        "customer": customer,
        "customer_search": customer.name if customer else "",
        "amount": None,
        "probability": None,
    }
    form = OpportunityForm(request.POST or None, initial=initial, user=request.user, creating=True)
    lines = line_formset(request.POST or None)
    if request.method == "POST":
        opportunity = _save_opportunity(
            form,
            lines,
            lambda fields, new_lines: services.create_opportunity(
                actor=request.user, lines=new_lines, **fields
            ),
        )
        if opportunity:
            messages.success(request, _("Opportunity “%(title)s” created.") % {"title": opportunity.title})
            return redirect(opportunity)
    return render(
        request, "opportunities/opportunity_form.html", {"form": form, "lines": lines, "creating": True}
    )


def opportunity_edit(request, pk):
    opportunity = access_opportunity(request.user, pk, for_write=True)
    if not opportunity.is_open:
        messages.error(request, _("A won or lost opportunity cannot be changed; reopen it first."))
        return redirect(opportunity)
    form = OpportunityForm(request.POST or None, instance=opportunity, user=request.user, creating=False)
    lines = line_formset(request.POST or None, opportunity)
    if request.method == "POST":
        saved = _save_opportunity(
            form,
            lines,
            lambda fields, new_lines: services.update_opportunity(
                actor=request.user, opportunity=opportunity, lines=new_lines, **fields
            ),
        )
        if saved:
            messages.success(request, _("Opportunity saved."))
            return redirect(saved)
        opportunity.refresh_from_db()
    return render(
        request,
        "opportunities/opportunity_form.html",
        {"form": form, "lines": lines, "opportunity": opportunity},
    )


# Stage changes


def _from_board(request):
    return bool(request.htmx and request.POST.get("board"))


def _dialog(request, template, context):
    """A form as the board's dialog, or (without htmx) as a page of its own."""
    if request.htmx:
        response = render(request, f"opportunities/partials/{template}_dialog.html", context)
        response = reswap(retarget(response, "#board-dialog-content"), "innerHTML")
        return trigger_client_event(response, "board:dialog", after="settle")
    return render(request, f"opportunities/{template}.html", context)


@require_http_methods(["GET", "POST"])
def opportunity_move(request, pk):
    """Move to a stage: from the board (drag and drop, or the card's Move dialog) or from the
    opportunity's page. Open stages take the move at once; won and lost ask first, in a dialog."""
    opportunity = access_opportunity(request.user, pk, for_write=True)
    if request.method == "GET":
        if not request.htmx:
            return redirect(opportunity)
        form = MoveForm(initial={"stage": opportunity.stage, "from_stage": opportunity.stage})
        return _dialog(request, "move", {"opportunity": opportunity, "form": form})
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _move_refused(request, opportunity, _("Choose a stage."))
    stage, from_stage = form.cleaned_data["stage"], form.cleaned_data["from_stage"]
    if stage.kind == Stage.Kind.WON:
        return win_dialog(request, opportunity, WinForm(initial={"from_stage": from_stage}))
    if stage.kind == Stage.Kind.LOST:
        return lose_dialog(request, opportunity, LoseForm(initial={"from_stage": from_stage}))
    try:
        services.move_stage(
            actor=request.user,
            opportunity=opportunity,
            stage=stage,
            note=form.cleaned_data["note"],
            from_stage=from_stage,
        )
    except ValidationError as error:
        return _move_refused(request, opportunity, " ".join(error.messages))
    if _from_board(request):
        return _board_update(request, moved=opportunity)
    messages.success(request, _("Moved to “%(stage)s”.") % {"stage": stage.name})
    return redirect(opportunity)


def _board_update(request, error=None, moved=None):
    """The board redrawn after a change made on it, closing the dialog the change came from; the
    card moved is shown (and announced) even when it is not among its column's first cards."""
    response = reswap(retarget(_render_board(request, error, moved), "#board"), "innerHTML")
    return trigger_client_event(response, "board:close-dialog")


def _move_refused(request, opportunity, message):
    if _from_board(request):
        return _board_update(request, error=message)
    messages.error(request, message)
    return redirect(opportunity)


def win_dialog(request, opportunity, form):
    lines = list(opportunity.lines.select_related("product"))
    return _dialog(request, "win", {"opportunity": opportunity, "form": form, "lines": lines})


def lose_dialog(request, opportunity, form):
    return _dialog(request, "lose", {"opportunity": opportunity, "form": form})


def _run(form, action):
    """What the service returns for the form's data; None, with the refusal on the form, if it refuses."""
    if not form.is_valid():
        return None
    try:
        return action(**form.cleaned_data)
    except ValidationError as error:
        apply_errors(form, error)
        return None


@require_http_methods(["GET", "POST"])
def opportunity_win(request, pk):
    opportunity = access_opportunity(request.user, pk, for_write=True)
    form = WinForm(request.POST or None, initial={"from_stage": opportunity.stage})
    won = request.method == "POST" and _run(
        form, partial(services.mark_won, actor=request.user, opportunity=opportunity)
    )
    if not won:
        return win_dialog(request, opportunity, form)
    created = _("Won! Order %(number)s was created from “%(title)s”.")
    messages.success(request, created % {"number": won.order.number, "title": won.title})
    target = won.order.get_absolute_url()
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


@require_http_methods(["GET", "POST"])
def opportunity_lose(request, pk):
    opportunity = access_opportunity(request.user, pk, for_write=True)
    form = LoseForm(request.POST or None, initial={"from_stage": opportunity.stage})
    lose = partial(services.mark_lost, actor=request.user, opportunity=opportunity)
    if not (request.method == "POST" and _run(form, lose)):
        return lose_dialog(request, opportunity, form)
    if _from_board(request):
        return _board_update(request, moved=opportunity)
    messages.success(request, _("Marked as lost."))
    return redirect(opportunity)


@require_POST
def opportunity_reopen(request, pk):
    opportunity = access_opportunity(request.user, pk, for_write=True)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an open stage to reopen it in."))
        return redirect(opportunity)
    try:
        services.reopen(
            actor=request.user,
            opportunity=opportunity,
            stage=form.cleaned_data["stage"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Reopened."))
    return redirect(opportunity)


@require_GET
def customer_choices(request):
    """htmx: the customers matching what is typed into the opportunity form's customer field."""
    search = SearchForm(request.GET, field_name="customer_search")
    customers = selectors.customer_choices(request.user, search.query) if search.is_valid() else []
    return render(request, "opportunities/partials/customer_choices.html", {"customers": customers})
