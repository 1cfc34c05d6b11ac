"""One number format in both languages (45,400.00) on the order list, the order page, the statement,
the customer timeline and the messages; one date and one date-time format per language."""

from decimal import Decimal as D

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from orders.models import OrderEvent
from tests.orders.builders import advance, make_order

pytestmark = pytest.mark.django_db

LINES = [{"description": "Analyser", "quantity": 1, "unit_price": D("45400.00")}]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_amounts_read_the_same_in_both_languages(client, sales1, customer, language):
    order = advance(sales1, make_order(sales1, customer, lines=LINES), "confirmed")
    client.force_login(sales1)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    pages = {
        "list": reverse("orders:index"),
        "order": order.get_absolute_url(),
        "statement": reverse("orders:statement", args=[order.pk]),
        "timeline": reverse("customers:timeline", args=[customer.pk]),
    }
    for name, url in pages.items():
        page = client.get(url, HTTP_HX_REQUEST="true" if name == "timeline" else "").content.decode()
        assert "45,400.00" in page, name
        assert "45400.00" not in page.replace('value="45400.00"', ""), name
    response = client.post(
        reverse("orders:payment_add", args=[order.pk]),
        {"kind": "payment", "amount": "12345.60", "method": "cash"},
        follow=True,
    )
    assert any("12,345.60" in str(message) for message in get_messages(response.wsgi_request))
    event = OrderEvent.objects.get(order=order, type="payment_recorded")
    with translation.override(language):
        assert "12,345.60" in event.summary


def test_one_date_and_one_date_time_format_per_language(sales1, customer):
    order = advance(sales1, make_order(sales1, customer), "confirmed")
    with translation.override("en"):
        assert date_format(order.confirmed_at, "SHORT_DATETIME_FORMAT") == date_format(
            order.confirmed_at, "DATETIME_FORMAT"
        )
        assert date_format(order.confirmed_at, "SHORT_DATE_FORMAT") == date_format(
            order.confirmed_at, "DATE_FORMAT"
        )
        assert len(date_format(order.confirmed_at, "DATE_FORMAT")) == len("2026-11-28")
    with translation.override("zh-hans"):
        assert date_format(order.confirmed_at, "SHORT_DATE_FORMAT") == date_format(
            order.confirmed_at, "DATE_FORMAT"
        )
