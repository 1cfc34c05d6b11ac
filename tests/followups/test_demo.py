import random
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone
from faker import Faker

from crm.demo import DEMO_SEED, DemoContext, seed_users
from followups.demo import seed_followups
from followups.models import Communication, FollowUp
from followups.selectors import my_day_counts
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def context():
    users = seed_users()
    return DemoContext(
        rng=random.Random(DEMO_SEED),
        fake_zh=Faker("zh_CN"),
        fake_en=Faker("en_US"),
        manager=users["manager"],
        sales=[users["sales1"], users["sales2"]],
    )


def snapshot():
    return (
        list(Communication.objects.order_by("pk").values_list("customer__name", "subject", "occurred_at")),
        list(FollowUp.objects.order_by("pk").values_list("subject", "status", "due_at")),
    )


def test_demo_followups_fill_my_day_in_both_languages_and_run_once():
    demo = context()
    for index in range(40):
        owner = demo.sales[index % 2]
        CustomerFactory(owner=owner, name=f"华东仪器 {index}" if index % 3 else f"Acme {index}")
    seed_followups(demo)

    for user in demo.sales:
        counts = my_day_counts(user)
        assert counts["overdue"] >= 3 and counts["due_today"] >= 1, user
    subjects = set(Communication.objects.values_list("subject", flat=True))
    assert "报价跟进" in subjects or "上门拜访" in subjects
    assert any(subject.isascii() for subject in subjects)
    statuses = dict(FollowUp.objects.values_list("status").annotate(n=Count("pk")))
    assert statuses.keys() == {"open", "done", "cancelled"}
    done = FollowUp.objects.filter(status="done").first()
    assert done.completed_at >= done.created_at
    assert [record.history_type for record in done.history.order_by("history_date")] == ["+", "~"]
    assert Communication.objects.filter(created_at__lt=timezone.now() - timedelta(days=30)).exists()

    before = snapshot()
    seed_followups(context())
    assert snapshot() == before, "a second run changes nothing"

    Communication.objects.all().delete()
    FollowUp.objects.all().delete()
    seed_followups(context())
    assert [row[:2] for row in snapshot()[0]] == [row[:2] for row in before[0]], (
        "the same seed, the same data"
    )
    assert [row[:2] for row in snapshot()[1]] == [row[:2] for row in before[1]]
