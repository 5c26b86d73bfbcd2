"""Survival checks (生存认证) of the 高龄津贴, twice a year.

The half-years are H1 (January-June) and H2 (July-December), named ``2026-H2``.  Every
recipient paid in a survival category (``resources/reviews.json``: 高龄津贴) is confirmed
alive once per half-year, by a home visit (上门), a video call (视频) or through the village
(村代办): :func:`record_check`.  :func:`due` is the work queue of those not yet confirmed
in the current half-year; once a half-year's deadline has passed, the ones still missing
are stop proposals (停发建议, :func:`stop_proposals`), which the clerk confirms one by one
(:func:`confirm_stop`): the stop then goes through the lifecycle (``enrolment.stop``), with
its 停发 notice and its history, like any other stop.  A late confirmation simply removes a
proposal.  The checks travel in sync with their household.
"""

from __future__ import annotations

import datetime as dt
import re

from ..resources import load_json
from . import dates
from . import enrolment as enr
from .auth import require
from .errors import MzError
from .store import Store, new_uid
from .text import field_text

_PERIOD = re.compile(r"(\d{4})-H([12])")
_PAID = ", ".join(f"'{s}'" for s in enr.PAID_LIVE_STATES)


class SurvivalError(MzError):
    """A survival check or a stop proposal that cannot be recorded."""

    code = "bad_survival"


def settings() -> dict:
    """The ``survival`` block of resources/reviews.json: categories, deadlines, methods."""
    return load_json("reviews.json")["survival"]


def methods() -> dict[str, str]:
    """``{"visit": "上门", "video": "视频", "village": "村代办"}``."""
    return dict(settings()["methods"])


def period_of(day: dt.date) -> str:
    """The half-year of ``day``.

    >>> period_of(dt.date(2026, 7, 1))
    '2026-H2'
    """
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def bounds(period: str) -> tuple[dt.date, dt.date, dt.date]:
    """(first day, last day, deadline) of a half-year such as ``2026-H1``."""
    m = _PERIOD.fullmatch(period.strip())
    if m is None:
        raise SurvivalError(
            f"认证期应写作“年份-H1”或“年份-H2”，如 2026-H1：{period!r}", "bad_period"
        )
    year, half = int(m[1]), int(m[2])
    first = dt.date(year, 1 if half == 1 else 7, 1)
    last = dt.date(year, 6, 30) if half == 1 else dt.date(year, 12, 31)
    month, day = settings()["deadline"][f"H{half}"].split("-")
    return first, last, dt.date(year, int(month), int(day))


def previous(period: str) -> str:
    """The half-year before ``period``.

    >>> previous("2027-H1")
    '2026-H2'
    """
    first, _, _ = bounds(period)
    return period_of(first - dt.timedelta(days=1))


def due_sql(alias: str = "e", period: str = ":period") -> str:
    """A condition on enrolments: paid in a survival category and not confirmed in
    ``period`` (an SQL expression, by default the ``:period`` parameter)."""
    cats = ", ".join("'" + c.replace("'", "''") + "'" for c in settings()["categories"])
    return (
        f"({alias}.state IN ({_PAID}) AND {alias}.category IN ({cats}) AND NOT EXISTS "
        f"(SELECT 1 FROM survival_checks sc WHERE sc.enrolment_id = {alias}.id "
        f"AND sc.status = 'active' AND sc.period = {period}))"
    )


# the current half-year of the work queues' ``:today``, as SQL (the same as period_of)
TODAY_PERIOD_SQL = (
    "(strftime('%Y', :today) || CASE WHEN CAST(strftime('%m', :today) AS INTEGER) <= 6 "
    "THEN '-H1' ELSE '-H2' END)"
)


