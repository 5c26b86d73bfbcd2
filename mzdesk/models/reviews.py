"""Reviews (复核, 动态管理) on the office's calendar: review plans and the yearly round.

* **Review plans.**  Each category has a review interval (``review_months`` in
  categories.json: 低保 half-yearly, 特困 yearly ...).  A household can be marked by the
  stability of its circumstances, 稳定 (yearly), 基本稳定 (half-yearly) or 不稳定
  (quarterly; ``resources/reviews.json``), or given an explicit interval in months: that
  interval then replaces the category's for every paid enrolment of the household, moves
  its next review date now (from its last review, or from its start), and sets the date
  after each review (:func:`next_review_for`, used by the lifecycle).  The plan travels in
  sync with the household (one record per household: uid ``plan-<household uid>``).
* **The yearly full-review round (年度全面核查).**  :func:`open_round` lists every 在保
  enrolment of a category with reviews at the day it opens; :func:`round_status` shows,
  for each, whether it was reviewed since (and the outcome: 维持, 变更金额, 停发) or
  stopped; :func:`close_round` freezes the counts.  One round per year; a round is the
  office's own bookkeeping and does not travel (the reviews themselves do).

>>> from mzdesk.models.household import Household, Member
>>> from mzdesk.models.registry import Registry
>>> from mzdesk.models.site import init_site
>>> store = Store.open(":memory:", operator="clerk")
>>> _ = init_site(store, "341623101", "青山镇")
>>> h = Registry(store).save(Household(village="红旗村", members=[
...     Member(name="王小明", relation="户主", id_number="34162319900101009X")]))
>>> review_months(store, h.id, {"review_months": 6})
6
>>> set_plan(store, h.id, "stable", on="2026-11-02")["months"]
12
>>> review_months(store, h.id, {"review_months": 6})
12
>>> review_months(store, h.id, {"review_months": 0})  # 临时救助: no review at all
0
"""

from __future__ import annotations

import datetime as dt
import json

from ..resources import load_json
from . import dates
from . import enrolment as enr
from .auth import require
from .categories import categories, state_label
from .errors import MzError, NotFound
from .payment_dates import add_months, next_review
from .site import require_site
from .store import Store
from .text import field_text

PLAN_LIMIT_MONTHS = 36
OUTCOMES = {**enr.REVIEW_OUTCOMES, "pending": "未复核", "stopped": "已停发"}
_PAID = ", ".join(f"'{s}'" for s in enr.PAID_LIVE_STATES)


class ReviewError(MzError):
    """A review plan or a round that cannot be set, opened or closed."""

    code = "bad_review"


def stability_levels() -> dict[str, dict]:
    """``{"stable": {"label": "稳定", "months": 12}, ...}`` from resources/reviews.json."""
    return load_json("reviews.json")["stability"]


def stability_label(code: str) -> str:
    return stability_levels().get(code, {}).get("label", "自定周期" if code == "custom" else code)


# -- review plans --------------------------------------------------------------------------
def plan(store: Store, household_id: int) -> dict | None:
    """The household's review plan: stability, months, set_on, note (None: the category's)."""
    row = store.one(
        "SELECT stability, months, set_on, note FROM review_plans "
        "WHERE household_id = ? AND status = 'active' ORDER BY id DESC LIMIT 1",
        (household_id,),
    )
    if row is not None:
        row["label"] = stability_label(row["stability"])
    return row


def class_months(cat: dict, cls: str = "") -> int:
    """The default interval of a class (档次) of ``cat``: ``class_months`` in
    resources/reviews.json where a county sets one (e.g. 低保 一类/二类 yearly), else the
    category's ``review_months`` (0: no review, whatever the class).

    >>> class_months({"code": "rural_dibao", "review_months": 6}, "三类")
    6
    >>> class_months({"code": "temporary", "review_months": 0}, "")
    0
    """
    months = int(cat.get("review_months") or 0)
    if not months:
        return 0
    by_class = load_json("reviews.json").get("class_months", {}).get(cat.get("code", ""), {})
    return int(by_class.get(cls, months)) if isinstance(by_class, dict) else months


