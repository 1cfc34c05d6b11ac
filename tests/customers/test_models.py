import time
from datetime import UTC, date, datetime

import pytest
import time_machine

from customers.models import Customer


@pytest.fixture
def utc_server(monkeypatch):
    """The process's own clock zone is UTC, as on a server where nothing moved TIME_ZONE into TZ
    (Django does so on Linux; not on Windows, nor after a library resets it)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("utc_now", "age"),
    [
        (datetime(2026, 3, 14, 23, 30, tzinfo=UTC), 36),  # 07:30 on 15 March in Shanghai: the birthday
        (datetime(2026, 3, 14, 15, 30, tzinfo=UTC), 35),  # 23:30 on 14 March in Shanghai: the eve
    ],
)
def test_age_turns_on_the_birthday_in_the_sites_time_zone(utc_server, settings, utc_now, age):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    customer = Customer(kind=Customer.Kind.PERSON, birth_date=date(1990, 3, 15))
    with time_machine.travel(utc_now, tick=False):
        assert customer.age == age


def test_an_organisation_or_a_person_without_a_birth_date_has_no_age():
    assert Customer(kind=Customer.Kind.PERSON).age is None
