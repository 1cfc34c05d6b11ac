import csv
import io
import json
import re
import zipfile
from datetime import datetime, time, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from crm import timeline
from customers import services as customer_services
from followups import selectors, services
from followups.models import Communication, FollowUp
from tests.conftest import shown_customer_page
from tests.factories import (
    CommunicationFactory,
    CustomerFactory,
    FollowUpFactory,
    OpportunityFactory,
    UserFactory,
)
from tests.orders.builders import make_order

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def english(client):
    """The pages in English, whatever the default language."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def triggered(response):
    return set(json.loads(response.headers.get("HX-Trigger", "{}")))


def local(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def minute_input(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


# --- the customer page: quick add ---------------------------------------------------------


@pytest.fixture
def customer(sales1):
    return CustomerFactory(owner=sales1, name="华东精密仪器")


def communication_data(**fields):
    return {
        "channel": "phone",
        "direction": "out",
        "occurred_at": minute_input(timezone.now()),
        "subject": "Price talk",
        "content": "They want 200 units.",
        **fields,
    }


def test_the_customer_page_offers_both_forms_and_shows_the_timeline(sales_client, sales1, customer):
    CommunicationFactory(customer=customer, subject="First call")
    content = shown_customer_page(sales_client, customer)
    assert 'data-testid="communication-form"' in content and 'data-testid="followup-form"' in content
    assert "First call" in content
    assert f'hx-trigger="load, {timeline.CHANGED_EVENT} from:body"' in content
    # no contact persons: their picker is hidden until one is added on the page
    assert 'class="col-md-4 d-none" data-person-field' in content


def test_logging_from_the_customer_page_with_htmx(sales_client, sales1, customer):
    due = timezone.now() + timedelta(days=1)
    response = sales_client.post(
        reverse("followups:log", args=[customer.pk]),
        communication_data(
            schedule_followup="on", followup_due_at=minute_input(due), followup_assignee=sales1.pk
        ),
        **HTMX,
    )
    assert response.status_code == 200
    assert triggered(response) == {timeline.CHANGED_EVENT}
    assert "Communication logged." in response.content.decode()
    communication = Communication.objects.get()
    assert communication.subject == "Price talk" and communication.staff == sales1
    assert FollowUp.objects.get().communication == communication
    # A fresh form is back, its fields empty.
    assert response.context["communication_form"].is_bound is False


def test_bad_input_comes_back_at_the_fields_with_what_was_typed(sales_client, customer):
    past = timezone.now() - timedelta(days=1)
    response = sales_client.post(
        reverse("followups:log", args=[customer.pk]),
        communication_data(
            content="   ", subject="Keep me", schedule_followup="on", followup_due_at=minute_input(past)
        ),
        **HTMX,
    )
    assert response.status_code == 200
    assert not triggered(response)
    form = response.context["communication_form"]
    assert form.errors["content"] and form.errors["followup_due_at"] == [
        "This time has passed: choose a time from now on."
    ]
    assert 'value="Keep me"' in response.content.decode()
    assert not Communication.objects.exists() and not FollowUp.objects.exists()


def test_scheduling_from_the_customer_page(sales_client, sales1, sales2, customer):
    due = timezone.now() + timedelta(days=2)
    data = {"subject": "Send samples", "due_at": minute_input(due), "assignee": sales2.pk, "priority": "high"}
    response = sales_client.post(reverse("followups:schedule", args=[customer.pk]), data, **HTMX)
    assert triggered(response) == {timeline.CHANGED_EVENT}
    assert response.context["active_tab"] == "followup"
    followup = FollowUp.objects.get()
    assert (followup.assignee, followup.priority, followup.created_by) == (sales2, "high", sales1)

    data["due_at"] = minute_input(timezone.now() - timedelta(hours=3))
    response = sales_client.post(reverse("followups:schedule", args=[customer.pk]), data, **HTMX)
    assert response.context["followup_form"].errors["due_at"]
    assert FollowUp.objects.count() == 1


def test_without_htmx_the_forms_are_pages_of_their_own(sales_client, customer):
    url = reverse("followups:log", args=[customer.pk])
    assert sales_client.get(url).status_code == 200
    response = sales_client.post(url, communication_data(content=""))
    assert response.status_code == 200 and response.context["form"].errors["content"]
    response = sales_client.post(url, communication_data())
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
    assert Communication.objects.count() == 1


def test_contact_persons_of_the_customer_are_offered(sales_client, sales1, customer):
    person = customer_services.add_contact_person(actor=sales1, customer=customer, name="李工")
    customer_services.add_contact_person(
        actor=sales1, customer=CustomerFactory(owner=sales1), name="Not this one"
    )
    content = shown_customer_page(sales_client, customer)
    assert "李工" in content and "Not this one" not in content
    sales_client.post(
        reverse("followups:log", args=[customer.pk]), communication_data(contact_person=person.pk), **HTMX
    )
    assert Communication.objects.get().contact_person == person


def test_raising_a_need_refreshes_the_timeline(sales_client, customer):
    response = sales_client.post(
        reverse("customers:need_add", args=[customer.pk]),
        {"type": "product", "priority": "high", "description": "200 sensors"},
        **HTMX,
    )
    assert triggered(response) == {timeline.CHANGED_EVENT}


# --- My day --------------------------------------------------------------------------------


@pytest.fixture
def my_day(sales1, sales2):
    now = timezone.now()
    customer = CustomerFactory(owner=sales1)
    return {
        "overdue": FollowUpFactory(customer=customer, subject="Overdue call", due_at=now - timedelta(days=2)),
        "today": FollowUpFactory(
            customer=customer,
            subject="Today's call",
            due_at=min(now + timedelta(minutes=5), local_end_of_today()),
        ),
        "tomorrow": FollowUpFactory(
            customer=customer, subject="Tomorrow's call", due_at=now + timedelta(days=1, hours=1)
        ),
        "done": FollowUpFactory(
            customer=customer,
            subject="Finished call",
            due_at=now - timedelta(days=1),
            status="done",
            result="ok",
            completed_at=now,
        ),
        "colleague": FollowUpFactory(
            customer=customer, assignee=sales2, subject="Colleague's call", due_at=now
        ),
    }


def local_end_of_today():
    return local(timezone.localdate() + timedelta(days=1), 0) - timedelta(seconds=1)


def test_my_day_lists_the_users_overdue_and_due_today(sales_client, my_day):
    response = sales_client.get(reverse("followups:today"))
    assert [f.subject for f in response.context["overdue"]] == ["Overdue call"]
    assert [f.subject for f in response.context["due_today"]] == ["Today's call"]
    assert [f.subject for f in response.context["upcoming"]] == ["Tomorrow's call"]
    assert response.context["counts"] == {"overdue": 1, "due_today": 1}
    content = response.content.decode()
    assert "Finished call" not in content and "Colleague" not in content


def test_completing_from_my_day(sales_client, sales1, my_day):
    followup = my_day["overdue"]
    url = reverse("followups:complete", args=[followup.pk])
    response = sales_client.post(url, {"result": ""}, **HTMX)
    assert "Write down the result." in response.content.decode()
    assert FollowUp.objects.get(pk=followup.pk).is_open

    response = sales_client.post(url, {"result": "They ordered 50"}, **HTMX)
    content = response.content.decode()
    assert "They ordered 50" in content and 'hx-swap-oob="true"' in content
    assert response.context["counts"] == {"overdue": 0, "due_today": 1}
    followup.refresh_from_db()
    assert followup.status == "done" and followup.completed_by == sales1


@pytest.mark.parametrize(
    ("data", "expected_day"),
    [
        ({"to": "tomorrow"}, lambda today: today + timedelta(days=1)),
        ({"to": "next_week"}, lambda today: today + timedelta(days=7 - today.weekday())),
        ({"to": "day", "day": "2099-03-04"}, lambda today: datetime(2099, 3, 4).date()),
    ],
)
def test_postponing_from_my_day_keeps_the_time_of_day(sales_client, my_day, data, expected_day):
    followup = my_day["overdue"]
    time_of_day = timezone.localtime(followup.due_at).time()
    response = sales_client.post(reverse("followups:postpone", args=[followup.pk]), data, **HTMX)
    assert "Moved to" in response.content.decode()
    followup.refresh_from_db()
    due = timezone.localtime(followup.due_at)
    assert due.date() == expected_day(timezone.localdate())
    assert due.time().replace(microsecond=0) == time_of_day.replace(microsecond=0)


@pytest.mark.parametrize(
    ("data", "message"), [({"to": "day"}, "Pick a day."), ({"to": "day", "day": "2001-01-01"}, "has passed")]
)
def test_postponing_needs_a_day_to_come(sales_client, my_day, data, message):
    followup = my_day["overdue"]
    response = sales_client.post(reverse("followups:postpone", args=[followup.pk]), data, **HTMX)
    assert message in response.content.decode()
    assert FollowUp.objects.get(pk=followup.pk).due_at == followup.due_at


def test_a_rows_postpone_menu_is_loaded_when_opened(sales_client, my_day):
    followup = my_day["overdue"]
    page = sales_client.get(reverse("followups:today")).content.decode()
    menu_url = reverse("followups:postpone_menu", args=[followup.pk])
    postpone_url = reverse("followups:postpone", args=[followup.pk])
    assert f'hx-get="{menu_url}"' in page and f'"{postpone_url}"' not in page  # nor its form

    current = {"HTTP_HX_CURRENT_URL": "http://testserver/followups/today/?x=1"}
    menu = sales_client.get(menu_url, **HTMX, **current).content.decode()
    assert f'hx-post="{postpone_url}"' in menu and 'name="to" value="tomorrow"' in menu
    assert f'min="{timezone.localdate().isoformat()}"' in menu
    assert 'name="next" value="/followups/today/?x=1"' in menu  # where a plain post returns to

    assert sales_client.get(menu_url)["Location"] == followup.get_absolute_url()  # without htmx


def test_without_htmx_an_action_returns_to_where_it_came_from(sales_client, my_day):
    followup = my_day["overdue"]
    response = sales_client.post(
        reverse("followups:complete", args=[followup.pk]), {"result": "Done", "next": "/followups/today/"}
    )
    assert response["Location"] == "/followups/today/"
    response = sales_client.post(
        reverse("followups:cancel", args=[my_day["today"].pk]), {"next": "https://evil.example.com/"}
    )
    assert response["Location"] == my_day["today"].get_absolute_url()


def test_my_day_the_week_and_the_dashboard_cost_a_fixed_number_of_queries(
    sales_client, sales1, count_queries
):
    customer = CustomerFactory(owner=sales1)
    first = FollowUpFactory(customer=customer, due_at=timezone.now() - timedelta(hours=1))
    pages = [
        reverse("followups:today"),
        reverse("followups:calendar"),
        reverse("dashboard"),
        first.get_absolute_url(),
    ]
    few = [count_queries(sales_client, url) for url in pages]
    for index in range(30):
        other = CustomerFactory(owner=sales1)
        FollowUpFactory(customer=other, due_at=timezone.now() - timedelta(hours=index))
        FollowUpFactory(customer=other, due_at=timezone.now() + timedelta(hours=index + 1))
        services.reschedule_followup(
            actor=sales1, followup=first, due_at=timezone.now() + timedelta(days=index + 1)
        )
    assert [count_queries(sales_client, url) for url in pages] == few


def many_followups(customer, count, start, step):
    """`count` open follow-ups of the customer's owner, due from `start` every `step`, in one insert."""
    return FollowUp.objects.bulk_create(
        FollowUpFactory.build(
            customer=customer, assignee=customer.owner, created_by=customer.owner, due_at=start + step * index
        )
        for index in range(count)
    )


