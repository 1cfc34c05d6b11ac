import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db.models import F, Model
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.views.defaults import server_error

from crm.demo import CUSTOMER_RECORD_TIMES
from crm.roles import is_manager
from customers.demo import DEMO_CUSTOMER_COUNT
from customers.models import Customer
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

# A tenth of the demo: every kind of record it makes, in a second instead of eight.
DEMO_TEST_SCALE = 0.1
APP_PAGES = ["/", "/customers/", "/opportunities/", "/orders/", "/followups/", "/reports/", "/search/?q=x"]


@pytest.mark.parametrize("url", [*APP_PAGES, "/accounts/password/"])
def test_pages_redirect_anonymous_users_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url.replace('?', '%3F').replace('=', '%3D')}"


@pytest.mark.parametrize("url", APP_PAGES)
def test_pages_render_for_sales_staff(sales_client, url):
    response = sales_client.get(url)
    assert response.status_code == 200
    assert b'hx-headers=\'{"X-CSRFToken"' in response.content
    assert b"htmx" in response.content


def test_login_with_the_right_password_lands_on_the_dashboard(client, sales1):
    response = client.post(reverse("login"), {"username": "sales1", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.get("/").context["user"] == sales1


def test_login_with_a_wrong_password_says_so_and_keeps_the_username(client, sales1):
    response = client.post(reverse("login"), {"username": "sales1", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert b'value="sales1"' in response.content
    assert "_auth_user_id" not in client.session


def test_repeated_failed_logins_lock_the_account(client, sales1):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "sales1", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "sales1", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_logout_needs_a_post_and_ends_the_session(sales_client):
    assert sales_client.get(reverse("logout")).status_code == 405
    response = sales_client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert sales_client.get("/").status_code == 302


def test_password_change_form_shows_errors_at_the_field(sales_client, sales1):
    response = sales_client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "Another-pass-123", "new_password2": "Another-pass-123"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    sales1.refresh_from_db()
    assert sales1.check_password(PASSWORD)


def test_sales_staff_get_403_in_the_admin(sales_client):
    for url in ["/admin/", "/admin/auth/user/", "/admin/login/"]:
        response = sales_client.get(url)
        assert response.status_code == 403, url
        assert 'class="error-code">403<' in response.content.decode()


def test_anonymous_admin_visitors_are_sent_to_the_app_login(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert response.status_code == 200


def test_managers_get_the_admin_and_its_link(manager_client):
    assert manager_client.get("/admin/").status_code == 200
    assert manager_client.get("/admin/auth/user/").status_code == 200
    assert reverse("admin:index").encode() in manager_client.get("/").content


def test_sales_staff_see_no_admin_link(sales_client):
    assert reverse("admin:index").encode() not in sales_client.get("/").content


def test_roles_groups_and_permissions(sales1, manager):
    sales, managers = Group.objects.get(name="Sales"), Group.objects.get(name="Managers")
    assert managers.permissions.filter(codename="view_user").exists()
    assert not sales.permissions.filter(content_type__app_label="auth").exists()
    assert not sales.permissions.filter(codename__startswith="delete_").exists()
    assert is_manager(manager) and not is_manager(sales1)


def test_chinese_is_the_default_and_english_can_be_chosen(sales_client):
    assert "客户" in sales_client.get("/").content.decode()
    response = sales_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response["Location"] == "/"
    page = sales_client.get("/").content.decode()
    assert "Customers" in page and "客户" not in page


def test_language_can_be_chosen_before_logging_in(client):
    client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert "Sign in to the CRM" in client.get(reverse("login")).content.decode()


def test_unknown_pages_get_the_styled_404(sales_client):
    response = sales_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "404" in response.content.decode() and 'id="main-nav"' in response.content.decode()
    anonymous = Client().get("/no-such-page/")
    assert anonymous.status_code == 404 and 'id="main-nav"' not in anonymous.content.decode()


def test_server_error_page_renders_without_a_request_context():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"500" in response.content and b"crm.css" in response.content


def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_seed_demo_refuses_with_debug_off_and_writes_nothing():
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()


@override_settings(DEBUG=True)
def test_seed_demo_refuses_a_scale_that_is_not_positive_and_writes_nothing():
    with pytest.raises(CommandError, match="--scale"):
        call_command("seed_demo", scale=0)
    assert not get_user_model().objects.exists()


@override_settings(DEBUG=True)
def test_seed_demo_is_idempotent_and_the_demo_logins_work(client):
    call_command("seed_demo", scale=DEMO_TEST_SCALE)
    manager = get_user_model().objects.get(username="manager")
    manager.set_password("changed-by-the-manager")
    manager.save()
    models: list[type[Model]] = [get_user_model(), Group]
    counts = {model: model._default_manager.count() for model in models}
    call_command("seed_demo", scale=DEMO_TEST_SCALE)
    assert counts == {model: model._default_manager.count() for model in models}
    manager.refresh_from_db()
    assert manager.check_password("changed-by-the-manager")
    assert manager.is_staff and is_manager(manager)
    response = client.post(reverse("login"), {"username": "sales1", "password": "demo"})
    assert response["Location"] == reverse("dashboard")


@override_settings(DEBUG=True)
def test_demo_customers_exist_before_their_first_record():
    call_command("seed_demo", scale=DEMO_TEST_SCALE)
    assert Customer.objects.count() == round(DEMO_CUSTOMER_COUNT * DEMO_TEST_SCALE)
    for label, field in CUSTOMER_RECORD_TIMES:
        model = apps.get_model(label)
        assert model.objects.exists(), label
        early = model.objects.filter(**{f"{field}__lt": F("customer__created_at")})
        assert not early.exists(), label
    # The timeline's "created" entry moved with the customer.
    created = dict(Customer.history.filter(history_type="+").values_list("id", "history_date"))
    assert created == dict(Customer.objects.values_list("id", "created_at"))


def test_production_settings_pass_the_deploy_check():
    env = {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DEBUG": "0",
        "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-enough-9f3kq81!x7",
        "ALLOWED_HOSTS": "crm.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings", "DEBUG": "0", "SECRET_KEY": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
