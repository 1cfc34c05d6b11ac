"""The period presets and the period each compares with."""

from datetime import date

import pytest

from crm.reporting import Period, add_months


@pytest.mark.parametrize(
    "preset, start, previous",
    [
        ("this_month", date(2026, 5, 1), Period(date(2026, 4, 1), date(2026, 4, 30), "this_month")),
        ("this_quarter", date(2026, 4, 1), Period(date(2026, 1, 1), date(2026, 2, 28), "this_quarter")),
        ("this_year", date(2026, 1, 1), Period(date(2025, 1, 1), date(2025, 5, 31), "this_year")),
        ("last_12_months", date(2025, 6, 1), Period(date(2024, 6, 1), date(2025, 5, 31), "last_12_months")),
    ],
)
def test_presets_run_to_today_and_compare_with_the_same_span_before(preset, start, previous):
    today = date(2026, 5, 31)
    period = Period.from_preset(preset, today)
    assert (period.start, period.end) == (start, today)
    assert period.previous() == previous


def test_a_custom_period_compares_with_as_many_whole_months_or_days_before():
    assert Period(date(2026, 1, 1), date(2026, 6, 30)).previous() == Period(
        date(2025, 7, 1), date(2025, 12, 31)
    )
    assert Period(date(2026, 3, 1), date(2026, 3, 31)).previous() == Period(
        date(2026, 2, 1), date(2026, 2, 28)
    )
    assert Period(date(2026, 3, 10), date(2026, 3, 19)).previous() == Period(
        date(2026, 2, 28), date(2026, 3, 9)
    )


def test_months_and_month_arithmetic():
    assert Period(date(2025, 11, 15), date(2026, 2, 1)).months() == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 1, 15), -13) == date(2024, 12, 15)