def next_rows_url(response):
    found = re.search(r'hx-get="([^"]*today/overdue/[^"]*)"', response.content.decode())
    return found and found[1].replace("&amp;", "&")


def shown_ids(response):
    return [int(pk) for pk in re.findall(r'id="followup-(\d+)"', response.content.decode())]


def test_my_day_shows_the_first_rows_of_each_part_with_the_true_counts(sales_client, sales1, count_queries):
    customer = CustomerFactory(owner=sales1)
    now, today = timezone.now(), reverse("followups:today")
    overdue = many_followups(customer, 3, now - timedelta(days=30), timedelta(minutes=7))
    few = count_queries(sales_client, today)
    overdue += many_followups(customer, 60, now - timedelta(days=20), timedelta(minutes=7))
    upcoming = many_followups(customer, 12, local_end_of_today() + timedelta(hours=2), timedelta(hours=3))
    many = count_queries(sales_client, today)
    response, rows = many.response, selectors.MY_DAY_ROWS
    assert response.context["counts"]["overdue"] == len(overdue) == 63  # true, from the aggregate
    assert [f.pk for f in response.context["overdue"]] == [f.pk for f in overdue[:rows]]
    assert [f.pk for f in response.context["upcoming"]] == [f.pk for f in upcoming[:rows]]
    assert response.context["more"] == {"overdue": True, "due_today": False, "upcoming": True}
    assert len(shown_ids(response)) == 2 * rows  # the first screen is bounded whatever there is
    content = response.content.decode()
    assert 'data-testid="more-overdue"' in content and 'data-testid="more-due_today"' not in content
    # without htmx "Show more" opens the follow-up list filtered to the part
    assert f"?assignee={sales1.pk}&amp;overdue=true" in content
    assert many == few <= 8  # session, user, groups, navigation, the three parts and the counts


