"""No write path stores an un-normalised phone or email, or a website that is not an http(s) address:
the services, the pages' forms and the import (the admin: test_admin.py)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from crm.templatetags.crm_format import link_to
from customers import services
from customers.models import ContactMethod, ContactPerson, Customer
from tests.customers.test_import import import_rows
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

STORED = {
    ("mobile", "138 0013 8000"): "+8613800138000",
    ("phone", "(021) 6123-4567"): "+862161234567",
    ("email", " Li.Wei@Example.COM "): "li.wei@example.com",
    ("website", "Acme.example.com/about"): "https://Acme.example.com/about",
    ("website", "HTTP://acme.example.com"): "http://acme.example.com",
}
UNSAFE_WEBSITES = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://files.example.com",
    "//evil.example.com",
]


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def customer(sales1):
    return CustomerFactory(owner=sales1)


@pytest.mark.parametrize(("typed", "stored"), STORED.items())
def test_the_services_store_contact_values_normalised(sales1, customer, typed, stored):
    method_type, value = typed
    added = services.add_contact_method(actor=sales1, customer=customer, type=method_type, value=value)
    assert added.value == stored
    services.update_contact_method(actor=sales1, method=added, type=method_type, value=f" {value} ")
    added.refresh_from_db()
    assert added.value == stored
    created = services.create_customer(
        actor=sales1, name="New Co", contact_methods=[{"type": method_type, "value": value}]
    )
    assert created.contact_methods.get().value == stored


@pytest.mark.parametrize("website", UNSAFE_WEBSITES)
def test_the_services_refuse_a_website_that_is_not_http(sales1, customer, website):
    with pytest.raises(ValidationError) as refused:
        services.add_contact_method(actor=sales1, customer=customer, type="website", value=website)
    assert "value" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.create_customer(
            actor=sales1, name="New Co", contact_methods=[{"type": "website", "value": website}]
        )
    assert not ContactMethod.objects.exists() and Customer.objects.count() == 1


def test_the_page_form_refuses_an_unsafe_website_at_the_field(sales_client, customer):
    url = reverse("customers:method_add", args=[customer.pk])
    response = sales_client.post(
        url, {"type": "website", "value": UNSAFE_WEBSITES[0]}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "A web address starts with http:// or https://" in response.content.decode()
    assert not ContactMethod.objects.exists()
    sales_client.post(url, {"type": "mobile", "value": "138 0013 8000"}, HTTP_HX_REQUEST="true")
    assert ContactMethod.objects.get().value == "+8613800138000"


def test_the_page_form_stores_a_contact_persons_phone_and_email_normalised(sales_client, customer):
    url = reverse("customers:person_add", args=[customer.pk])
    sales_client.post(url, {"name": "Li Wei", "phone": "138 0013 8000", "email": "LI@Example.com"})
    assert ContactPerson.objects.values_list("phone", "email").get() == ("+8613800138000", "li@example.com")


def test_the_import_stores_contact_values_normalised(sales1):
    report = import_rows(
        sales1,
        [["name", "mobile", "email"], ["Imported Co", "138 0013 8000", "Sales@Imported.COM"]],
        commit=True,
    )
    assert report.created == 1
    assert set(ContactMethod.objects.values_list("type", "value")) == {
        ("mobile", "+8613800138000"),
        ("email", "sales@imported.com"),
    }


@pytest.mark.parametrize(
    ("href", "linked"),
    [
        ("https://example.com/a?b=1&c=2", True),
        ("mailto:li@example.com", True),
        ("tel:+8613800138000", True),
        ("javascript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("https:evil.example.com", False),
        ("/relative/path", False),
        ("", False),
    ],
)
def test_the_link_filter_links_only_http_mailto_and_tel(href, linked):
    rendered = link_to("<b>label</b>", href)
    assert ("<a href=" in rendered) is linked
    assert "&lt;b&gt;label&lt;/b&gt;" in rendered  # the label is always text
