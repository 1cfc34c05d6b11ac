"""The reminder digest leaves the database only after it is committed: written with its outbox e-mail, then
sent to a real SMTP server outside any transaction, then marked sent once the server accepted it; once per
user and day."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from automation.models import OutgoingEmail
from followups import services
from followups.models import ReminderDigest
from tests.factories import CustomerFactory, FollowUpFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def due(sales1, sales2):
    """An overdue follow-up for each of sales1 and sales2."""
    for user in (sales1, sales2):
        FollowUpFactory(customer=CustomerFactory(owner=user), due_at=timezone.now() - timedelta(hours=2))


def run():
    call_command("send_followup_reminders", stdout=StringIO())


class Rollback(Exception):
    pass


def sent_digests():
    return ReminderDigest.objects.filter(email__status="sent").count()


def test_the_digest_is_committed_before_sending_and_marked_sent_only_once_accepted(due, mail_server):
    seen = {}

    def look(envelope):  # from another connection: only what is committed
        seen[envelope.rcpt_tos[0]] = list(
            ReminderDigest.objects.filter(user__email=envelope.rcpt_tos[0]).values_list(
                "email__status", flat=True
            )
        )

    mail_server.on_message = look
    run()
    assert mail_server.recipients == ["sales1@example.com", "sales2@example.com"]
    # Each row was there, committed and being sent, not yet marked sent, while the server took the message.
    assert seen == {"sales1@example.com": ["sending"], "sales2@example.com": ["sending"]}
    assert sent_digests() == 2


def test_inside_a_transaction_that_rolls_back_nothing_is_sent_or_recorded(due, mail_server):
    with pytest.raises(Rollback), transaction.atomic():
        outcomes = services.send_reminder_digests()
        assert [outcome.status for outcome in outcomes] == [services.QUEUED, services.QUEUED]
        raise Rollback
    assert mail_server.messages == []
    assert not ReminderDigest.objects.exists() and not OutgoingEmail.objects.exists()


def test_inside_a_transaction_it_sends_when_that_commits(due, mail_server):
    with transaction.atomic():
        outcomes = services.send_reminder_digests()
        assert mail_server.messages == []
    assert [outcome.status for outcome in outcomes] == [services.SENT, services.SENT]
    assert len(mail_server.messages) == 2


def test_a_refused_digest_is_retried_and_sent_once(due, mail_server, settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 0
    mail_server.refuse = True
    with pytest.raises(CommandError, match="outbox retries"):
        run()
    assert mail_server.messages == [] and sent_digests() == 0

    mail_server.refuse = False
    run()
    run()
    assert mail_server.recipients == ["sales1@example.com", "sales2@example.com"]
    assert sent_digests() == 2


def test_a_digest_being_sent_is_left_alone_an_abandoned_one_is_sent(due, sales1, sales2, mail_server):
    today = timezone.localdate()
    for user, claimed in [(sales1, timezone.now()), (sales2, timezone.now() - timedelta(hours=2))]:
        email = OutgoingEmail.objects.create(
            kind="digest", to=user.email, subject="Digest", body="…", status="sending", claimed_at=claimed
        )
        ReminderDigest.objects.create(user=user, date=today, overdue=1, due_today=0, email=email)
    # sales1's is being sent by another run; sales2's by a run that died before it could say.
    statuses = {outcome.digest.user.username: outcome.status for outcome in services.send_reminder_digests()}
    assert statuses == {"sales1": services.SENDING, "sales2": services.SENT}
    assert mail_server.recipients == ["sales2@example.com"]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers are PostgreSQL's; SQLite writes one at a time",
)
def test_two_runs_at_once_send_each_digest_once(due, mail_server):
    mail_server.delay = 0.5  # a slow server: the runs overlap while sending
    barrier = threading.Barrier(2)
    statuses: list[str] = []

    def send():
        try:
            barrier.wait()
            statuses.extend(outcome.status for outcome in services.send_reminder_digests())
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert mail_server.recipients == ["sales1@example.com", "sales2@example.com"]
    assert len(statuses) == 4 and statuses.count(services.SENT) == 2
    assert set(statuses) - {services.SENT} <= {services.ALREADY_SENT, services.SENDING}
    assert sent_digests() == 2