def test_show_more_loads_the_next_rows_of_a_part_until_the_last(sales_client, sales1):
    customer = CustomerFactory(owner=sales1)
    overdue = many_followups(customer, 23, timezone.now() - timedelta(days=3), timedelta(minutes=9))
    page = sales_client.get(reverse("followups:today"))
    shown = [f.pk for f in page.context["overdue"]]
    # a row done meanwhile shifts nothing: the next rows come after the last one shown
    services.complete_followup(actor=sales1, followup=overdue[0], result="Called")
    more_url = next_rows_url(page)
    while more_url:
        more = sales_client.get(more_url, **HTMX)
        assert more.status_code == 200
        shown += shown_ids(more)
        more_url = next_rows_url(more)
    assert shown == [f.pk for f in overdue]


def test_show_more_shows_only_the_users_own_rows(client, sales1, sales2):
    customer = CustomerFactory(owner=sales1)
    many_followups(customer, 15, timezone.now() - timedelta(days=1), timedelta(minutes=1))
    client.force_login(sales2)
    response = client.get(reverse("followups:today_more", args=["overdue"]), **HTMX)
    assert shown_ids(response) == []
    assert client.get(reverse("followups:today_more", args=["someday"]), **HTMX).status_code == 404
    bad = client.get(reverse("followups:today_more", args=["overdue"]) + "?after_due=x&after_id=-1", **HTMX)
    assert bad.status_code == 200
    without_htmx = client.get(reverse("followups:today_more", args=["overdue"]))
    assert without_htmx.status_code == 302 and without_htmx.url == reverse("followups:today")


