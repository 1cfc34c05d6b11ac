"""API tokens: made by their user (or the command), stored hashed, expiring, revocable."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def client_with(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_the_page_makes_a_token_shows_it_once_and_stores_only_its_hash(sales_client, sales1):
    page = sales_client.post(reverse("api_tokens"), {"days": "30"})
    token = page.context["new_token"]
    assert token.startswith("crm_") and token in page.content.decode()
    stored = AuthToken.objects.get(user=sales1)
    assert token not in (stored.digest, stored.token_key) and token.startswith(stored.token_key)
    assert timedelta(days=29) < stored.expiry - timezone.now() <= timedelta(days=30)
    assert client_with(token).get("/api/v1/customers/").status_code == 200
    again = sales_client.get(reverse("api_tokens"))
    assert token not in again.content.decode()
    assert stored.token_key in again.content.decode()


def test_a_validity_not_offered_is_refused_at_the_field(sales_client, sales1):
    page = sales_client.post(reverse("api_tokens"), {"days": "100000"})
    assert page.context["form"].errors["days"]
    assert not AuthToken.objects.exists()


def test_revoking_a_token_refuses_it_from_then_on(sales_client, api_client, sales1):
    sales_client.post(reverse("api_tokens"), {"days": "90"})
    token = AuthToken.objects.get(user=sales1)
    api = api_client(sales1)  # a second token, which stays
    response = sales_client.post(reverse("api_token_revoke", args=[token.token_key]))
    assert response.status_code == 302
    assert not AuthToken.objects.filter(pk=token.pk).exists()
    assert api.get("/api/v1/customers/").status_code == 200


def test_no_one_revokes_another_users_token(sales_client, api_client, sales2):
    theirs = api_client(sales2)
    key = AuthToken.objects.get(user=sales2).token_key
    assert sales_client.post(reverse("api_token_revoke", args=[key])).status_code == 404
    for hostile in ("nul\x00key", "k" * 300, "ключ"):
        assert sales_client.post(reverse("api_token_revoke", args=[hostile])).status_code == 404
    assert theirs.get("/api/v1/customers/").status_code == 200


def test_an_expired_token_is_refused(api_client, sales1):
    api = api_client(sales1)
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        response = api.get("/api/v1/customers/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    "header", ["Token crm_nosuchtoken", "Token " + "a" * 200, "Token ab\x00cd", "Token ÿÿÿ", "Token a b"]
)
def test_a_bad_token_answers_401_not_500(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/customers/")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_no_credentials_answer_401_not_a_login_page():
    response = APIClient().get("/api/v1/orders/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_the_command_prints_a_working_token(sales1):
    out = StringIO()
    call_command("create_api_token", "sales1", "--days", "7", stdout=out, stderr=StringIO())
    token = out.getvalue().strip()
    assert client_with(token).get("/api/v1/products/").status_code == 200
    assert AuthToken.objects.get(user=sales1).expiry < timezone.now() + timedelta(days=8)
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError):
        call_command("create_api_token", "sales1", "--days", "0", stdout=StringIO(), stderr=StringIO())
    assert AuthToken.objects.count() == 1


def test_the_browser_session_works_too(sales_client):
    assert sales_client.get("/api/v1/customers/").status_code == 200
    # Without the CSRF token a signed-in browser cannot be made to write (DRF's session check).
    csrf_client = sales_client.__class__(enforce_csrf_checks=True)
    csrf_client.cookies = sales_client.cookies
    refused = csrf_client.post("/api/v1/customers/", {"name": "Forged"}, content_type="application/json")
    assert refused.status_code == 403
