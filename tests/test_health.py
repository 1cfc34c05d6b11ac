"""/healthz and /readyz, as a load balancer asks them: without signing in."""

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_ready_when_the_database_answers_and_is_migrated(client):
    assert client.get(reverse("healthz")).json() == {"status": "ok"}
    response = client.get(reverse("readyz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "task_queue": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


def test_not_ready_while_a_migration_is_not_applied(client, caplog):
    latest = MigrationRecorder.Migration.objects.filter(app="followups").order_by("-id").first()
    assert latest is not None
    latest.delete()
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "failed", "task_queue": "ok"},
    }
    assert "Readiness check migrations failed" in caplog.text