def test_the_dashboard_shows_the_users_counts_and_links_to_my_day(sales_client, my_day):
    response = sales_client.get(reverse("dashboard"))
    assert response.context["followup_counts"] == {"overdue": 1, "due_today": 1}
    content = response.content.decode()
    assert reverse("followups:today") in content
    assert 'data-section="customers"' not in content  # navigation is the menu's, not the dashboard's


# --- the week ------------------------------------------------------------------------------


def test_the_week_shows_followups_by_day_and_highlights_today(sales_client, sales1):
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    customer = CustomerFactory(owner=sales1)
    FollowUpFactory(customer=customer, subject="Monday task", due_at=local(monday, 9))
    FollowUpFactory(
        customer=customer, subject="Sunday task", due_at=local(monday + timedelta(days=6), 23, 30)
    )
    FollowUpFactory(
        customer=customer, subject="Next week's task", due_at=local(monday + timedelta(days=7), 9)
    )

    response = sales_client.get(reverse("followups:calendar"))
    days = response.context["days"]
    assert [f.subject for f in days[0]["followups"]] == ["Monday task"]
    assert [f.subject for f in days[6]["followups"]] == ["Sunday task"]
    content = response.content.decode()
    assert content.count('aria-current="date"') == 1
    assert f'data-date="{today:%Y-%m-%d}"' in content
    assert "Next week&#x27;s task" not in content and "Next week's task" not in content

    following = sales_client.get(
        reverse("followups:calendar") + f"?week={monday + timedelta(days=9):%Y-%m-%d}"
    )
    assert following.context["monday"] == monday + timedelta(days=7)
    assert [f.subject for day in following.context["days"] for f in day["followups"]] == ["Next week's task"]
    assert 'aria-current="date"' not in following.content.decode()
    assert sales_client.get(reverse("followups:calendar") + "?week=rubbish").context["monday"] == monday


