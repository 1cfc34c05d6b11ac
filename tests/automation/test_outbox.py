"""The e-mail outbox against a real SMTP server (aiosmtpd on 127.0.0.1), sent by real workers."""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from automation import delivery, tasks
from automation.models import OutgoingEmail
from automation.outbox import queue_email
from followups.models import Communication
from tests.conftest import POSTGRESQL_ONLY
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


def customer_email(customer, **fields):
    return queue_email(
        kind=OutgoingEmail.Kind.CUSTOMER,
        to="buyer@example.com",
        subject=fields.pop("subject", "Your order is confirmed"),
        body="Thank you.",
        customer=customer,
        **fields,
    )


def test_an_email_whose_transaction_rolls_back_is_never_sent(sales1, mail_server, worker):
    customer = CustomerFactory(owner=sales1)
    with pytest.raises(Rollback), transaction.atomic():
        customer_email(customer)
        raise Rollback
    worker()
    assert mail_server.messages == []
    assert not OutgoingEmail.objects.exists() and not DBTaskResult.objects.exists()


def test_a_refused_email_is_retried_with_backoff_and_sent_once(sales1, mail_server, worker, settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    customer = CustomerFactory(owner=sales1, name="华东精密仪器")
    email = customer_email(customer)
    mail_server.refuse = True
    worker()
    email.refresh_from_db()
    assert (email.status, email.attempts, mail_server.messages) == ("pending", 1, [])
    assert "550" in email.last_error
    # The retry waits for its time: 60 s after the first attempt (then 120 s, 240 s…).
    assert timedelta(seconds=55) < email.next_attempt_at - timezone.now() <= timedelta(seconds=60)
    assert delivery.retry_delay(3) == timedelta(seconds=240)
    assert not Communication.objects.exists()

    mail_server.refuse = False
    worker()  # not due yet: nothing is sent
    assert mail_server.messages == []
    OutgoingEmail.objects.update(next_attempt_at=timezone.now())
    DBTaskResult.objects.update(run_after=timezone.now())
    worker()
    worker()
    tasks.send_email.enqueue(email.pk)  # a duplicate task sends nothing twice
    worker()
    assert mail_server.recipients == ["buyer@example.com"]
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("sent", 2, "")

    # On the customer's timeline: an outgoing e-mail, by the customer's owner.
    communication = Communication.objects.get()
    assert email.communication == communication
    assert (communication.customer, communication.channel, communication.direction) == (
        customer,
        "email",
        "out",
    )
    assert (communication.subject, communication.staff) == ("Your order is confirmed", sales1)


def test_after_the_last_attempt_the_email_is_failed_until_a_manager_retries_it(
    sales1, manager, mail_server, worker, settings
):
    settings.OUTBOX_MAX_ATTEMPTS, settings.OUTBOX_RETRY_BASE_SECONDS = 2, 0
    email = customer_email(CustomerFactory(owner=sales1))
    mail_server.refuse = True
    worker()
    worker()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 2)
    tasks.sweep.enqueue()
    worker()  # the sweep leaves failed e-mails alone
    assert OutgoingEmail.objects.get().attempts == 2

    mail_server.refuse = False
    from automation.outbox import retry_email

    assert retry_email(actor=manager, email=email)
    assert not retry_email(actor=manager, email=email)  # pending now: nothing to retry
    worker()
    email.refresh_from_db()
    assert (email.status, email.attempts, len(mail_server.messages)) == ("sent", 1, 1)


def test_a_delivery_left_by_a_dead_worker_is_taken_up_by_the_sweep(sales1, mail_server, worker, settings):
    email = customer_email(CustomerFactory(owner=sales1))
    DBTaskResult.objects.all().delete()  # the task is gone with the worker that held it
    assert delivery.claim(OutgoingEmail, email.pk) is not None  # claimed, then the worker died
    assert delivery.claim(OutgoingEmail, email.pk) is None  # nobody else takes it meanwhile
    tasks.sweep.enqueue()
    worker()
    assert mail_server.messages == []  # the claim is still fresh

    OutgoingEmail.objects.update(
        claimed_at=timezone.now() - timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT_SECONDS + 1)
    )
    tasks.sweep.enqueue()
    worker()
    assert mail_server.recipients == ["buyer@example.com"]
    assert OutgoingEmail.objects.get().status == "sent"


MANAGE = Path(settings.BASE_DIR) / "manage.py"


def _database_url():
    db = connection.settings_dict
    host, port = db["HOST"] or "localhost", db["PORT"] or 5432
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"


def _worker_process(smtp_port, **env):
    environment = {
        **os.environ,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "crm.settings",  # not the tests' settings, which keep mail in memory
        "DATABASE_URL": _database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        **env,
    }
    command = [
        sys.executable,
        str(MANAGE),
        "db_worker",
        "--no-reload",
        "--no-startup-delay",
        "--interval",
        "0.1",
    ]
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@POSTGRESQL_ONLY
def test_a_worker_killed_in_the_middle_of_sending_leaves_the_email_to_another_worker(sales1, mail_server):
    email = customer_email(CustomerFactory(owner=sales1))
    with socket.socket() as silent:  # an SMTP server that never answers: the worker hangs mid-send
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        first = _worker_process(silent.getsockname()[1], EMAIL_TIMEOUT="120")
        deadline = time.monotonic() + 60
        while OutgoingEmail.objects.get().status != "sending":
            assert first.poll() is None, first.stderr.read().decode()
            assert time.monotonic() < deadline, "the worker did not take the e-mail"
            time.sleep(0.05)
        time.sleep(0.5)  # connected, waiting for the server's greeting
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=30) == -signal.SIGKILL
    assert OutgoingEmail.objects.get().status == "sending" and mail_server.messages == []

    second = _worker_process(mail_server.port, OUTBOX_CLAIM_TIMEOUT_SECONDS="1")
    try:
        time.sleep(1.1)  # the dead worker's claim expires
        tasks.sweep.enqueue()
        deadline = time.monotonic() + 60
        while OutgoingEmail.objects.get().status != "sent":
            assert second.poll() is None, second.stderr.read().decode()
            assert time.monotonic() < deadline, "the second worker did not send the e-mail"
            time.sleep(0.05)
    finally:
        second.terminate()
        second.wait(timeout=30)
    assert mail_server.recipients == ["buyer@example.com"]
    email.refresh_from_db()
    assert email.attempts == 2 and Communication.objects.count() == 1
