"""Enrolments (保障对象) and their lifecycle: 申请 → 调查 → 评议 → 公示 → 待审核 → 在保.

One enrolment is one household (低保, 临时救助) or one person (特困, 高龄 ...)
in one category.  Every change of state goes through :func:`_move`, which
refuses an illegal transition with a message that says why and records the
operator, time and reason as an ``enrolment_events`` row.  Nothing is deleted:
a stopped or rejected enrolment stays in history.

>>> from mzdesk.models.household import Household, Member
>>> from mzdesk.models.registry import Registry
>>> from mzdesk.models.site import init_site
>>> store = Store.open(":memory:", operator="clerk")
>>> init_site(store, "341623101", "青山镇")
Site(code='341623101', name='青山镇', role='township')
>>> h = Registry(store).save(Household(village="红旗村", members=[
...     Member(name="王小明", relation="户主", id_number="34162319900101009X")]))
>>> e = create(store, household_id=h.id, category="rural_dibao", cls="二类", monthly_fen=76000)
>>> e.state
'applied'
>>> start_investigation(store, e.id).state
'investigating'

Publicising happens in :mod:`mzdesk.models.notice` (a notice moves its new
enrolments to 公示).  Category data (review interval, exclusions, classes,
deliberation) comes from :mod:`mzdesk.models.categories`; the lists of records
waiting for a step are in :mod:`mzdesk.models.work_queues`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, fields

from . import dates
from . import enrolment_rules as rules
from .auth import require
from .categories import categories, category, state_label, unknown_category
from .errors import MzError, NotFound
from .money import check_assistance
from .notice_rules import (
    NEW_NOTICE_STATES,
    flag_deliberation,
    needs_deliberation,
    require_notice_done,
)
from .payment_dates import paid_until, payment_start
from .selfcare import class_label
from .store import Store, new_uid, now_iso
from .text import clean_detail, field_text
from .units import check_unit

LIVE_STATES = ("applied", "investigating", "reviewed", "publicised", "submitted", "active")
END_STATES = ("rejected", "stopped", "not_accepted")
# paid now but not plain 在保: a 渐退期 keeps paying, a 暂停 pays its months back on 恢复
PAID_LIVE_STATES = ("active", "phasing_out", "suspended")
REVIEW_OUTCOMES = {"keep": "维持", "change": "变更金额", "stop": "停发"}


class TransitionRefused(MzError):
    """An enrolment action that the lifecycle or a rule does not allow."""

    code = "transition_refused"


# action: (label, states it may start from, state it leads to)
ACTIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "apply": ("登记申请", (), "applied"),
    "investigate": ("开始调查", ("applied",), "investigating"),
    "record_investigation": ("登记调查结果", ("investigating",), "investigating"),
    "deliberate": ("登记民主评议", ("investigating",), "reviewed"),
    "publicise": ("公示", NEW_NOTICE_STATES, "publicised"),
    "submit": ("报送县级审核", ("publicised",), "submitted"),
    "confirm": ("审核确认", ("submitted",), "active"),
    "reject": ("不予确认", ("investigating", "reviewed", "publicised", "submitted"), "rejected"),
    "review": ("复核", ("active",), "active"),
    "stop": ("停发", ("active", "phasing_out", "suspended"), "stopped"),
    # issue 21 (models/components.py, models/enrolment_states.py)
    "not_accept": ("不予受理", ("applied", "investigating"), "not_accepted"),
    "increase": ("增发", ("active", "phasing_out", "suspended"), "active"),
    "decrease": ("减发", ("active", "phasing_out", "suspended"), "active"),
    "adjust": ("调整金额构成", ("active", "phasing_out", "suspended"), "active"),
    "suspend": ("暂停发放", ("active", "phasing_out"), "suspended"),
    "resume": ("恢复发放", ("suspended",), "active"),
    "phase_out": ("进入渐退期", ("active",), "phasing_out"),
    "phase_out_end": ("渐退期满停发", ("phasing_out",), "stopped"),
    "head_change": ("户主变更", (*LIVE_STATES, "phasing_out", "suspended"), "active"),
    # issue 22 (models/reviews.py): a household's review plan moves the next review date
    "review_plan": ("调整复核周期", PAID_LIVE_STATES, "active"),
}


@dataclass
class Enrolment:
    id: int
    uid: str
    household_id: int
    member_id: int | None
    category: str
    cls: str
    state: str
    covered: int
    monthly_fen: int
    applied_on: str | None
    start_on: str | None
    end_on: str | None
    review_due: str | None
    investigated_on: str | None
    notice_pending: str
    stop_reason: str
    rev: int

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES


_COLS = ", ".join("class AS cls" if f.name == "cls" else f.name for f in fields(Enrolment))


# -- reading -------------------------------------------------------------------------
def get(store: Store, enrolment_id: int) -> Enrolment:
    row = store.conn.execute(
        f"SELECT {_COLS} FROM enrolments WHERE id = ? AND status = 'active'", (enrolment_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {enrolment_id} 的保障记录")
    return Enrolment(*row)


def for_household(store: Store, household_id: int) -> list[Enrolment]:
    rows = store.conn.execute(
        f"SELECT {_COLS} FROM enrolments WHERE household_id = ? AND status = 'active' ORDER BY id",
        (household_id,),
    )
    return [Enrolment(*r) for r in rows]


def history(store: Store, enrolment_id: int) -> list[dict]:
    """Every transition, oldest first: action, from/to state, reason, who and when."""
    return [
        {**r, "detail": json.loads(r["detail"])}
        for r in store.db.query(
            "SELECT action, from_state, to_state, reason, detail, monthly_fen, at, by "
            "FROM enrolment_events WHERE enrolment_id = ? ORDER BY id",
            (enrolment_id,),
        )
    ]


def describe(store: Store, e: Enrolment) -> str:
    """'农村低保 二类' / '高龄津贴 80-89岁' for lists and notices."""
    cat = categories(store).get(e.category, {})
    name = cat.get("name", e.category)
    return f"{name} {e.cls}".strip()


# -- rules -----------------------------------------------------------------------------
def day_or_today(value: dt.date | str | None, default: dt.date | None = None) -> dt.date:
    """``value`` as a date (``bad_date`` if it is not one), or ``default``/today when None."""
    if value is None:
        return default or dates.current_day()
    try:
        return dates.parse_day(value)
    except ValueError:
        raise MzError(f"日期格式应为 YYYY-MM-DD: {value!r}", "bad_date") from None


def _on(kind: str, value, *steps: tuple[str, str | None]) -> dt.date:
    """The date of an action (default today) within :mod:`.dates` bounds, not before ``steps``."""
    day = dates.current_day() if value is None else value
    return dates.check_date(kind, day, not_before=steps)


def _decided(store: Store, e: Enrolment) -> list[tuple[str, str | None]]:
    """The decisions a stop or a review may not precede: the confirmation (or, for an
    enrolment imported as active, its start) and the last review.  A stop dated before
    them would silently rewrite months already counted."""
    steps: list[tuple[str, str | None]] = [("开始享受日期", e.start_on)]
    events = store.conn.execute(
        "SELECT action, detail FROM enrolment_events WHERE enrolment_id = ? "
        "AND action IN ('confirm', 'review') ORDER BY id",
        (e.id,),
    )
    for action, detail in events:
        d = json.loads(detail or "{}")
        if action == "confirm" and d.get("confirmed_on"):
            steps[0] = ("审核确认日期", d["confirmed_on"])
        elif action == "review" and d.get("on"):
            steps[1:] = [("上次复核日期", d["on"])]
    return steps


def _check_class(cat: dict, cls: str) -> str:
    """The class (档次) to store: a self-care level in any accepted label becomes the
    category's own label (:mod:`.selfcare`); one not among the category's is refused."""
    cls = class_label(cat, cls)
    if cat.get("classes") and cls and cls not in cat["classes"]:
        raise TransitionRefused(
            f"“{cat['name']}”的类别/档次应为 {'、'.join(cat['classes'])} 之一，而不是“{cls}”",
            "bad_class",
        )
    return cls


def _conflicts(
    store: Store,
    household_id: int,
    member_id: int | None,
    cat: dict,
    exclude_id: int | None = None,
    states: tuple[str, ...] = LIVE_STATES,
) -> None:
    """Refuse a second live enrolment in one category, and excluded pairs (特困 vs 低保)."""
    ph = ", ".join("?" * len(states))
    rows = store.conn.execute(
        f"SELECT e.id, e.category, e.member_id, e.state, m.name FROM enrolments e "
        f"LEFT JOIN members m ON m.id = e.member_id WHERE e.household_id = ? "
        f"AND e.status = 'active' AND e.state IN ({ph}) AND e.id != ? ORDER BY e.id",
        (household_id, *states, exclude_id or 0),
    ).fetchall()
    cats = categories(store)
    # in id order, as the set form (enrolment_rules.stored_rows): the first record it clashes
    # with names the rule, whatever plan SQLite picks (a new index once changed the order)
    for oid, ocat, omember, ostate, oname in rows:
        # the rule is written once, in enrolment_rules (its set form serves the bulk paths)
        code = rules.clash(cat["code"], member_id, ocat, omember, cats)
        if code:
            other = rules.Row(oid, household_id, omember, ocat, ostate, name=oname)
            raise TransitionRefused(rules.message(code, cat["code"], other, cats), code)


def _household(store: Store, household_id: int) -> dict:
    h = store.one("SELECT id, status FROM households WHERE id = ?", (household_id,))
    if h is None or h["status"] != "active":
        raise NotFound(f"没有编号为 {household_id} 的家庭")
    return h


def _member(store: Store, household_id: int, member_id: int) -> dict:
    """The applicant of a per-person category: a living, active member of the household."""
    m = store.one(
        "SELECT household_id, status, deceased_on, name, birth_date FROM members WHERE id = ?",
        (member_id,),
    )
    if m is None or m["status"] != "active" or m["household_id"] != household_id:
        raise TransitionRefused("所选成员不属于该家庭", "member_not_in_household")
    if m["deceased_on"]:
        raise TransitionRefused(
            f"{m['name']}已于{m['deceased_on']}死亡，不能申请", "member_deceased"
        )
    return m


def _assisted(store: Store, household_id: int) -> int:
    """保障人口 of a household-level enrolment by default: its living assistance members."""
    return (
        store.scalar(
            "SELECT count(*) FROM members WHERE household_id = ? AND status = 'active' "
            "AND in_assistance = 1 AND deceased_on IS NULL",
            (household_id,),
        )
        or 1
    )


# -- transitions -------------------------------------------------------------------------
def _move(
    store: Store,
    e: Enrolment,
    action: str,
    reason: str = "",
    detail: dict | None = None,
    to_state: str | None = None,
    **cols,
) -> Enrolment:
    label, sources, target = ACTIONS[action]
    if e.state not in sources:
        allowed = "、".join(f"“{state_label(s)}”" for s in sources)
        raise TransitionRefused(
            f"不能{label}：该记录当前为“{state_label(e.state)}”，只有{allowed}状态才能{label}",
            "illegal_transition",
        )
    to_state = to_state or target
    stamp = store.stamp(new=False)
    sets = {"state": to_state, **cols, **stamp}
    assignments = ", ".join(f"{k} = :{k}" for k in sets)
    store.conn.execute(
        f"UPDATE enrolments SET {assignments}, rev = rev + 1 WHERE id = :id",
        {**sets, "id": e.id},
    )
    fen = cols.get("monthly_fen", e.monthly_fen)
    _event(store, e.id, action, e.state, to_state, reason, detail, fen)
    return get(store, e.id)


def _event(
    store: Store,
    enrolment_id: int,
    action: str,
    from_state: str | None,
    to_state: str,
    reason: str,
    detail: dict | None,
    monthly_fen: int | None,
) -> None:
    store.conn.execute(
        "INSERT INTO enrolment_events (uid, enrolment_id, action, from_state, to_state, reason, "
        "detail, monthly_fen, at, by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new_uid(),
            enrolment_id,
            action,
            from_state,
            to_state,
            field_text(reason, "reason", "原因", "reason"),
            json.dumps(clean_detail(detail), ensure_ascii=False, sort_keys=True),
            monthly_fen,
            now_iso(),
            store.operator,
        ),
    )


def _need_reason(reason: str, what: str) -> str:
    reason = field_text(reason, "reason", "原因", "reason")  # models/text.py
    if not reason:
        raise TransitionRefused(f"{what}必须填写原因", "reason_required")
    return reason


def create(
    store: Store,
    household_id: int,
    category: str,
    member_id: int | None = None,
    cls: str = "",
    covered: int | None = None,
    monthly_fen: int = 0,
    applied_on: dt.date | str | None = None,
    reason: str = "",
) -> Enrolment:
    """Register an application (申请).  Refuses duplicates and excluded categories."""
    require(store, "enrolment.edit")
    cats = categories(store)
    if category not in cats:  # (the parameter hides the function category())
        raise unknown_category(category, cats)
    cat = cats[category]
    if cat.get("retired"):  # a retired local category (models/categories.py) takes no one new
        raise TransitionRefused(f"“{cat['name']}”已停用，不再受理新申请", "category_retired")
    with store.transaction():
        _household(store, household_id)
        if cat["unit"] == "person" and member_id is None:
            raise TransitionRefused(
                f"“{cat['name']}”按人保障，请选择保障对象（家庭成员）", "member_required"
            )
        m = _member(store, household_id, member_id) if member_id is not None else None
        check_unit(store, cat, household_id, member_id)  # 单人保 beside 按户保
        cls = field_text(cls, "short", "类别/档次", "class")  # models/text.py
        cls = _check_class(cat, cls)
        if monthly_fen is None or monthly_fen < 0:
            raise TransitionRefused("保障金额不能为负数", "bad_amount")
        check_assistance(monthly_fen, "monthly_fen")  # at most 100,000 元, however it came
        if covered is None:
            covered = 1 if member_id is not None else _assisted(store, household_id)
        if covered < 1:
            raise TransitionRefused("保障人口至少为1人", "bad_covered")
        _conflicts(store, household_id, member_id, cat)
        born = ("出生日期", m["birth_date"]) if m is not None else ("", None)
        day = _on("applied_on", applied_on, born)
        row = dict(
            uid=new_uid(),
            household_id=household_id,
            member_id=member_id,
            category=category,
            **{"class": cls},
            state="applied",
            covered=covered,
            monthly_fen=monthly_fen,
            applied_on=day.isoformat(),
            notice_pending="",
            **store.stamp(new=True),
        )
        cols = ", ".join(row)
        eid = store.conn.execute(
            f"INSERT INTO enrolments ({cols}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        ).lastrowid
        assert eid is not None  # an INSERT's rowid
        detail = {"applied_on": day.isoformat()}
        _event(store, eid, "apply", None, "applied", reason, detail, monthly_fen)
        return get(store, eid)


def amend(
    store: Store,
    enrolment_id: int,
    cls: str | None = None,
    covered: int | None = None,
    monthly_fen: int | None = None,
    reason: str = "",
    extra: dict | None = None,
) -> Enrolment:
    """Change class, covered persons or proposed amount before the notice (调查中核定);
    ``extra`` goes into the event's detail (the income calculation behind the amount)."""
    require(store, "enrolment.edit")
    with store.transaction():
        e = get(store, enrolment_id)
        if e.state not in ("applied", "investigating", "reviewed"):
            raise TransitionRefused(
                f"“{state_label(e.state)}”状态的记录不能直接修改金额，请走复核流程",
                "illegal_transition",
            )
        cat = category(store, e.category)
        cls = e.cls if cls is None else field_text(cls, "short", "类别/档次", "class")
        cls = _check_class(cat, cls)
        covered = e.covered if covered is None else covered
        monthly_fen = e.monthly_fen if monthly_fen is None else monthly_fen
        if covered < 1 or monthly_fen < 0:
            raise TransitionRefused("保障人口至少1人，金额不能为负数", "bad_amount")
        if monthly_fen != e.monthly_fen:
            check_assistance(monthly_fen, "monthly_fen")  # at most 100,000 元
        store.conn.execute(
            "UPDATE enrolments SET class = ?, covered = ?, monthly_fen = ?, rev = rev + 1, "
            "updated_at = ?, updated_by = ? WHERE id = ?",
            (cls, covered, monthly_fen, now_iso(), store.operator, e.id),
        )
        detail = {**(extra or {}), "class": cls, "covered": covered}
        if monthly_fen != e.monthly_fen:
            _single_amount(store, e.id, monthly_fen, None)
        _event(store, e.id, "amend", e.state, e.state, reason, detail, monthly_fen)
        return get(store, e.id)


