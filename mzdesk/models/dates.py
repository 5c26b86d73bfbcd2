"""Dates a user gives: the one parser and the one table of bounds (日期范围).

Every date typed into a form, passed on the command line or read from a
dialog goes through :func:`check_date` in the service that stores it.  A date
out of range raises :class:`~mzdesk.models.errors.ValidationError` naming the
field and the bound, so ``notice --start 2099-01-01`` or ``enrol stop --date
1900-01-01`` change nothing and say why.

>>> parse_day("2026年3月1日")
datetime.date(2026, 3, 1)
>>> check_date("applied_on", "2026/3/1", today=dt.date(2026, 12, 5))
datetime.date(2026, 3, 1)
>>> check_date("stopped_on", "2024-02-10", today=dt.date(2026, 12, 5),
...            not_before=[("开始享受日期", "2024-03-01")])
Traceback (most recent call last):
...
mzdesk.models.errors.ValidationError: 停发日期不能早于开始享受日期2024-03-01，现为2024-02-10

Three kinds of limit, each a named constant below:

* a floor of the domain: nothing in this office's records happened before
  :data:`RECORDS_FLOOR` (the 低保 system dates from the 1990s; a historic
  application may be entered, a 1900 one is a typing mistake), and nobody on a
  household register was born before :data:`BIRTH_FLOOR` (the ID rule's limit);
* how far after today: a fact (an application, a home visit, a death) cannot be
  in the future; a decision (停发, 复核, 审核确认) may be entered for the coming
  month (:data:`DECISION_AHEAD_DAYS`); a notice may be prepared a month ahead;
* the step before: a stop not before the enrolment started, a survey not
  before the application.  The services pass these as ``not_before``.

The clock is :func:`current_day`, looked up at call time so that a test can pin it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import FieldError, ValidationError

# Nothing an office records (an application, a notice, a visit) predates this.
RECORDS_FLOOR = dt.date(1990, 1, 1)
# The earliest birth date on a household register (the ID number rule's own floor).
BIRTH_FLOOR = dt.date(1890, 1, 1)
# A decision (报送, 审核确认, 不予确认, 停发, 复核) may be entered up to a month ahead,
# e.g. a stop agreed now for the end of next month; 2100 is a typing mistake.
DECISION_AHEAD_DAYS = 31
# A notice may be prepared a month before it goes on the board, and recorded up to
# 30 days after it was posted on paper (the backdate rule in notice.py).
NOTICE_MAX_AHEAD_DAYS = 30
NOTICE_MAX_BACKDATE_DAYS = 30
# The date printed as issued (落款日期): near the notice's period.
NOTICE_ISSUED_BACK_DAYS = 60
# A local category's review interval (复核周期, months) is at most this (the
# national categories review every 6 or 12 months).
MAX_REVIEW_MONTHS = 24
# The next review (下次复核) is at most this far ahead: the longest interval plus a
# decision a month ahead stays well inside; 2100 is a mistake.
REVIEW_DUE_AHEAD_DAYS = 3 * 366


@dataclass(frozen=True)
class DateRule:
    """Bounds of one kind of date.  ``ahead_days``: how far after today (0: not
    after today); ``back_days``: how far before today (None: only the floor)."""

    label: str
    floor: dt.date = RECORDS_FLOOR
    ahead_days: int = 0
    back_days: int | None = None


RULES: dict[str, DateRule] = {
    "applied_on": DateRule("申请日期"),
    "investigated_on": DateRule("入户调查日期"),
    "deliberated_on": DateRule("民主评议日期"),
    "submitted_on": DateRule("报送审核日期", ahead_days=DECISION_AHEAD_DAYS),
    "confirmed_on": DateRule("审核确认日期", ahead_days=DECISION_AHEAD_DAYS),
    "rejected_on": DateRule("不予确认日期", ahead_days=DECISION_AHEAD_DAYS),
    "stopped_on": DateRule("停发日期", ahead_days=DECISION_AHEAD_DAYS),
    "reviewed_on": DateRule("复核日期", ahead_days=DECISION_AHEAD_DAYS),
    "not_accepted_on": DateRule("不予受理日期", ahead_days=DECISION_AHEAD_DAYS),
    "suspended_on": DateRule("暂停日期", ahead_days=DECISION_AHEAD_DAYS),
    "resumed_on": DateRule("恢复日期", ahead_days=DECISION_AHEAD_DAYS),
    "review_due": DateRule("下次复核日期", ahead_days=REVIEW_DUE_AHEAD_DAYS),
    "notice_start": DateRule(
        "公示开始日期", ahead_days=NOTICE_MAX_AHEAD_DAYS, back_days=NOTICE_MAX_BACKDATE_DAYS
    ),
    "notice_issued": DateRule(
        "公示落款日期", ahead_days=NOTICE_MAX_AHEAD_DAYS, back_days=NOTICE_ISSUED_BACK_DAYS
    ),
    "roster_month": DateRule("名册在保起始月份", ahead_days=DECISION_AHEAD_DAYS),
    "objection_on": DateRule("异议日期"),
    "visit_date": DateRule("入户日期"),
    "declared_on": DateRule("备案日期"),
    "survival_on": DateRule("生存认证日期"),
    "round_on": DateRule("年度核查日期", ahead_days=DECISION_AHEAD_DAYS),
    "case_decided_on": DateRule("救助审批日期"),
    "case_paid_on": DateRule("救助发放日期"),
    "run_month": DateRule("一次性发放月份", ahead_days=366),
    "run_confirmed_on": DateRule("一次性发放确认日期", ahead_days=92),  # planned ahead
    "run_paid_on": DateRule("一次性发放日期", ahead_days=92),
    "case_documented_on": DateRule("补齐材料日期"),
    "birth_date": DateRule("出生日期", floor=BIRTH_FLOOR),
    "deceased_on": DateRule("死亡日期", floor=BIRTH_FLOOR),
    # issue 22: notices to households and deadline clocks (models/letters.py, clocks.py)
    "letter_on": DateRule("告知书日期", ahead_days=DECISION_AHEAD_DAYS),
    "extended_on": DateRule("延期日期", ahead_days=DECISION_AHEAD_DAYS),
    "deadline_day": DateRule("计算办理时限的日期", ahead_days=REVIEW_DUE_AHEAD_DAYS),
}

_DAY = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
DATE_HINT = "应为 年-月-日，如 2026-03-01"


def current_day() -> dt.date:
    """The one clock the bounds compare with (tests pin it with monkeypatch)."""
    return dt.date.today()


def parse_day(value) -> dt.date:
    """A date as staff type it; raises ``ValueError`` if it is not one.

    >>> [parse_day(t).isoformat() for t in ("2026-03-01", "2026/3/1", "2026.3.1", "2026年3月1日")]
    ['2026-03-01', '2026-03-01', '2026-03-01', '2026-03-01']
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    m = _DAY.fullmatch(str(value).strip())
    if not m:
        raise ValueError(f"not a date: {value!r}")
    return dt.date(*map(int, m.groups()))  # ValueError for 2026-02-30