def review_months(store: Store, household_id: int, cat: dict, cls: str = "") -> int:
    """The review interval of an enrolment in ``cat`` (class ``cls``) of this household: the
    household's plan, or the class's default (:func:`class_months`); 0 (no review) for a
    category without reviews, whatever the plan."""
    months = class_months(cat, cls)
    if not months:
        return 0
    p = plan(store, household_id)
    return int(p["months"]) if p else months


def next_review_for(
    store: Store, household_id: int, cat: dict, start: dt.date, cls: str = ""
) -> str | None:
    """The next review date after ``start`` by :func:`review_months` (None: no review)."""
    return next_review({"review_months": review_months(store, household_id, cat, cls)}, start)


def _last_review_day(store: Store, e: enr.Enrolment) -> dt.date | None:
    """The last real review (not a 提标) of ``e``, or its start."""
    row = store.scalar(
        "SELECT json_extract(detail, '$.on') FROM enrolment_events WHERE enrolment_id = ? "
        "AND action = 'review' AND json_extract(detail, '$.uprating') IS NULL "
        "AND json_extract(detail, '$.on') IS NOT NULL ORDER BY id DESC LIMIT 1",
        (e.id,),
    )
    day = row or e.start_on
    return dt.date.fromisoformat(day) if day else None


def set_plan(
    store: Store,
    household_id: int,
    stability: str,
    months: int | None = None,
    on: dt.date | str | None = None,
    note: str = "",
) -> dict:
    """Mark a household 稳定 / 基本稳定 / 不稳定 (``stable``/``fair``/``unstable``), or
    ``custom`` with ``months``; reschedules the next review of its paid enrolments."""
    require(store, "enrolment.edit")
    levels = stability_levels()
    if stability not in (*levels, "custom"):
        names = "、".join(f"{k}（{v['label']}）" for k, v in levels.items())
        raise ReviewError(
            f"家庭情况应为 {names} 或 custom（自定周期）之一，而不是“{stability}”", "bad_stability"
        )
    if months is None:
        if stability == "custom":
            raise ReviewError("自定周期请填写复核间隔月数", "months_required")
        months = int(levels[stability]["months"])
    if not 1 <= months <= PLAN_LIMIT_MONTHS:
        raise ReviewError(f"复核间隔应为1至{PLAN_LIMIT_MONTHS}个月，现为{months}", "bad_months")
    note = field_text(note, "note", "备注", "note")
    day = dates.check_date("round_on", dates.current_day() if on is None else on)
    with store.transaction():
        h = store.one("SELECT uid, status FROM households WHERE id = ?", (household_id,))
        if h is None or h["status"] != "active":
            raise NotFound(f"没有编号为 {household_id} 的家庭")
        uid = f"plan-{h['uid']}"
        row = {"stability": stability, "months": months, "set_on": day.isoformat(), "note": note}
        if store.scalar("SELECT 1 FROM review_plans WHERE uid = ?", (uid,)):
            sets = ", ".join(f"{k} = :{k}" for k in row)
            store.conn.execute(
                f"UPDATE review_plans SET {sets}, status = 'active', rev = rev + 1, "
                "updated_at = :updated_at, updated_by = :updated_by WHERE uid = :uid",
                {**row, **store.stamp(new=False), "uid": uid},
            )
        else:
            full = {"uid": uid, "household_id": household_id, **row, **store.stamp(new=True)}
            store.conn.execute(
                f"INSERT INTO review_plans ({', '.join(full)}) "
                f"VALUES ({', '.join(':' + k for k in full)})",
                full,
            )
        _reschedule(store, household_id, stability, months)
        return {**row, "label": stability_label(stability)}