def test_the_week_of_another_assignee_or_everyone(sales_client, sales1, sales2):
    customer = CustomerFactory(owner=sales1)
    mine = FollowUpFactory(customer=customer, subject="Mine", due_at=timezone.now() + timedelta(minutes=1))
    FollowUpFactory(
        customer=customer, assignee=sales2, subject="Delegated", due_at=timezone.now() + timedelta(minutes=2)
    )

    def subjects(query):
        days = sales_client.get(reverse("followups:calendar") + query).context["days"]
        return {f.subject for day in days for f in day["followups"]}

    assert mine.subject in subjects("") and subjects("") == {"Mine"}
    assert subjects(f"?assignee={sales2.pk}") == {"Delegated"}
    assert subjects("?assignee=all") == {"Mine", "Delegated"}


# --- the lists -----------------------------------------------------------------------------


def test_the_followup_list_filters(sales_client, sales1, sales2):
    now = timezone.now()
    acme = CustomerFactory(owner=sales1, name="Acme Trading")
    other = CustomerFactory(owner=sales1, name="Globex")
    FollowUpFactory(customer=acme, subject="A open", due_at=now + timedelta(days=1))
    FollowUpFactory(customer=other, subject="B delegated", assignee=sales2, due_at=now + timedelta(days=3))
    FollowUpFactory(
        customer=other,
        subject="C done",
        due_at=now - timedelta(days=5),
        status="done",
        result="ok",
        completed_at=now,
    )

    def subjects(query=""):
        return [f.subject for f in sales_client.get(reverse("followups:index") + query).context["page"].items]

    assert subjects() == ["A open", "B delegated"]  # open ones, soonest first
    assert subjects("?status=") == ["C done", "A open", "B delegated"]
    assert subjects("?status=done") == ["C done"]
    assert subjects(f"?assignee={sales2.pk}") == ["B delegated"]
    assert subjects("?customer=acme") == ["A open"]
    tomorrow = timezone.localdate(now + timedelta(days=1))
    assert subjects(f"?due_after={tomorrow:%Y-%m-%d}&due_before={tomorrow:%Y-%m-%d}") == ["A open"]
    assert subjects("?sort=-due&status=") == ["B delegated", "A open", "C done"]
    assert subjects("?due_after=not-a-date") == []


def test_the_communication_list_filters(sales_client, sales1, sales2):
    acme = CustomerFactory(owner=sales1, name="Acme Trading")
    CommunicationFactory(
        customer=acme, subject="Call", channel="phone", occurred_at=timezone.now() - timedelta(days=1)
    )
    CommunicationFactory(customer=acme, subject="Visit", channel="visit", staff=sales2)
    CommunicationFactory(
        customer__owner=sales1,
        subject="Mail",
        channel="email",
        occurred_at=timezone.now() - timedelta(days=9),
    )

    def subjects(query=""):
        return [
            c.subject
            for c in sales_client.get(reverse("followups:communications") + query).context["page"].items
        ]

    assert subjects() == ["Visit", "Call", "Mail"]
    assert subjects("?channel=visit") == ["Visit"]
    assert subjects(f"?staff={sales2.pk}") == ["Visit"]
    assert subjects("?customer=acme&sort=occurred") == ["Call", "Visit"]
    week_ago = timezone.localdate() - timedelta(days=7)
    assert subjects(f"?occurred_after={week_ago:%Y-%m-%d}") == ["Visit", "Call"]
    assert subjects(f"?occurred_before={week_ago:%Y-%m-%d}") == ["Mail"]


@pytest.mark.parametrize("ids_limit", [1_000, 1])  # the customers' ids, or past the limit a subquery
def test_a_customer_search_finds_the_same_rows_either_way(sales_client, sales1, monkeypatch, ids_limit):
    monkeypatch.setattr(selectors, "CUSTOMER_IDS_LIMIT", ids_limit)
    acme, beta = (CustomerFactory(owner=sales1, name=name) for name in ("Acme Trading", "Acme Steel"))
    other = CustomerFactory(owner=sales1, name="Northwind")
    for customer in (acme, beta, other):
        CommunicationFactory(customer=customer, subject=customer.name, staff=sales1)
        FollowUpFactory(customer=customer, subject=customer.name, assignee=sales1)
    for url in (reverse("followups:communications"), reverse("followups:index")):
        page = sales_client.get(url, {"customer": "acme"}).context["page"]
        assert sorted(row.subject for row in page.items) == ["Acme Steel", "Acme Trading"], url