def _rows(store: Store, period: str, today: dt.date) -> list[dict]:
    first, _, deadline = bounds(period)
    rows = store.db.query(
        f"""SELECT e.id, e.household_id, e.category, e.class AS cls, e.state, e.start_on,
               h.village, h.village_group, coalesce(m.name, h.head_name) AS name,
               (SELECT max(sc.checked_on) FROM survival_checks sc
                 WHERE sc.enrolment_id = e.id AND sc.status = 'active') AS last_checked
           FROM enrolments e JOIN households h ON h.id = e.household_id
           LEFT JOIN members m ON m.id = e.member_id
           WHERE e.status = 'active' AND h.status = 'active' AND {due_sql("e")}
             AND (e.start_on IS NULL OR e.start_on <= :deadline)
           ORDER BY h.village, h.village_group, h.head_py, e.id""",
        {"period": period, "deadline": deadline.isoformat()},
    )
    out = []
    for r in rows:
        r.update(period=period, deadline=deadline.isoformat(), overdue=today > deadline)
        out.append(r)
    return out


def due(store: Store, period: str | None = None, today: dt.date | None = None) -> list[dict]:
    """Recipients not yet confirmed in ``period`` (default: the current half-year)."""
    require(store, "records.view")
    today = today or dates.current_day()
    return _rows(store, period or period_of(today), today)


def stop_proposals(
    store: Store, period: str | None = None, today: dt.date | None = None
) -> list[dict]:
    """停发建议: recipients not confirmed in a half-year whose deadline has passed (default:
    the latest such half-year).  Empty while the deadline has not passed."""
    require(store, "records.view")
    today = today or dates.current_day()
    if period is None:
        period = period_of(today)
        if today <= bounds(period)[2]:
            period = previous(period)
    if today <= bounds(period)[2]:
        return []
    return _rows(store, period, today)


def record_check(
    store: Store,
    enrolment_id: int,
    method: str,
    on: dt.date | str | None = None,
    note: str = "",
) -> dict:
    """Record a survival confirmation (date, method) for the half-year of its date."""
    require(store, "enrolment.edit")
    if method not in methods():
        labels = "、".join(f"{k}（{v}）" for k, v in methods().items())
        raise SurvivalError(f"认证方式应为 {labels} 之一，而不是“{method}”", "bad_method")
    note = field_text(note, "note", "备注", "note")
    day = dates.check_date("survival_on", dates.current_day() if on is None else on)
    with store.transaction():
        e = enr.get(store, enrolment_id)
        if e.category not in settings()["categories"]:
            raise SurvivalError(f"“{enr.describe(store, e)}”不需要生存认证", "no_survival")
        if e.state not in enr.PAID_LIVE_STATES:
            raise SurvivalError("只有正在发放的对象需要生存认证", "not_paid")
        row = {
            "uid": new_uid(),
            "household_id": e.household_id,
            "enrolment_id": e.id,
            "period": period_of(day),
            "checked_on": day.isoformat(),
            "method": method,
            "note": note,
            **store.stamp(new=True),
        }
        store.conn.execute(
            f"INSERT INTO survival_checks ({', '.join(row)}) "
            f"VALUES ({', '.join(':' + k for k in row)})",
            row,
        )
        return {k: row[k] for k in ("enrolment_id", "period", "checked_on", "method", "note")}


def checks(store: Store, enrolment_id: int) -> list[dict]:
    """The survival checks of one enrolment, latest first."""
    require(store, "records.view")
    return list(
        store.db.query(
            "SELECT period, checked_on, method, note, created_by FROM survival_checks "
            "WHERE enrolment_id = ? AND status = 'active' ORDER BY checked_on DESC, id DESC",
            (enrolment_id,),
        )
    )


def confirm_stop(
    store: Store,
    enrolment_id: int,
    period: str | None = None,
    today: dt.date | None = None,
) -> enr.Enrolment:
    """The clerk confirms a stop proposal: the enrolment stops (``enrolment.stop``: from
    the next month, on the next notice as 停发) for want of the half-year's check."""
    require(store, "enrolment.confirm")
    today = today or dates.current_day()
    with store.transaction():
        proposals = {r["id"]: r for r in stop_proposals(store, period, today)}
        if enrolment_id not in proposals:
            raise SurvivalError(
                f"保障记录{enrolment_id}不在停发建议中（已认证、认证期未过或不需要认证）",
                "not_proposed",
            )
        p = proposals[enrolment_id]
        reason = f"{p['period']}未在{p['deadline']}前完成生存认证"
        return enr.stop(store, enrolment_id, reason, today=today)