def _reschedule(store: Store, household_id: int, stability: str, months: int) -> None:
    cats = categories(store)
    ids = [
        r[0]
        for r in store.conn.execute(
            f"SELECT id FROM enrolments WHERE household_id = ? AND status = 'active' "
            f"AND state IN ({_PAID}) ORDER BY id",
            (household_id,),
        )
    ]
    for eid in ids:
        e = enr.get(store, eid)
        if not int(cats.get(e.category, {}).get("review_months") or 0):
            continue
        base = _last_review_day(store, e)
        if base is None:
            continue
        due = add_months(base, months).isoformat()
        if due != e.review_due:
            detail = {"stability": stability, "months": months, "old_due": e.review_due}
            reason = f"家庭情况{stability_label(stability)}，每{months}个月复核"
            enr.transition(
                store, e, "review_plan", reason, detail, to_state=e.state, review_due=due
            )


# -- the yearly round (年度全面核查) ---------------------------------------------------------
def _round(store: Store, year: int | None) -> dict:
    if year is None:
        row = store.one(
            "SELECT * FROM review_rounds ORDER BY state = 'open' DESC, year DESC LIMIT 1"
        )
        if row is None:
            raise NotFound("尚未开启年度全面核查，请先开启（mzdesk review round-open）")
        return row
    row = store.one("SELECT * FROM review_rounds WHERE year = ?", (year,))
    if row is None:
        raise NotFound(f"没有{year}年度全面核查")
    return row


def open_round(store: Store, year: int, on: dt.date | str | None = None) -> dict:
    """Open the year's full-review round: every 在保 enrolment of a category with reviews is
    listed (渐退期 and 暂停 ones are not: they cannot be reviewed); one round per year, one
    open at a time."""
    require(store, "enrolment.edit")
    if require_site(store).role == "field":
        raise ReviewError("年度全面核查由乡镇（或县）开展，入户核查终端不能开启", "field_site")
    day = dates.check_date("round_on", dates.current_day() if on is None else on)
    if not 2000 <= int(year) <= day.year + 1:
        raise ReviewError(f"核查年度应在2000年至{day.year + 1}年之间，现为{year}", "bad_year")
    with store.transaction():
        if store.scalar("SELECT 1 FROM review_rounds WHERE year = ?", (year,)):
            raise ReviewError(f"{year}年度全面核查已经开启过", "round_exists")
        other = store.scalar("SELECT year FROM review_rounds WHERE state = 'open'")
        if other:
            raise ReviewError(f"{other}年度全面核查尚未结束，请先结束", "round_open")
        rid = store.conn.execute(
            "INSERT INTO review_rounds (year, opened_on, state, created_at, updated_at, "
            "created_by, updated_by) VALUES (:year, :opened_on, 'open', :created_at, "
            ":updated_at, :created_by, :updated_by)",
            {"year": year, "opened_on": day.isoformat(), **store.stamp(new=True)},
        ).lastrowid
        reviewed = [c for c, cat in categories(store).items() if cat.get("review_months")]
        marks = ", ".join("?" * len(reviewed))
        store.conn.execute(
            f"INSERT INTO review_round_items (round_id, enrolment_id) SELECT ?, e.id "
            f"FROM enrolments e JOIN households h ON h.id = e.household_id "
            f"WHERE e.status = 'active' AND h.status = 'active' AND e.state = 'active' "
            f"AND e.category IN ({marks}) ORDER BY e.id",
            (rid, *reviewed),
        )
    return round_status(store, year)


def round_pending_sql(alias: str = "e") -> str:
    """A condition on enrolments (aliased ``alias``): listed in the open round and neither
    reviewed nor stopped since it opened (the work queue 年度核查待复核)."""
    return (
        f"EXISTS (SELECT 1 FROM review_round_items ri JOIN review_rounds rr "
        f"ON rr.id = ri.round_id WHERE rr.state = 'open' AND ri.enrolment_id = {alias}.id "
        f"AND {alias}.state IN ({_PAID}) AND NOT EXISTS (SELECT 1 FROM enrolment_events ev "
        f"WHERE ev.enrolment_id = {alias}.id AND ev.action = 'review' "
        f"AND json_extract(ev.detail, '$.uprating') IS NULL "
        f"AND json_extract(ev.detail, '$.on') >= rr.opened_on))"
    )