def start_investigation(store: Store, enrolment_id: int, reason: str = "") -> Enrolment:
    """申请 → 调查."""
    require(store, "enrolment.edit")
    with store.transaction():
        return _move(store, get(store, enrolment_id), "investigate", reason)


def record_investigation(
    store: Store,
    enrolment_id: int,
    investigators: list[str],
    verification: str,
    on: dt.date | str | None = None,
    conclusion: str = "",
    deliberation: bool | None = None,
) -> Enrolment:
    """Home visit by at least two investigators and the economic verification (核对) result;
    ``deliberation`` ticks (or unticks) 需民主评议 (:func:`flag_deliberation`)."""
    require(store, "enrolment.edit")
    names = sorted({n.strip() for n in investigators if n and n.strip()})
    if len(names) < 2:
        raise TransitionRefused("入户调查至少需要两名调查人员", "too_few_investigators")
    if not verification or not verification.strip():
        raise TransitionRefused("请填写家庭经济状况核对结果", "verification_required")
    with store.transaction():
        e = get(store, enrolment_id)
        day = _on("investigated_on", on, ("申请日期", e.applied_on))
        if deliberation is not None:
            flag_deliberation(store, e.id, deliberation)
        return _move(
            store,
            e,
            "record_investigation",
            conclusion,
            {"investigators": names, "verification": verification.strip(), "on": day.isoformat()},
            investigated_on=day.isoformat(),
        )


