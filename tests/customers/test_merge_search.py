"""Merging a duplicate found by searching (name, phone, number), with a side-by-side preview."""

import pytest
from django.urls import reverse
from django.utils import translation

from customers import services
from customers.models import ContactMethod, Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def survivor(sales1):
    return CustomerFactory(owner=sales1, name="华东精密仪器有限公司")


@pytest.fixture
def duplicate(sales1):
    customer = CustomerFactory(owner=sales1, name="华东精密仪器")
    services.add_contact_method(actor=sales1, customer=customer, type="mobile", value="13800138000")
    return customer


def candidates(client, survivor, text, **headers):
    url = reverse("customers:merge_candidates", args=[survivor.pk])
    return client.get(url, {"q": text}, **headers)


@pytest.mark.parametrize("text", ["华东精密", "0013 8000", "138-0013-8000"])
def test_find_the_duplicate_by_name_or_phone(sales_client, survivor, duplicate, text):
    response = candidates(sales_client, survivor, text, **HTMX)
    assert response.context["candidates"] == [duplicate]  # never the customer itself
    assert (
        f"{reverse('customers:merge', args=[survivor.pk])}?other={duplicate.pk}" in response.content.decode()
    )


def test_find_the_duplicate_by_its_number(sales_client, survivor, duplicate):
    for text in [str(duplicate.pk), f"#{duplicate.pk}"]:
        assert candidates(sales_client, survivor, text, **HTMX).context["candidates"] == [duplicate]


def test_only_customers_the_user_may_merge_are_offered(sales_client, sales2, survivor):
    theirs = CustomerFactory(owner=sales2, name="华东精密仪器分公司")
    response = candidates(sales_client, survivor, "华东")
    assert response.context["candidates"] == []
    assert candidates(sales_client, survivor, str(theirs.pk)).context["candidates"] == []
    assert "华东精密仪器分公司" not in response.content.decode()


def test_searching_from_anothers_customer_answers_404(client, sales2, survivor, duplicate):
    client.force_login(sales2)
    assert candidates(client, survivor, "华东", **HTMX).status_code == 404


def test_without_javascript_the_search_is_a_page(sales_client, survivor, duplicate):
    response = candidates(sales_client, survivor, "华东精密")
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert 'data-testid="merge-candidates"' in response.content.decode()
    assert candidates(sales_client, survivor, "x" * 300).context["candidates"] == []  # too long: nothing


def test_the_preview_shows_what_moves_side_by_side(sales_client, sales1, survivor, duplicate):
    services.add_contact_method(actor=sales1, customer=survivor, type="mobile", value="13800138000")
    services.add_contact_method(actor=sales1, customer=survivor, type="email", value="a@example.com")
    services.add_contact_person(actor=sales1, customer=duplicate, name="王芳")
    response = sales_client.get(reverse("customers:merge", args=[survivor.pk]), {"other": duplicate.pk})
    with translation.override("en"):
        rows = {str(row["label"]): (row["moves"], row["stays"]) for row in response.context["moves"]}
    assert rows["contact methods"] == (1, 2)
    assert rows["contact persons"] == (1, 0)
    assert [m.value for m in response.context["duplicates"]] == ["+8613800138000"]
    assert 'data-testid="merge-preview"' in response.content.decode()
    assert Customer.objects.filter(pk=duplicate.pk).exists()  # a preview writes nothing
    assert ContactMethod.objects.filter(customer=survivor).count() == 2
