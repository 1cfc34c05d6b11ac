from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from crm.filters import end_of_day
from followups import services
from followups.models import ReminderDigest
from tests.factories import CustomerFactory, FollowUpFactory, UserFactory

# The digest is sent after its claim commits: these tests commit, as the command does.
pytestmark = pytest.mark.django_db(transaction=True)


def sales_user(username, **fields):
    return UserFactory(username=username, groups=[Group.objects.get(name="Sales")], **fields)


@pytest.fixture
def due(sales1, sales2):
    """sales1: one overdue and one due later today; sales2: one overdue; and what no digest lists."""
    now = timezone.now()
    later_today = now + (end_of_day(timezone.localdate(now)) - now) / 2
    customer = CustomerFactory(owner=sales1, name="华东精密仪器")
    FollowUpFactory(customer=customer, subject="Send the quote", due_at=now - timedelta(days=1))
    FollowUpFactory(customer=customer, subject="Call back", due_at=later_today)
    FollowUpFactory(customer=customer, subject="Next month", due_at=now + timedelta(days=30))
    FollowUpFactory(
        customer=customer,
        subject="Long done",
        due_at=now - timedelta(days=3),
        status="done",
        result="ok",
        completed_at=now,
    )
    FollowUpFactory(customer=customer, assignee=sales2, subject="Delegated", due_at=now - timedelta(hours=3))
    return customer


def run(*args):
    out = StringIO()
    call_command("send_followup_reminders", *args, stdout=out)
    return out.getvalue()


@override_settings(LANGUAGE_CODE="en", SITE_URL="https://crm.example.com")
def test_each_user_gets_one_digest_with_a_text_and_an_html_part(due, sales1, sales2):
    output = run()
    assert "sales1: sent (1 overdue, 1 due today)" in output
    assert "sales2: sent (1 overdue, 0 due today)" in output

    messages = {message.to[0]: message for message in mail.outbox}
    assert set(messages) == {sales1.email, sales2.email}
    digest = messages[sales1.email]
    assert isinstance(digest, EmailMultiAlternatives)  # text and HTML
    assert digest.subject.startswith("Your follow-ups for ") and digest.subject.endswith(
        "1 overdue, 1 due today"
    )
    assert "Send the quote · 华东精密仪器" in digest.body and "Call back" in digest.body
    assert (
        "Next month" not in digest.body and "Long done" not in digest.body and "Delegated" not in digest.body
    )
    assert "https://crm.example.com/followups/today/" in digest.body
    html, mimetype = digest.alternatives[0]
    assert mimetype == "text/html" and isinstance(html, str)
    assert (
        "<strong>Send the quote</strong>" in html
        and 'href="https://crm.example.com/followups/today/"' in html
    )
    assert "1 follow-up is overdue" in html
    assert set(ReminderDigest.objects.values_list("user__username", "overdue", "due_today")) == {
        ("sales1", 1, 1),
        ("sales2", 1, 0),
    }


def test_running_twice_the_same_day_sends_nothing_twice(due, sales1):
    run()
    assert len(mail.outbox) == 2
    output = run()
    assert len(mail.outbox) == 2
    assert "sales1: already sent" in output and "2 already sent" in output
    assert ReminderDigest.objects.count() == 2

    # A follow-up that falls due later the same day still waits for tomorrow's digest.
    FollowUpFactory(customer=due, subject="New today", due_at=timezone.now() - timedelta(minutes=1))
    run()
    assert len(mail.outbox) == 2


def test_a_new_day_sends_again(due):
    run()
    tomorrow = timezone.now() + timedelta(days=1)
    outcomes = services.send_reminder_digests(now=tomorrow)
    assert [outcome.status for outcome in outcomes] == [services.SENT, services.SENT]
    assert len(mail.outbox) == 4
    assert ReminderDigest.objects.filter(date=timezone.localdate(tomorrow)).count() == 2


def test_a_dry_run_sends_and_records_nothing(due):
    output = run("--dry-run")
    assert "sales1: would send (1 overdue, 1 due today)" in output
    assert mail.outbox == [] and not ReminderDigest.objects.exists()


def test_who_gets_no_digest(due, sales1):
    no_email = sales_user("noemail", email="")
    FollowUpFactory(customer__owner=no_email, due_at=timezone.now() - timedelta(hours=1))
    gone = sales_user("gone", is_active=False)
    FollowUpFactory(customer__owner=gone, due_at=timezone.now() - timedelta(hours=1))
    sales_user("idle")  # nothing due

    output = run()
    assert "noemail: no email" in output
    assert "gone" not in output and "idle" not in output
    assert {message.to[0] for message in mail.outbox} == {sales1.email, "sales2@example.com"}
    assert not ReminderDigest.objects.filter(user__username__in=["noemail", "gone", "idle"]).exists()


def test_a_failed_send_is_retried_by_the_outbox(due, sales1, monkeypatch, settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 0  # the retry is due at once

    def refuse(message, fail_silently=False):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as patched:
        patched.setattr(EmailMultiAlternatives, "send", refuse)
        with pytest.raises(CommandError, match="outbox retries"):
            run()
    assert mail.outbox == []
    assert set(ReminderDigest.objects.values_list("email__status", "email__attempts")) == {("pending", 1)}
    output = run()  # the next run (like the worker) sends the digests whose retry is due
    assert "2 sent" in output
    assert len(mail.outbox) == 2
    assert set(ReminderDigest.objects.values_list("email__status", flat=True)) == {"sent"}
    run()
    assert len(mail.outbox) == 2


def test_digests_are_in_the_sites_language(due, sales1):
    with override_settings(LANGUAGE_CODE="zh-hans"):
        run()
    message = next(m for m in mail.outbox if m.to == [sales1.email])
    assert "逾期" in message.subject
