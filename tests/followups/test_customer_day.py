"""The customer page for a salesperson's day: "When" means the moment of logging unless changed,
the contact person pickers reload after a person is added in place, and the action bar."""

import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from customers.forms import PERSONS_CHANGED_EVENT
from customers.models import ContactPerson
from followups import services as followups
from followups.models import Communication
from tests.conftest import shown_customer_page
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def customer(sales1):
    return CustomerFactory(owner=sales1, name="华东精密仪器")


def minute_input(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def hidden_initial(page):
    """The "When" the page showed, as its hidden initial input carries it."""
    found = re.search(r'name="initial-occurred_at" value="([^"]+)"', page)
    assert found, "the page carries no hidden initial for When"
    return found.group(1)


def log(client, customer, **fields):
    data = {"channel": "phone", "direction": "out", "subject": "Call", "content": "Talked", **fields}
    return client.post(reverse("followups:log", args=[customer.pk]), data, **HTMX)


def test_when_left_as_shown_means_the_moment_of_logging(sales_client, customer):
    page = shown_customer_page(sales_client, customer)
    shown = hidden_initial(page)
    loaded = timezone.now()
    # the page was loaded minutes ago: "When" still shows that minute
    earlier = minute_input(loaded - timedelta(minutes=7))
    log(sales_client, customer, occurred_at=earlier, **{"initial-occurred_at": earlier})
    logged = Communication.objects.get()
    assert abs(logged.occurred_at - timezone.now()) < timedelta(seconds=5)
    assert shown  # the page carries what it showed


def test_when_changed_by_the_user_is_kept(sales_client, customer):
    shown = minute_input(timezone.now())
    chosen = timezone.localtime(timezone.now() - timedelta(hours=3)).replace(second=0, microsecond=0)
    log(sales_client, customer, occurred_at=minute_input(chosen), **{"initial-occurred_at": shown})
    assert Communication.objects.get().occurred_at == chosen


def test_adding_a_contact_person_tells_the_pickers_to_reload(sales_client, customer):
    response = sales_client.post(
        reverse("customers:person_add", args=[customer.pk]), {"name": "王芳", "title": "采购"}, **HTMX
    )
    assert PERSONS_CHANGED_EVENT in json.loads(response["HX-Trigger"])
    refused = sales_client.post(reverse("customers:person_add", args=[customer.pk]), {"name": ""}, **HTMX)
    assert "HX-Trigger" not in refused
    page = shown_customer_page(sales_client, customer)
    url = reverse("followups:person_options", args=[customer.pk])
    assert page.count(f'hx-get="{url}"') == 2  # the log form's picker and the follow-up form's
    assert f'hx-trigger="{PERSONS_CHANGED_EVENT} from:body"' in page


def test_the_pickers_options_keep_the_selection(sales_client, customer):
    first = ContactPerson.objects.create(customer=customer, name="王芳")
    second = ContactPerson.objects.create(customer=customer, name="李雷")
    url = reverse("followups:person_options", args=[customer.pk])
    options = sales_client.get(f"{url}?contact_person={first.pk}", **HTMX).content.decode()
    assert f'<option value="{first.pk}" selected>' in options
    assert f'<option value="{second.pk}">' in options
    assert options.count("<option") == 3  # and the empty choice
    assert sales_client.get(url).url == customer.get_absolute_url()  # without htmx: the customer's page


def test_anothers_customers_people_answer_404(client, sales2, customer):
    ContactPerson.objects.create(customer=customer, name="王芳")
    client.force_login(sales2)
    response = client.get(reverse("followups:person_options", args=[customer.pk]), **HTMX)
    assert response.status_code == 404
    assert "王芳" not in response.content.decode()


def test_the_action_bar(sales_client, customer):
    page = shown_customer_page(sales_client, customer)
    bar = page[page.index('data-testid="customer-actions"') :]
    bar = bar[: bar.index("</nav>")]
    assert 'data-quick-tab="communication" data-quick-channel="phone"' in bar
    assert 'data-quick-tab="followup"' in bar
    assert f"{reverse('opportunities:create')}?customer={customer.pk}" in bar
    assert f"{reverse('orders:create')}?customer={customer.pk}" in bar


def test_the_log_form_starts_with_the_users_last_channel(sales_client, sales1, sales2, customer):
    def offered():
        forms = sales_client.get(reverse("followups:log", args=[customer.pk]), **HTMX)
        return forms.context["communication_form"]["channel"].value()

    assert offered() == "phone"  # the model's default
    log(sales_client, customer, channel="wechat", occurred_at=minute_input(timezone.now()))
    assert Communication.objects.get().channel == "wechat"
    other = CustomerFactory(owner=sales2)
    followups.log_communication(
        actor=sales2, customer=other, channel="email", subject="Mail", content="Sent the quote"
    )  # someone else's latest does not count
    assert offered() == "wechat"


def test_completing_a_follow_up_offers_the_next_pre_filled(sales_client, sales1, customer):
    person = ContactPerson.objects.create(customer=customer, name="王芳")
    followup = followups.schedule_followup(
        actor=sales1,
        customer=customer,
        subject="Send the quote",
        due_at=timezone.now() + timedelta(hours=2),
        priority="high",
        contact_person=person,
    )
    response = sales_client.post(
        reverse("followups:complete", args=[followup.pk]), {"result": "Sent"}, **HTMX
    )
    row = response.content.decode()
    assert 'data-testid="schedule-next"' in row
    url = f"{reverse('followups:schedule', args=[customer.pk])}?after={followup.pk}"
    assert url in row.replace("&amp;", "&")
    page = sales_client.get(url)
    form = page.context["form"]
    assert (form["subject"].value(), form["priority"].value()) == ("Send the quote", "high")
    assert (form["assignee"].value(), form["contact_person"].value()) == (sales1.pk, person.pk)
    detail = sales_client.get(followup.get_absolute_url()).content.decode()
    assert 'data-testid="schedule-next"' in detail


def test_schedule_after_anothers_follow_up_answers_404(client, sales1, sales2, customer):
    followup = followups.schedule_followup(
        actor=sales1, customer=customer, subject="Mine", due_at=timezone.now() + timedelta(hours=2)
    )
    own = CustomerFactory(owner=sales2)
    client.force_login(sales2)
    url = reverse("followups:schedule", args=[own.pk])
    assert client.get(f"{url}?after={followup.pk}").status_code == 404
    assert client.get(f"{url}?after=abc").status_code == 200  # not a number: a fresh form