@pytest.mark.parametrize("url_name", ["followups:index", "followups:communications"])
def test_the_lists_cost_a_fixed_number_of_queries(sales_client, sales1, url_name, count_queries):
    """With the rows' orders and opportunities named, and narrowed to one of them."""
    linked = CustomerFactory(owner=sales1)
    links = {"order": make_order(sales1, linked), "opportunity": OpportunityFactory(customer=linked)}

    def add_rows(count, start):
        for index in range(start, start + count):
            customer = CustomerFactory(owner=sales1)
            FollowUpFactory(customer=customer, due_at=timezone.now() + timedelta(hours=index + 1))
            CommunicationFactory(customer=customer)
            FollowUpFactory(customer=linked, due_at=timezone.now() + timedelta(hours=index + 1), **links)
            CommunicationFactory(customer=linked, **links)

    add_rows(2, 0)
    url = reverse(url_name)
    narrowed = f"{url}?order={links['order'].pk}&opportunity={links['opportunity'].pk}"
    few, few_narrowed = count_queries(sales_client, url), count_queries(sales_client, narrowed)
    add_rows(30, 2)
    assert count_queries(sales_client, url) == few
    assert count_queries(sales_client, url + "?page=last") == few
    assert count_queries(sales_client, narrowed) == few_narrowed
    assert count_queries(sales_client, narrowed + "&page=last") == few_narrowed


