"""User and team management for managers: thin views over accounts.services."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import DeactivateForm, TeamForm, UserForm
from accounts.models import Membership
from accounts.names import display_name
from crm.access import require_manager
from crm.forms import save_from_form
from crm.http import AuthenticatedRequest


def user_list(request: AuthenticatedRequest) -> HttpResponse:
    require_manager(request.user)
    return render(request, "accounts/user_list.html", {"users": selectors.users_for_list()})


def user_create(request: AuthenticatedRequest) -> HttpResponse:
    require_manager(request.user)
    form = UserForm(request.POST or None)
    base_url = request.build_absolute_uri("/")
    created: list[object] = []
    if request.method == "POST" and save_from_form(
        form,
        lambda data: created.append(
            services.create_user(actor=request.user, base_url=base_url, **form.service_fields())
        ),
    ):
        messages.success(
            request,
            _("%(name)s was added; a link to set a password was sent to %(email)s.")
            % {"name": display_name(created[0]), "email": form.cleaned_data["email"]},
        )
        return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form})


def user_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_manager(request.user)
    person = selectors.user_by_id(pk)
    membership = Membership.objects.filter(user=person).select_related("team").first()
    initial = UserForm.initial_for(person, services.role_of(person), membership.team if membership else None)
    form = UserForm(request.POST or None, initial=initial)
    if request.method == "POST" and save_from_form(
        form, lambda data: services.update_user(actor=request.user, user=person, **form.service_fields())
    ):
        messages.success(request, _("%(name)s was saved.") % {"name": display_name(person)})
        return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form, "person": person})


def team_list(request: AuthenticatedRequest) -> HttpResponse:
    require_manager(request.user)
    return render(request, "accounts/team_list.html", {"teams": selectors.teams_for_list()})


def team_create(request: AuthenticatedRequest) -> HttpResponse:
    require_manager(request.user)
    form = TeamForm(request.POST or None)
    if request.method == "POST" and save_from_form(
        form, lambda data: services.create_team(actor=request.user, name=data["name"], region=data["region"])
    ):
        messages.success(request, _("Team “%(name)s” was added.") % {"name": form.cleaned_data["name"]})
        return redirect("accounts:teams")
    return render(request, "accounts/team_form.html", {"form": form})


def team_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_manager(request.user)
    team = selectors.team_by_id(pk)
    form = TeamForm(request.POST or None, initial={"name": team.name, "region": team.region})
    if request.method == "POST" and save_from_form(
        form,
        lambda data: services.update_team(
            actor=request.user, team=team, name=data["name"], region=data["region"]
        ),
    ):
        messages.success(request, _("Team “%(name)s” was saved.") % {"name": form.cleaned_data["name"]})
        return redirect("accounts:teams")
    return render(request, "accounts/team_form.html", {"form": form, "team": team})


def user_deactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Shows what the user hands over, then deactivates them and moves it all to the chosen successor."""
    require_manager(request.user)
    person = selectors.user_by_id(pk)
    form = DeactivateForm(request.POST or None, leaving=person)
    moved: list[dict[str, int]] = []
    if request.method == "POST" and save_from_form(
        form,
        lambda data: moved.append(
            services.deactivate_user(actor=request.user, user=person, successor=data["successor"])
        ),
    ):
        counts = moved[0]
        messages.success(
            request,
            _(
                "%(name)s was deactivated. %(successor)s took over %(customers)s customers, "
                "%(opportunities)s opportunities, %(orders)s orders and %(followups)s follow-ups."
            )
            % {
                "name": display_name(person),
                "successor": display_name(form.cleaned_data["successor"]),
                **counts,
            },
        )
        return redirect("accounts:users")
    return render(
        request,
        "accounts/user_deactivate.html",
        {"form": form, "person": person, "counts": services.handover_counts(person)},
    )


@require_POST
def user_password_link(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_manager(request.user)
    person = selectors.user_by_id(pk)
    try:
        services.send_password_link(actor=request.user, user=person, base_url=request.build_absolute_uri("/"))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("A new link to set a password was sent to %(email)s.") % {"email": person.email}
        )
    return redirect("accounts:user_edit", pk=person.pk)


@require_POST
def user_reactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_manager(request.user)
    person = services.reactivate_user(actor=request.user, user=selectors.user_by_id(pk))
    messages.success(request, _("%(name)s can log in again.") % {"name": display_name(person)})
    return redirect("accounts:user_edit", pk=person.pk)
