"""Working-day arithmetic (models/clocks.py): pure, checked against a day-by-day count."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mzdesk.models import clocks
from mzdesk.models.clocks import (
    Calendar,
    ClockError,
    add_working_days,
    calendar,
    calendar_from,
    settings_from,
    working_days_between,
)

CAL = calendar()
days = st.dates(min_value=dt.date(2024, 12, 1), max_value=dt.date(2027, 12, 31))
limits = st.integers(min_value=0, max_value=60)


@given(days, limits)
def test_the_nth_working_day_is_a_working_day_n_working_days_later(start, n):
    due = add_working_days(start, n, CAL)
    assert working_days_between(start, due, CAL) == n
    assert working_days_between(due, start, CAL) == -n
    if n:
        assert CAL.is_working_day(due)
        # the day before the due day is still short of the limit
        assert working_days_between(start, due - dt.timedelta(days=1), CAL) == n - 1


@given(days, limits, limits)
def test_limits_add_up(start, a, b):
    assert add_working_days(add_working_days(start, a, CAL), b, CAL) == add_working_days(
        start, a + b, CAL
    )


@given(days, days)
def test_between_counts_each_day_once(a, b):
    lo, hi = min(a, b), max(a, b)
    count = sum(CAL.is_working_day(lo + dt.timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
    assert working_days_between(lo, hi, CAL) == count


def test_holidays_and_adjusted_workdays_of_2026():
    assert not CAL.is_working_day(dt.date(2026, 10, 1))  # 国庆
    assert not CAL.is_working_day(dt.date(2026, 2, 17))  # 春节
    assert CAL.is_working_day(dt.date(2026, 10, 10))  # Saturday, 调休
    assert CAL.is_working_day(dt.date(2026, 2, 14))
    assert not CAL.is_working_day(dt.date(2026, 11, 7))  # an ordinary Saturday
    # applied on the last working day before 国庆 2026: the 8 days off do not count
    assert add_working_days(dt.date(2026, 9, 30), 1, CAL) == dt.date(2026, 10, 8)
    # 30 working days from Friday 2026-10-09
    assert add_working_days(dt.date(2026, 10, 9), 30, CAL) == dt.date(2026, 11, 19)


def test_the_holiday_file_covers_2025_to_2027_and_each_workday_is_a_weekend():
    data = clocks.load_json(clocks.HOLIDAY_FILE)
    assert {"2025", "2026", "2027"} <= set(data["years"])
    for year in data["years"].values():
        for day in year["workdays"]:
            assert dt.date.fromisoformat(day).weekday() >= 5, day
    assert clocks.year_covered(2026) and not clocks.year_covered(2030)
    # a year outside the list: weekends only
    assert CAL.is_working_day(dt.date(2030, 10, 1))


def test_a_broken_holiday_list_or_clock_setting_is_refused_in_words():
    with pytest.raises(ClockError, match="无效日期"):
        calendar_from({"years": {"2026": {"holidays": ["2026-13-01"]}}})
    with pytest.raises(ClockError, match="既是假日又是上班日"):
        calendar_from({"years": {"2026": {"holidays": ["2026-10-10"], "workdays": ["2026-10-10"]}}})
    good = clocks.load_json(clocks.CLOCK_FILE)
    assert settings_from(good)["clocks"]["decision"]["working_days"] == 30
    bad = {**good, "clocks": {**good["clocks"], "decision": {"label": "x", "working_days": 0}}}
    with pytest.raises(ClockError, match="decision.working_days"):
        settings_from(bad)
    with pytest.raises(ClockError):
        settings_from({"clocks": {"decision": good["clocks"]["decision"]}})


def test_a_calendar_of_weekends_only():
    cal = Calendar()
    assert add_working_days(dt.date(2026, 12, 4), 1, cal) == dt.date(2026, 12, 7)
    with pytest.raises(ValueError):
        add_working_days(dt.date(2026, 12, 4), -1, cal)
