"""The one date parser and the table of bounds (mzdesk/models/dates.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mzdesk.models import dates
from mzdesk.models.errors import ValidationError

TODAY = dt.date(2026, 12, 5)
STYLES = (
    "{y}-{m:02d}-{d:02d}",
    "{y}/{m}/{d}",
    "{y}年{m}月{d}日",
    "{y}.{m}.{d}",
    "{y} 年 {m} 月 {d} 日",
)


@given(st.dates(min_value=dt.date(1000, 1, 1)), st.sampled_from(STYLES))
def test_every_typed_style_reads_back_the_same_day(day, style):
    assert dates.parse_day(style.format(y=day.year, m=day.month, d=day.day)) == day


@pytest.mark.parametrize(
    "text",
    ["2026-02-30", "2026-13-01", "abc", "", "20260301", "26-3-1", "2026-03-01x", "2026年3月"],
)
def test_not_a_date_is_a_value_error(text):
    with pytest.raises(ValueError):
        dates.parse_day(text)


def test_a_bad_date_names_the_field_in_chinese():
    with pytest.raises(ValidationError) as exc:
        dates.check_date("stopped_on", "2026-02-30", today=TODAY)
    problem = exc.value.problems[0]
    assert (problem.field, problem.code) == ("stopped_on", "bad_date")
    assert "停发日期“2026-02-30”无效" in str(exc.value)


@given(st.sampled_from(sorted(dates.RULES)), st.dates(dt.date(1800, 1, 1), dt.date(2200, 1, 1)))
def test_a_date_passes_exactly_inside_its_bounds(kind, day):
    earliest, latest = dates.bounds(kind, TODAY)
    inside = earliest <= day <= latest
    try:
        assert dates.check_date(kind, day, today=TODAY) == day
        assert inside
    except ValidationError as exc:
        assert not inside
        problem = exc.problems[0]
        assert problem.field == kind and problem.code in ("date_too_early", "date_too_late")
        assert dates.RULES[kind].label in exc.message
        assert str(earliest if day < earliest else latest) in exc.message  # the bound is named


def test_the_cases_of_the_issue_are_refused():
    for kind, value in [
        ("notice_start", "2099-01-01"),
        ("stopped_on", "1900-01-01"),
        ("reviewed_on", "2100-01-01"),
        ("review_due", "2100-01-01"),
        ("applied_on", "1900-01-01"),
        ("applied_on", "2099-01-01"),
    ]:
        with pytest.raises(ValidationError):
            dates.check_date(kind, value, today=TODAY)


def test_the_limits_of_each_kind():
    ahead = {k: (dates.bounds(k, TODAY)[1] - TODAY).days for k in dates.RULES}
    # facts cannot be in the future
    for kind in (
        "applied_on",
        "investigated_on",
        "deliberated_on",
        "objection_on",
        "visit_date",
        "declared_on",
        "birth_date",
        "deceased_on",
    ):
        assert ahead[kind] == 0, kind
    # decisions may be entered for the coming month, notices prepared a month ahead
    for kind in ("submitted_on", "confirmed_on", "rejected_on", "stopped_on", "reviewed_on"):
        assert ahead[kind] == dates.DECISION_AHEAD_DAYS == 31
    assert ahead["notice_start"] == 30
    assert 366 < ahead["review_due"] <= 3 * 366
    assert dates.bounds("notice_start", TODAY)[0] == TODAY - dt.timedelta(days=30)
    assert dates.bounds("applied_on", TODAY)[0] == dt.date(1990, 1, 1)
    assert dates.bounds("birth_date", TODAY)[0] == dt.date(1890, 1, 1)


def test_the_step_before_and_after_bound_a_date():
    msg = "停发日期不能早于开始享受日期2024-03-01，现为2024-02-10"
    with pytest.raises(ValidationError, match=msg) as exc:
        dates.check_date(
            "stopped_on", "2024/2/10", today=TODAY, not_before=[("开始享受日期", "2024-03-01")]
        )
    assert exc.value.problems[0].code == "date_before_step"
    assert dates.check_date(
        "stopped_on",
        "2024-03-01",
        today=TODAY,
        not_before=[("开始享受日期", dt.date(2024, 3, 1)), ("x", None)],
    ) == dt.date(2024, 3, 1)
    with pytest.raises(ValidationError, match="死亡日期不能晚于") as exc:
        dates.check_date(
            "deceased_on", "2020-01-01", today=TODAY, not_after=[("注销日期", "2019-12-31")]
        )
    assert exc.value.problems[0].code == "date_after_step"


def test_the_clock_is_one_function_a_test_can_pin(monkeypatch):
    monkeypatch.setattr(dates, "current_day", lambda: dt.date(2030, 1, 1))
    assert dates.check_date("applied_on", "2029-12-31") == dt.date(2029, 12, 31)
    monkeypatch.setattr(dates, "current_day", lambda: dt.date(2029, 1, 1))
    with pytest.raises(ValidationError, match="申请日期不能晚于今天（2029-01-01）"):
        dates.check_date("applied_on", "2029-12-31")


def test_forms_and_visits_read_dates_with_the_same_parser():
    from mzdesk.models import forms, visits

    assert forms.parse_day is dates.parse_day is visits.parse_day


def test_the_examples_in_the_module_docs_hold():
    import doctest

    result = doctest.testmod(dates)
    assert result.attempted >= 4 and result.failed == 0
