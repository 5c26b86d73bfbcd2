"""Working-day clocks (办理时限): what each application is due for, by when, and overdue.

Three clocks, their limits in ``resources/clocks.json`` (a county edits them there):

* ``decision`` 作出审核确认决定: from the day of application (``applied_on``), while the
  enrolment is in its lifecycle (申请 … 待审核); 30 working days, 45 once extended (延期,
  :func:`extend`, an ``extend`` event with its reason);
* ``county_confirm`` 县级审核确认: from the day it was submitted to the county (the
  ``submit`` event), while 待审核; 10 working days;
* ``refusal_notice`` 书面告知: from the day of a 不予受理 or 不予确认 (``end_on``) until the
  告知书 is printed (a ``letter`` event, :mod:`mzdesk.models.letters`); 3 working days.
  Refusals older than ``lookback_days`` are history and leave the queue.

Working days: Monday to Friday, less the public holidays, plus the adjusted workdays
(调休) of ``resources/holidays.json``.  A limit of *n* working days from a day ends on the
*n*-th working day after it (the day itself is not counted).  The arithmetic is pure
(:func:`add_working_days`, :func:`working_days_between`) and property-tested.

>>> cal = Calendar(frozenset({dt.date(2026, 10, 1)}), frozenset({dt.date(2026, 10, 10)}))
>>> add_working_days(dt.date(2026, 9, 30), 1, cal)
datetime.date(2026, 10, 2)
>>> add_working_days(dt.date(2026, 10, 9), 1, cal)   # Saturday the 10th is a 调休 workday
datetime.date(2026, 10, 10)
>>> working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 2), cal)
1
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from ..resources import load_json
from . import dates
from . import enrolment as enr
from .auth import require
from .categories import categories, state_label
from .errors import MzError
from .store import Store

CLOCK_FILE = "clocks.json"
HOLIDAY_FILE = "holidays.json"
CLOCKS = ("decision", "county_confirm", "refusal_notice")
# the states in which the decision clock runs: everything before 在保 or a refusal
DECISION_STATES = ("applied", "investigating", "reviewed", "publicised", "submitted")
REFUSED_STATES = ("rejected", "not_accepted")
STATUS_LABELS = {"overdue": "已超期", "due": "即将到期", "running": "办理中"}


class ClockError(MzError):
    """A clock setting or holiday list that cannot be used."""

    code = "clocks_config"


@dataclass(frozen=True)
class Calendar:
    """Days off beyond weekends and weekend days worked (调休)."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    years: frozenset[int] = frozenset()

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


