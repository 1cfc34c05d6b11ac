"""In-app notifications: the header bell's count, /notifications/, and who gets one."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from automation.models import Notification, OutgoingEmail
from automation.notifications import notify
from followups import services as followup_services
from tests.factories import CustomerFactory, FollowUpFactory

pytestmark = pytest.mark.django_db


def test_the_bell_counts_the_unread_notifications_of_the_user(sales_client, sales1, sales2):
    page = sales_client.get(reverse("dashboard"))
    assert reverse("notification_badge").encode() in page.content  # the bell loads its count
    assert b"unread-count" not in sales_client.get(reverse("notification_badge")).content
    notify(user=sales1, message="One")
    notify(user=sales1, message="Two")
    notify(user=sales2, message="Not yours")
    badge = sales_client.get(reverse("notification_badge"))
    assert b'data-testid="unread-count">2<' in badge.content


def test_the_list_shows_only_ones_own_and_costs_the_same_with_5_and_50(
    sales_client, sales1, sales2, count_queries
):
    for n in range(5):
        notify(user=sales1, message=f"Mine {n}")
    notify(user=sales2, message="Theirs")
    few = count_queries(sales_client, reverse("notifications"))
    assert b"Mine 4" in few.response.content and b"Theirs" not in few.response.content
    for n in range(45):
        notify(user=sales1, message=f"More {n}")
    assert count_queries(sales_client, reverse("notifications")) == few <= 8


def test_opening_a_notification_marks_it_read_and_goes_to_its_record(sales_client, sales1):
    notification = notify(user=sales1, message="Look", url="/customers/")
    response = sales_client.post(reverse("notification_read", args=[notification.pk]))
    assert response.url == "/customers/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_a_link_elsewhere_is_not_followed(sales_client, sales1):
    notification = notify(user=sales1, message="Look", url="https://evil.example.com/")
    response = sales_client.post(reverse("notification_read", args=[notification.pk]))
    assert response.url == reverse("notifications")


def test_someone_elses_notification_answers_404_and_stays_unread(sales_client, sales2):
    theirs = notify(user=sales2, message="Theirs")
    assert sales_client.post(reverse("notification_read", args=[theirs.pk])).status_code == 404
    sales_client.post(reverse("notifications_read_all"))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(sales_client, sales1):
    notify(user=sales1, message="One")
    notify(user=sales1, message="Two")
    sales_client.post(reverse("notifications_read_all"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_a_follow_up_given_to_someone_else_notifies_them(sales1, sales2, manager, settings):
    settings.LANGUAGE_CODE = "en"
    customer = CustomerFactory(owner=sales1)
    followup_services.schedule_followup(
        actor=manager,
        customer=customer,
        subject="Call",
        due_at=FollowUpFactory.build().due_at,
        assignee=sales2,
    )
    followup_services.schedule_followup(
        actor=sales1, customer=customer, subject="Mine", due_at=FollowUpFactory.build().due_at
    )
    (notification,) = Notification.objects.all()
    assert notification.user == sales2 and notification.message.endswith("assigned you a follow-up: Call")
    mine = FollowUpFactory(customer=customer, assignee=sales1)
    followup_services.reassign_followup(actor=sales1, followup=mine, assignee=sales2)
    assert Notification.objects.filter(user=sales2).count() == 2


def test_a_user_who_asked_for_it_gets_notifications_by_email_too(
    sales_client, sales1, sales2, settings, english
):
    settings.SITE_URL = "https://crm.example.com"
    notify(user=sales1, message="Before", url="/customers/")
    assert not OutgoingEmail.objects.exists()  # in the app only, by default
    sales_client.post(reverse("notification_preference"), {"email": "1"})
    assert b"Stop e-mailing them" in sales_client.get(reverse("notifications")).content
    notify(user=sales1, message="After", url="/customers/")
    notify(user=sales2, message="Not asked")
    email = OutgoingEmail.objects.get()
    assert (email.kind, email.to, email.subject) == ("notification", sales1.email, "After")
    assert "https://crm.example.com/customers/" in email.body
    sales_client.post(reverse("notification_preference"), {"email": "0"})
    notify(user=sales1, message="Off again")
    assert OutgoingEmail.objects.count() == 1


def test_a_notification_the_crm_writes_reads_in_each_readers_language(client, sales1, manager):
    customer = CustomerFactory(owner=sales1)
    followup_services.schedule_followup(
        actor=manager, customer=customer, subject="Call back", due_at=timezone.now(), assignee=sales1
    )
    notification = sales1.notifications.get()
    assert "assigned you a follow-up: Call back" in notification.message
    assert "Call back" in notification.message_zh_hans and "跟进" in notification.message_zh_hans
    client.force_login(sales1)
    for language, expected in (("en", notification.message), ("zh-hans", notification.message_zh_hans)):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        assert expected in client.get(reverse("notifications")).content.decode()
    rule_text = notify(user=sales1, message="As the rule's author wrote it")
    with translation.override("zh-hans"):
        assert rule_text.text == "As the rule's author wrote it"
