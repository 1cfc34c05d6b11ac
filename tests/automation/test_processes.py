"""The background machinery: the queue's readiness check and the scheduler's jobs."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from automation import tasks
from automation.scheduler import build_scheduler

pytestmark = pytest.mark.django_db


def test_readiness_fails_when_a_due_task_waits_too_long_for_a_worker(client, settings, caplog):
    settings.TASKS_MAX_WAIT_SECONDS = 60
    result = tasks.sweep.enqueue()
    assert client.get(reverse("readyz")).json()["checks"]["task_queue"] == "ok"  # just enqueued

    DBTaskResult.objects.filter(pk=result.id).update(enqueued_at=timezone.now() - timedelta(minutes=5))
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["checks"]["task_queue"] == "failed"
    assert "Readiness check task_queue failed" in caplog.text


def test_a_task_scheduled_for_later_does_not_count_as_waiting(client, settings):
    settings.TASKS_MAX_WAIT_SECONDS = 60
    later = timezone.now() + timedelta(hours=1)
    result = tasks.sweep.using(run_after=later).enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(enqueued_at=timezone.now() - timedelta(minutes=5))
    assert client.get(reverse("readyz")).status_code == 200


@pytest.mark.django_db(transaction=True)  # the job closes old connections, as between runs
def test_the_scheduler_enqueues_every_periodic_task():
    jobs = {job.id: job for job in build_scheduler().get_jobs()}
    assert set(jobs) == {
        "sweep",
        "run_rules",
        "send_reminder_digests",
        "compute_rfm",
        "prune_spent_keys",
        "expire_exports",
    }
    jobs["sweep"].func()
    assert DBTaskResult.objects.get().task_path == "automation.tasks.sweep"


@pytest.mark.django_db(transaction=True)
def test_a_task_left_running_by_a_dead_worker_is_run_again(worker, settings):
    settings.TASKS_RUNNING_TIMEOUT_SECONDS = 3600
    recent, stalled = tasks.compute_rfm.enqueue(), tasks.sweep.enqueue()
    DBTaskResult.objects.filter(pk=recent.id).update(status="RUNNING", started_at=timezone.now())
    DBTaskResult.objects.filter(pk=stalled.id).update(
        status="RUNNING", started_at=timezone.now() - timedelta(hours=2)
    )
    assert tasks.requeue_stalled_tasks() == 1
    assert DBTaskResult.objects.get(pk=stalled.id).status == "READY"
    worker()
    assert DBTaskResult.objects.get(pk=stalled.id).status == "SUCCESSFUL"
    assert DBTaskResult.objects.get(pk=recent.id).status == "RUNNING"  # still within its time