def deliberate(
    store: Store, enrolment_id: int, attendance: int, result: str, on: dt.date | str | None = None
) -> Enrolment:
    """Democratic review meeting (民主评议), only for categories that have one."""
    require(store, "enrolment.edit")
    with store.transaction():
        e = get(store, enrolment_id)
        if not needs_deliberation(e.category):
            raise TransitionRefused(f"“{describe(store, e)}”不需要民主评议", "no_deliberation")
        if not e.investigated_on:
            raise TransitionRefused("请先登记入户调查结果，再进行民主评议", "not_investigated")
        if attendance < 1 or not result.strip():
            raise TransitionRefused("请填写参会人数和评议结果", "deliberation_incomplete")
        day = _on("deliberated_on", on, ("入户调查日期", e.investigated_on))
        return _move(
            store,
            e,
            "deliberate",
            result,
            {"attendance": attendance, "result": result.strip(), "on": day.isoformat()},
        )


def submit(
    store: Store, enrolment_id: int, today: dt.date | None = None, reason: str = ""
) -> Enrolment:
    """公示 → 待审核: only after the notice period has ended with no open objection."""
    require(store, "enrolment.edit")
    today = _on("submitted_on", today)
    with store.transaction():
        e = get(store, enrolment_id)
        if e.state == "publicised":
            notice = require_notice_done(store, e, today, "报送审核")
            return _move(store, e, "submit", reason, {"notice_id": notice["id"]})
        return _move(store, e, "submit", reason)


