"""The page where users create and revoke their own API tokens."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crm.api.tokens import create_api_token, revoke_api_token, tokens_of
from crm.forms import apply_errors

VALIDITY_CHOICES = [
    (30, gettext_lazy("30 days")),
    (90, gettext_lazy("90 days")),
    (365, gettext_lazy("1 year")),
]


class TokenForm(forms.Form):
    days = forms.TypedChoiceField(
        choices=VALIDITY_CHOICES, coerce=int, initial=90, label=gettext_lazy("Valid for")
    )


@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's tokens; a new one is shown once, on the answer to the form that made it."""
    user = request.user
    assert user.is_authenticated  # the login middleware lets no one else in
    form = TokenForm(request.POST or None)
    new_token = ""
    if request.method == "POST" and form.is_valid():
        try:
            _stored, new_token = create_api_token(actor=user, user=user, days=form.cleaned_data["days"])
        except ValidationError as error:
            apply_errors(form, error)
        else:
            form = TokenForm()
    context = {"form": form, "tokens": list(tokens_of(user)), "new_token": new_token}
    return render(request, "crm/api_tokens.html", context)


@require_POST
def api_token_revoke(request: HttpRequest, key: str) -> HttpResponse:
    user = request.user
    assert user.is_authenticated
    revoke_api_token(actor=user, user=user, token_key=key)
    messages.success(request, _("The token was revoked: requests with it are refused from now on."))
    return redirect("api_tokens")