def add_working_days(start: dt.date, n: int, cal: Calendar) -> dt.date:
    """The ``n``-th working day after ``start`` (``start`` itself for ``n == 0``)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n:
        day += dt.timedelta(days=1)
        if cal.is_working_day(day):
            n -= 1
    return day


def working_days_between(a: dt.date, b: dt.date, cal: Calendar) -> int:
    """Working days in ``(a, b]``; negative (those in ``(b, a]``) when ``b`` is before ``a``.

    ``working_days_between(today, due)`` is the days left: 0 on the last day, negative
    once overdue."""
    if b < a:
        return -working_days_between(b, a, cal)
    count, day = 0, a
    while day < b:
        day += dt.timedelta(days=1)
        count += cal.is_working_day(day)
    return count


def _days(values, where: str) -> frozenset[dt.date]:
    try:
        return frozenset(dt.date.fromisoformat(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise ClockError(f"节假日表 {HOLIDAY_FILE} 的{where}有无效日期：{exc}") from exc


def calendar_from(data: dict) -> Calendar:
    """A :class:`Calendar` from the ``holidays.json`` layout (checked)."""
    years = data.get("years")
    if not isinstance(years, dict):
        raise ClockError(f"节假日表 {HOLIDAY_FILE} 缺少 years")
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    for year, spec in years.items():
        off = _days(spec.get("holidays", []), f"{year}年节假日")
        on = _days(spec.get("workdays", []), f"{year}年调休上班日")
        if off & on:
            raise ClockError(f"节假日表 {HOLIDAY_FILE}：{year}年有日期既是假日又是上班日")
        holidays |= off
        workdays |= on
    return Calendar(frozenset(holidays), frozenset(workdays), frozenset(int(y) for y in years))


@functools.cache
def calendar() -> Calendar:
    """The shipped holiday calendar (``resources/holidays.json``)."""
    return calendar_from(load_json(HOLIDAY_FILE))


def settings_from(data: dict) -> dict:
    """The clock settings (``clocks.json`` layout), each limit checked to be a whole number
    of working days above 0."""
    clocks = data.get("clocks")
    if not isinstance(clocks, dict) or set(CLOCKS) - set(clocks):
        raise ClockError(f"时限设置 {CLOCK_FILE} 应包含：{'、'.join(CLOCKS)}")
    for name in CLOCKS:
        for key in ("working_days", "extended_working_days", "lookback_days"):
            value = clocks[name].get(key)
            if key == "working_days" or value is not None:
                if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                    raise ClockError(f"时限设置 {CLOCK_FILE}：{name}.{key} 应为正整数")
    warn = data.get("warn_working_days", 5)
    if not isinstance(warn, int) or warn < 0:
        raise ClockError(f"时限设置 {CLOCK_FILE}：warn_working_days 应为非负整数")
    return {"warn_working_days": warn, "clocks": clocks}


@functools.cache
def settings() -> dict:
    """The shipped clock settings (``resources/clocks.json``)."""
    return settings_from(load_json(CLOCK_FILE))


# -- 延期 ---------------------------------------------------------------------------------------
def extended(store: Store, enrolment_id: int) -> dict | None:
    """The extension (延期) event of an enrolment: ``{"on", "reason", "by"}`` or None."""
    row = store.one(
        "SELECT json_extract(detail, '$.on') AS on_day, reason, by FROM enrolment_events "
        "WHERE enrolment_id = ? AND action = 'extend' ORDER BY id DESC LIMIT 1",
        (enrolment_id,),
    )
    return None if row is None else {"on": row["on_day"], "reason": row["reason"], "by": row["by"]}


def extend(
    store: Store, enrolment_id: int, reason: str, today: dt.date | str | None = None
) -> dict:
    """延期: the decision limit becomes ``extended_working_days`` (45), once, with a reason.

    A decision of the office (``enrolment.confirm``), recorded as an ``extend`` event of the
    enrolment (it travels in sync with the enrolment's history)."""
    require(store, "enrolment.confirm")
    reason = enr.need_reason(reason, "延期")
    limits = settings()["clocks"]["decision"]
    if not limits.get("extended_working_days"):
        raise MzError("时限设置中没有延期的期限（extended_working_days）", "no_extension")
    with store.transaction():
        e = enr.get(store, enrolment_id)
        if e.state not in DECISION_STATES:
            raise MzError(
                f"不能延期：该记录当前为“{state_label(e.state)}”，只有尚未作出决定的申请才能延期",
                "not_extendable",
            )
        if extended(store, e.id):
            raise MzError("该申请已经延期，不能再次延期", "already_extended")
        day = dates.check_date(
            "extended_on", enr.day_or_today(today), not_before=[("申请日期", e.applied_on)]
        )
        detail = {"on": day.isoformat(), "working_days": limits["extended_working_days"]}
        enr.record_event(store, e, "extend", reason, detail, e.monthly_fen)
    return {"enrolment_id": e.id, **detail, "reason": reason}


# -- what is due -------------------------------------------------------------------------------
_BASE = """SELECT e.id, e.household_id, e.category, e.class AS cls, e.state, e.applied_on,
       e.end_on, h.village, h.village_group, coalesce(m.name, h.head_name) AS name, {start}
       AS start_on, {extra} AS extra
   FROM enrolments e JOIN households h ON h.id = e.household_id
   LEFT JOIN members m ON m.id = e.member_id
   WHERE e.status = 'active' AND h.status = 'active' AND {where}"""

_QUERIES = {
    "decision": _BASE.format(
        start="e.applied_on",
        extra="EXISTS (SELECT 1 FROM enrolment_events x WHERE x.enrolment_id = e.id "
        "AND x.action = 'extend')",
        where=f"e.state IN ({', '.join(repr(s) for s in DECISION_STATES)}) AND e.applied_on > ''",
    ),
    "county_confirm": _BASE.format(
        start="(SELECT substr(max(x.at), 1, 10) FROM enrolment_events x "
        "WHERE x.enrolment_id = e.id AND x.action = 'submit')",
        extra="0",
        where="e.state = 'submitted'",
    ),
    "refusal_notice": _BASE.format(
        start="e.end_on",
        extra="0",
        where=f"e.state IN ({', '.join(repr(s) for s in REFUSED_STATES)}) AND e.end_on >= :since "
        "AND NOT EXISTS (SELECT 1 FROM enrolment_events x WHERE x.enrolment_id = e.id "
        "AND x.action = 'letter' AND json_extract(x.detail, '$.kind') IN ('reject', 'not_accept'))",
    ),
}


def due_items(
    store: Store,
    today: dt.date | None = None,
    *,
    only: str | None = None,
    cal: Calendar | None = None,
    conf: dict | None = None,
) -> list[dict]:
    """Every running clock, most urgent first: enrolment, household, who, the clock, its
    start and due day, ``days_left`` (working days; negative once overdue) and ``status``
    (``overdue``, ``due`` within ``warn_working_days``, ``running``).  ``only``: the rows
    of one status."""
    today = today or enr.day_or_today(None)
    cal = cal or calendar()
    conf = conf or settings()
    cats = categories(store)
    warn = conf["warn_working_days"]
    out = []
    for clock in CLOCKS:
        spec = conf["clocks"][clock]
        since = today - dt.timedelta(days=spec.get("lookback_days") or 36500)
        for r in store.db.query(_QUERIES[clock], {"since": since.isoformat()}):
            try:
                start = dt.date.fromisoformat(r["start_on"] or "")
            except ValueError:
                continue  # no readable start: `check` reports the stored date (date_findings)
            limit = spec.get("extended_working_days") if r["extra"] else None
            limit = limit or spec["working_days"]
            due = add_working_days(start, limit, cal)
            left = working_days_between(today, due, cal)
            if due < today:  # late on a weekend after the due day is still late: at least -1
                left = min(left, -1)
            status = "overdue" if due < today else "due" if left <= warn else "running"
            if only and status != only:
                continue
            out.append(
                {
                    "enrolment_id": r["id"],
                    "household_id": r["household_id"],
                    "village": r["village"],
                    "village_group": r["village_group"],
                    "name": r["name"],
                    "category": r["category"],
                    "category_name": cats.get(r["category"], {}).get("name", r["category"]),
                    "state": r["state"],
                    "state_name": state_label(r["state"]),
                    "clock": clock,
                    "clock_label": spec["label"],
                    "working_days": limit,
                    "extended": bool(r["extra"]),
                    "start_on": start.isoformat(),
                    "due_on": due.isoformat(),
                    "days_left": left,
                    "status": status,
                    "status_label": STATUS_LABELS[status],
                }
            )
    out.sort(key=lambda x: (x["days_left"], x["due_on"], x["enrolment_id"], x["clock"]))
    return out


def describe_item(item: dict) -> str:
    """One line for ``check`` and lists: what is due, by when, how late."""
    days = item["days_left"]
    when = f"已超期{-days}个工作日" if days < 0 else f"剩余{days}个工作日"
    extended = "（已延期）" if item.get("extended") else ""
    return f"{item['clock_label']}{extended}应于{item['due_on']}前完成（{when}）"


def year_covered(year: int, cal: Calendar | None = None) -> bool:
    """Whether the holiday list has ``year`` (else only weekends are known)."""
    return year in (cal or calendar()).years