def confirm(
    store: Store, enrolment_id: int, today: dt.date | None = None, reason: str = ""
) -> Enrolment:
    """待审核 → 在保 (审核确认, county).  Payment starts per the lifecycle setting;
    the first review falls due after the category's interval."""
    require(store, "enrolment.confirm")
    with store.transaction():
        e = get(store, enrolment_id)
        if e.state != "submitted":
            return _move(store, e, "confirm", reason)
        today = _on("confirmed_on", today, ("申请日期", e.applied_on))
        require_notice_done(store, e, today, "审核确认")
        cat = category(store, e.category)
        _conflicts(store, e.household_id, e.member_id, cat, exclude_id=e.id, states=("active",))
        start = payment_start(today)
        return _move(
            store,
            e,
            "confirm",
            reason,
            {"confirmed_on": today.isoformat()},
            start_on=start.isoformat(),
            review_due=_next_review(store, e, cat, start),
        )


def reject(store: Store, enrolment_id: int, reason: str, today: dt.date | None = None) -> Enrolment:
    """不予确认 with a written reason (returned to the household)."""
    require(store, "enrolment.confirm")
    reason = _need_reason(reason, "不予确认")
    with store.transaction():
        e = get(store, enrolment_id)
        if e.state in ACTIONS["reject"][1]:
            today = _on("rejected_on", today, ("申请日期", e.applied_on))
        today = day_or_today(today)
        return _move(
            store, e, "reject", reason, {"on": today.isoformat()}, end_on=today.isoformat()
        )


