from io import StringIO

import pytest
from django.core.management import call_command


def run_worker() -> str:
    """Runs a `db_worker` until the queue is empty, in this process; returns what it logged."""
    out = StringIO()
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=out)
    return out.getvalue()


@pytest.fixture
def worker():
    return run_worker