def round_status(store: Store, year: int | None = None) -> dict:
    """The round of ``year`` (default: the open one, else the latest): its dates, counts
    by result and one row per listed enrolment (reviewed on, result)."""
    require(store, "records.view")
    r = _round(store, year)
    until = r["closed_on"] or "9999-12-31"
    rows = store.db.query(
        """SELECT e.id, e.household_id, e.category, e.class AS cls, e.state, e.end_on,
               h.village, h.village_group, coalesce(m.name, h.head_name) AS name,
               (SELECT json_extract(ev.detail, '$.outcome') || '|' ||
                       json_extract(ev.detail, '$.on')
                  FROM enrolment_events ev WHERE ev.enrolment_id = e.id
                   AND ev.action = 'review' AND json_extract(ev.detail, '$.uprating') IS NULL
                   AND json_extract(ev.detail, '$.on') BETWEEN :opened AND :until
                 ORDER BY ev.id DESC LIMIT 1) AS last_review
           FROM review_round_items ri JOIN enrolments e ON e.id = ri.enrolment_id
           JOIN households h ON h.id = e.household_id
           LEFT JOIN members m ON m.id = e.member_id
           WHERE ri.round_id = :rid
           ORDER BY h.village, h.village_group, h.head_py, e.id""",
        {"rid": r["id"], "opened": r["opened_on"], "until": until},
    )
    cats = categories(store)
    items, counts = [], dict.fromkeys(OUTCOMES, 0)
    for row in rows:
        last = row.pop("last_review")
        outcome, on = last.split("|", 1) if last else ("", None)
        if not outcome:
            outcome = "stopped" if row["state"] not in enr.PAID_LIVE_STATES else "pending"
        counts[outcome] = counts.get(outcome, 0) + 1
        row.update(
            result=outcome,
            result_name=OUTCOMES.get(outcome, outcome),
            reviewed_on=on,
            category_name=cats.get(row["category"], {}).get("name", row["category"]),
            state_name=state_label(row["state"]),
        )
        items.append(row)
    total = len(items)
    return {
        "year": r["year"],
        "state": r["state"],
        "opened_on": r["opened_on"],
        "closed_on": r["closed_on"],
        "total": total,
        "done": total - counts["pending"],
        "pending": counts["pending"],
        "results": counts,
        "summary": json.loads(r["summary"] or "{}"),
        "items": items,
    }


def close_round(
    store: Store, year: int, on: dt.date | str | None = None, force: bool = False
) -> dict:
    """Close the round: refused while records are still to review, unless ``force`` (the
    pending ones are then counted as such in the frozen summary)."""
    require(store, "enrolment.edit")
    day = dates.check_date("round_on", dates.current_day() if on is None else on)
    with store.transaction():
        r = _round(store, year)
        if r["state"] != "open":
            raise ReviewError(f"{year}年度全面核查已于{r['closed_on']}结束", "round_closed")
        if day.isoformat() < r["opened_on"]:
            raise ReviewError(f"结束日期不能早于开启日期{r['opened_on']}", "date_too_early")
        status = round_status(store, year)
        if status["pending"] and not force:
            raise ReviewError(
                f"还有{status['pending']}条记录未复核，不能结束{year}年度全面核查"
                "（确需结束请加 --force）",
                "round_incomplete",
            )
        summary = {"total": status["total"], "done": status["done"], **status["results"]}
        store.conn.execute(
            "UPDATE review_rounds SET state = 'closed', closed_on = ?, summary = ?, "
            "updated_at = ?, updated_by = ? WHERE id = ?",
            (
                day.isoformat(),
                json.dumps(summary, ensure_ascii=False, sort_keys=True),
                *store.stamp(new=False).values(),
                r["id"],
            ),
        )
    return round_status(store, year)


def rounds(store: Store) -> list[dict]:
    """Every round, latest first (year, state, opened_on, closed_on)."""
    require(store, "records.view")
    return list(
        store.db.query(
            "SELECT year, state, opened_on, closed_on FROM review_rounds ORDER BY year DESC"
        )
    )