def stop(
    store: Store,
    enrolment_id: int,
    reason: str,
    today: dt.date | None = None,
    publicise: bool = True,
) -> Enrolment:
    """在保 → 停发 from the first day of next month; goes on the next notice as 停发."""
    require(store, "enrolment.confirm")
    reason = _need_reason(reason, "停发")
    with store.transaction():
        e = get(store, enrolment_id)
        if e.state == "active":
            today = _on("stopped_on", today, *_decided(store, e))
        today = day_or_today(today)
        return _move(
            store,
            e,
            "stop",
            reason,
            {"on": today.isoformat()},
            end_on=paid_until(today).isoformat(),
            stop_reason=reason,
            notice_pending="stop" if publicise else "",
        )


def review(
    store: Store,
    enrolment_id: int,
    outcome: str,
    today: dt.date | None = None,
    reason: str = "",
    monthly_fen: int | None = None,
    cls: str | None = None,
    covered: int | None = None,
    extra: dict | None = None,
) -> Enrolment:
    """复核 (动态管理): keep, change the amount, or stop.  Sets the next review date,
    except for a 提标 (``extra`` has ``uprating``: not a review); ``extra`` goes into the
    event's detail.

    A change applies from :func:`payment_start` of ``today`` (the month after, as a
    stop does); the event keeps the old terms for the months paid before."""
    require(store, "enrolment.edit")
    if outcome not in REVIEW_OUTCOMES:
        raise TransitionRefused(f"复核结果应为 {'、'.join(REVIEW_OUTCOMES)} 之一", "bad_outcome")
    with store.transaction():
        e = get(store, enrolment_id)
        if e.state == "active":
            today = _on("reviewed_on", today, *_decided(store, e))
        today = day_or_today(today)
        if outcome == "stop":
            if e.state != "active":
                return _move(store, e, "review", reason)
            reason = _need_reason(reason, "复核停发")
            return _move(
                store,
                e,
                "review",
                reason,
                {"outcome": "stop", "on": today.isoformat()},
                to_state="stopped",
                end_on=paid_until(today).isoformat(),
                stop_reason=reason,
                notice_pending="stop",
            )
        cat = category(store, e.category)
        due = _next_review(store, e, cat, today)
        cols: dict = {} if "uprating" in (extra or {}) else {"review_due": due}
        detail: dict[str, object] = {**(extra or {}), "outcome": outcome, "on": today.isoformat()}
        if cls is not None:  # checked whatever the outcome: a bad value is refused, not ignored
            cls = field_text(cls, "short", "类别/档次", "class")  # models/text.py
        if outcome == "change":
            if monthly_fen is None and cls is None and covered is None:
                raise TransitionRefused("变更金额时请填写新的金额、档次或保障人口", "change_empty")
            if monthly_fen is not None and monthly_fen < 0:
                raise TransitionRefused("保障金额不能为负数", "bad_amount")
            if monthly_fen is not None:
                check_assistance(monthly_fen, "monthly_fen")  # at most 100,000 元, however it came
            if cls is not None:
                cls = _check_class(cat, cls)
            if covered is not None and covered < 1:
                raise TransitionRefused("保障人口至少为1人", "bad_covered")
            # the terms before, for the months paid before the change applies
            # (payment_start: the statistics and the 清册 of earlier months keep them)
            if monthly_fen is not None:
                cols["monthly_fen"] = monthly_fen
                detail["old_fen"] = e.monthly_fen
                _single_amount(store, e.id, monthly_fen, payment_start(today))
            if cls is not None:
                cols["class"] = cls
                detail["old_class"] = e.cls
                if "review_due" in cols:  # the new class's interval (复核周期 by class)
                    cols["review_due"] = _next_review(store, e, cat, today, cls)
            if covered is not None:
                cols["covered"] = covered
                detail["old_covered"] = e.covered
            cols["notice_pending"] = "change"
        return _move(store, e, "review", reason, detail, **cols)