def _refuse(field: str, code: str, message: str) -> ValidationError:
    return ValidationError([FieldError(field, code, message)])


def to_day(value, kind: str, field: str | None = None) -> dt.date:
    """:func:`parse_day` with a Chinese error naming the field (no bounds)."""
    try:
        return parse_day(value)
    except (ValueError, OverflowError):
        label = RULES[kind].label
        raise _refuse(field or kind, "bad_date", f"{label}“{value}”无效，{DATE_HINT}") from None


def bounds(kind: str, on: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """(earliest, latest) date of ``kind`` allowed on day ``on`` (default: today).

    >>> bounds("stopped_on", dt.date(2026, 12, 5))
    (datetime.date(1990, 1, 1), datetime.date(2027, 1, 5))
    """
    rule = RULES[kind]
    on = on or current_day()
    earliest = rule.floor
    if rule.back_days is not None:
        earliest = max(earliest, on - dt.timedelta(days=rule.back_days))
    return earliest, on + dt.timedelta(days=rule.ahead_days)


def check_date(
    kind: str,
    value,
    *,
    today: dt.date | None = None,
    not_before: Iterable[tuple[str, dt.date | str | None]] = (),
    not_after: Iterable[tuple[str, dt.date | str | None]] = (),
    field: str | None = None,
) -> dt.date:
    """``value`` parsed and within the bounds of ``kind`` (see :data:`RULES`).

    ``not_before``/``not_after``: (label, date) of the steps around it, e.g.
    ``[("开始享受日期", e.start_on)]``; a None date is skipped.  Raises
    :class:`ValidationError` naming the field and the bound.
    """
    rule = RULES[kind]
    field = field or kind
    day = to_day(value, kind, field)
    now = today or current_day()
    earliest, latest = bounds(kind, now)
    if day < earliest == rule.floor:
        raise _refuse(field, "date_too_early", f"{rule.label}不能早于{rule.floor}（现为{day}）")
    if day < earliest:
        msg = f"{rule.label}不能早于{earliest}（今天{now}前{rule.back_days}天），现为{day}"
        raise _refuse(field, "date_too_early", msg)
    if day > latest:
        if rule.ahead_days == 0:
            msg = f"{rule.label}不能晚于今天（{now}），现为{day}"
        else:
            msg = f"{rule.label}不能晚于{latest}（今天起{rule.ahead_days}天内），现为{day}"
        raise _refuse(field, "date_too_late", msg)
    for label, other in not_before:
        if other is not None and other != "" and day < parse_day(other):
            msg = f"{rule.label}不能早于{label}{parse_day(other)}，现为{day}"
            raise _refuse(field, "date_before_step", msg)
    for label, other in not_after:
        if other is not None and other != "" and day > parse_day(other):
            msg = f"{rule.label}不能晚于{label}{parse_day(other)}，现为{day}"
            raise _refuse(field, "date_after_step", msg)
    return day