def test_exports_are_filtered_and_neutralise_formulas(sales_client, sales1):
    customer = CustomerFactory(owner=sales1, name='=HYPERLINK("x")')
    FollowUpFactory(customer=customer, subject="=1+1", due_at=timezone.now() + timedelta(days=1))
    FollowUpFactory(customer=customer, subject="Cancelled one", status="cancelled")
    CommunicationFactory(customer=customer, subject="@SUM(A1)", channel="wechat")

    response = sales_client.get(reverse("followups:export") + "?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["ID", "Due", "Subject"]
    assert [row[2] for row in rows[1:]] == ["'=1+1"]  # the default filter: open follow-ups
    assert rows[1][3] == '\'=HYPERLINK("x")'

    response = sales_client.get(reverse("followups:communications_export") + "?format=xlsx&channel=wechat")
    assert zipfile.is_zipfile(io.BytesIO(response.content))
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    values = list(sheet.values)
    assert values[0][5] == "Subject" and values[1][5] == "@SUM(A1)" and values[1][3] == "WeChat"
    assert sheet.cell(row=2, column=6).data_type == "s"


# --- a follow-up's and a communication's page ----------------------------------------------


def test_the_followup_page_acts_and_keeps_the_history(sales_client, sales1, sales2):
    followup = services.schedule_followup(
        actor=sales1,
        customer=CustomerFactory(owner=sales1),
        subject="Send the quote",
        due_at=timezone.now() + timedelta(days=1),
    )
    detail = followup.get_absolute_url()
    later = timezone.now() + timedelta(days=4)
    sales_client.post(reverse("followups:reschedule", args=[followup.pk]), {"due_at": minute_input(later)})
    sales_client.post(reverse("followups:reassign", args=[followup.pk]), {"assignee": sales2.pk})
    response = sales_client.post(
        reverse("followups:cancel", args=[followup.pk]), {"reason": "Bought elsewhere"}
    )
    assert response["Location"] == detail

    page = sales_client.get(detail)
    content = page.content.decode()
    assert "Bought elsewhere" in content and page.context["can_act"] is False
    reasons = [entry["record"].history_change_reason for entry in page.context["history"]]
    assert reasons == ["cancelled", "reassigned", "rescheduled", None]
    assert page.context["history"][1]["changes"] == [
        {"field": "assignee", "old": sales1.get_full_name(), "new": sales2.get_full_name()}
    ]


def test_an_action_with_bad_input_says_so_and_changes_nothing(sales_client, sales1):
    followup = FollowUpFactory(customer__owner=sales1)
    response = sales_client.post(
        reverse("followups:reschedule", args=[followup.pk]),
        {"due_at": minute_input(timezone.now() - timedelta(days=1))},
        follow=True,
    )
    assert "This time has passed" in response.content.decode()
    assert FollowUp.objects.get().due_at == followup.due_at


def test_the_communication_page(sales_client, sales1):
    customer = CustomerFactory(owner=sales1)
    communication = services.log_communication(
        actor=sales1,
        customer=customer,
        channel="visit",
        subject="Plant visit",
        content="Two new lines next year.",
        followup={"subject": "Send the proposal", "due_at": timezone.now() + timedelta(days=3)},
    )
    content = sales_client.get(communication.get_absolute_url()).content.decode()
    assert "Two new lines next year." in content and "Send the proposal" in content
    assert "Visit" in content


# --- the admin -----------------------------------------------------------------------------


def test_the_admin_lists_searches_and_cancels(manager_client, manager):
    customer = CustomerFactory(name="Admin Test Co")
    followup = FollowUpFactory(customer=customer, subject="Stale task")
    communication = CommunicationFactory(customer=customer)
    for url in [
        reverse("admin:followups_followup_changelist") + "?q=Admin+Test",
        reverse("admin:followups_communication_changelist") + "?channel__exact=phone",
        reverse("admin:followups_reminderdigest_changelist"),
    ]:
        assert manager_client.get(url).status_code == 200, url
    for url in [
        reverse("admin:followups_followup_change", args=[followup.pk]),
        reverse("admin:followups_communication_change", args=[communication.pk]),
    ]:
        content = manager_client.get(url).content.decode()
        # The order and the opportunity are given by id, not chosen from a select of them all.
        assert 'name="order" id="id_order" class="vForeignKeyRawIdAdminField"' in content, url
        assert 'name="opportunity" id="id_opportunity" class="vForeignKeyRawIdAdminField"' in content, url
    manager_client.post(
        reverse("admin:followups_followup_changelist"),
        {"action": "cancel_followups", "_selected_action": [followup.pk]},
    )
    followup.refresh_from_db()
    assert followup.status == "cancelled" and followup.history.first().history_user == manager


def test_sales_staff_cannot_reach_the_admin_of_followups(sales_client):
    assert sales_client.get(reverse("admin:followups_followup_changelist")).status_code == 403


def test_other_sales_staff_may_not_act_through_the_assignee_rule(client, sales1):
    """A follow-up is reachable through its customer's owner or its assignee, nobody else."""
    stranger = UserFactory(groups=[Group.objects.get(name="Sales")])
    followup = FollowUpFactory(customer__owner=sales1)
    client.force_login(stranger)
    assert client.post(reverse("followups:complete", args=[followup.pk]), {"result": "x"}).status_code == 404


ENGLISH_WEEKDAYS = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b")
CHINESE_WEEKDAYS = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]


# My day's postpone menu offers tomorrow; the week view shows this week, today included.
@pytest.mark.parametrize(("page", "days_ahead"), [("postpone menu", 1), ("week", 0)])
def test_weekdays_are_written_in_the_readers_language(sales_client, sales1, page, days_ahead):
    """My day's postpone menu and the week view name the days: 星期五 in Chinese, never "Fri" (nor an
    icon whose picture spells an English weekday, as Bootstrap's calendar-day does)."""
    followup = FollowUpFactory(customer=CustomerFactory(owner=sales1), due_at=timezone.now())
    day = timezone.localdate() + timedelta(days=days_ahead)
    if page == "week":
        url, headers = reverse("followups:calendar"), {}
    else:
        url, headers = reverse("followups:postpone_menu", args=[followup.pk]), HTMX

    sales_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chinese = sales_client.get(url, **headers).content.decode()
    assert CHINESE_WEEKDAYS[day.weekday()] in chinese
    assert not ENGLISH_WEEKDAYS.search(re.sub(r"<[^>]*>", " ", chinese)), ENGLISH_WEEKDAYS.search(chinese)
    assert "bi-calendar-day" not in chinese

    sales_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = sales_client.get(url, **headers).content.decode()
    assert day.strftime("%a") in english  # the same place, in English