# -- for the modules that extend the lifecycle (components.py, enrolment_states.py) -----------
def transition(
    store: Store,
    e: Enrolment,
    action: str,
    reason: str = "",
    detail: dict | None = None,
    to_state: str | None = None,
    **cols,
) -> Enrolment:
    """One checked transition (see :data:`ACTIONS`) with its event; the caller holds the
    transaction and has checked the permission."""
    return _move(store, e, action, reason, detail, to_state, **cols)


def need_reason(reason: str, what: str) -> str:
    """``reason`` cleaned, or ``reason_required`` when it is empty."""
    return _need_reason(reason, what)


def action_day(store: Store, e: Enrolment, kind: str, value) -> dt.date:
    """The date of an action on a paid enrolment: within the date bounds and not before its
    confirmation or last review (default today)."""
    return _on(kind, value, *_decided(store, e))


def _next_review(
    store: Store, e: Enrolment, cat: dict, start: dt.date, cls: str | None = None
) -> str | None:
    from .reviews import next_review_for  # the household's plan; reviews reads this module

    return next_review_for(store, e.household_id, cat, start, e.cls if cls is None else cls)


def _single_amount(store: Store, enrolment_id: int, fen: int, since: dt.date | None) -> None:
    """A single total from an older path (amend, review) becomes ``base``: see
    :func:`mzdesk.models.components.follow_total`."""
    from .components import follow_total  # components reads this module

    follow_total(store, enrolment_id, fen, since)


def record_event(
    store: Store, e: Enrolment, action: str, reason: str, detail: dict, monthly_fen: int | None
) -> None:
    """An event that changes no state (an amount's parts before the notice, a task raised)."""
    _event(store, e.id, action, e.state, e.state, reason, detail, monthly_fen)
