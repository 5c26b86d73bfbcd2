"""The states and events beyond 申请 → 在保 → 停发 (issue 21, ``docs/model.md``).

* 不予受理 (``not_accepted``): an application not accepted, with its reason.
* 暂停 → 恢复 (``suspended``): no payment from the month of the suspension; on 恢复 the
  suspended months are paid back (补发) on the 清册 of the month the payment resumes, as
  a line of its own (:func:`back_pay_lines`).
* 渐退期 (``phasing_out``): income rose through work; payment goes on for a configurable
  number of months (``phase_out_months`` in ``resources/components.json``) and stops by
  itself after them (:func:`unpaid_periods`); the stop waits in the 渐退期满 work queue for
  the clerk to record it with its notice (:func:`finish_phase_out`, which sets ``end_on``).
* 户主变更 / 户主死亡 (:func:`change_head`): the household continues under a new head with
  its enrolments; every death raises a review task (复核) for the household-level
  enrolments too, not only the person's own (:func:`death_review_tasks`).
* 增发/减发 are in :mod:`mzdesk.models.components`.

Each transition is an ``enrolment_events`` row (operator, time, reason, the months in
``detail``), so it travels in sync, and the 清册 and statistics read the months from it.

>>> from mzdesk.models import enrolment as enr
>>> from mzdesk.models.household import Household, Member
>>> from mzdesk.models.registry import Registry
>>> from mzdesk.models.site import init_site
>>> store = Store.open(":memory:", operator="clerk")
>>> _ = init_site(store, "341623101", "青山镇")
>>> h = Registry(store).save(Household(village="红旗村", members=[
...     Member(name="王小明", relation="户主", id_number="34162319900101009X")]))
>>> e = enr.create(store, household_id=h.id, category="rural_dibao", monthly_fen=50000)
>>> _ = store.conn.execute("UPDATE enrolments SET state = 'active', start_on = '2026-01-01'")
>>> suspend(store, e.id, "2026-03", "银行卡冻结").state
'suspended'
>>> suspended_in(store)[e.id]
[('2026-03', None)]
>>> e = resume(store, e.id, "2026-05")
>>> e.state, enr.history(store, e.id)[-1]["detail"]["back_pay_fen"]
('active', 100000)
>>> [(r["recipient"], r["monthly_fen"], r["months"]) for r in back_pay_lines(store, "2026-05")]
[('王小明', 100000, ['2026-03', '2026-04'])]
"""

from __future__ import annotations

import datetime as dt
import json

from . import dates
from . import enrolment as enr
from .auth import require
from .components import (
    category_components,
    in_force,
    month_key,
    previous_month,
    rows_by_enrolment,
    settings,
    split,
)
from .errors import MzError
from .payment_dates import add_months
from .store import Store, new_uid


def _next_month(month: str) -> str:
    d = add_months(dt.date.fromisoformat(month + "-01"), 1)
    return month_key(d)


def _months(first: str, last: str) -> list[str]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = _next_month(m)
    return out


# -- 不予受理 ---------------------------------------------------------------------------------
def not_accept(
    store: Store, enrolment_id: int, reason: str, today: dt.date | str | None = None
) -> enr.Enrolment:
    """申请/调查 → 不予受理, with the reason given to the household in writing."""
    require(store, "enrolment.edit")
    reason = enr.need_reason(reason, "不予受理")
    with store.transaction():
        e = enr.get(store, enrolment_id)
        day = dates.check_date(
            "not_accepted_on",
            enr.day_or_today(today),
            not_before=[("申请日期", e.applied_on)],
        )
        return enr.transition(
            store, e, "not_accept", reason, {"on": day.isoformat()}, end_on=day.isoformat()
        )


# -- 暂停 → 恢复, with 补发 ---------------------------------------------------------------------
def suspend(
    store: Store,
    enrolment_id: int,
    from_month: dt.date | str,
    reason: str,
    today: dt.date | str | None = None,
) -> enr.Enrolment:
    """在保/渐退期 → 暂停 from ``from_month`` (no payment from that month on)."""
    require(store, "enrolment.confirm")
    reason = enr.need_reason(reason, "暂停发放")
    month = month_key(from_month)
    with store.transaction():
        e = enr.get(store, enrolment_id)
        if e.state in enr.ACTIONS["suspend"][1]:
            day = enr.action_day(store, e, "suspended_on", enr.day_or_today(today))
        else:
            day = dates.check_date("suspended_on", enr.day_or_today(today))
        start = (e.start_on or "")[:7]
        if month < start:
            raise enr.TransitionRefused(f"暂停月份不能早于开始享受的月份{start}", "month_too_early")
        if e.end_on and month > e.end_on[:7]:
            raise enr.TransitionRefused(f"该记录{e.end_on}后已不再发放，无需暂停", "month_too_late")
        detail = {"from_month": month, "on": day.isoformat(), "prior_state": e.state}
        return enr.transition(store, e, "suspend", reason, detail)


def _open_suspension(store: Store, enrolment_id: int) -> dict:
    row = store.conn.execute(
        "SELECT detail FROM enrolment_events WHERE enrolment_id = ? AND action = 'suspend' "
        "ORDER BY json_extract(detail, '$.from_month') DESC, id DESC LIMIT 1",
        (enrolment_id,),
    ).fetchone()
    return json.loads(row[0]) if row else {}


def resume(
    store: Store,
    enrolment_id: int,
    from_month: dt.date | str,
    reason: str = "",
    back_pay: bool = True,
    today: dt.date | str | None = None,
) -> enr.Enrolment:
    """暂停 → 恢复 from ``from_month``.  With ``back_pay`` (the default) the suspended months
    the enrolment would have been paid are paid back (补发) with ``from_month``'s 清册, each
    month on its own terms and parts; the event keeps the months, total and parts."""
    require(store, "enrolment.confirm")
    month = month_key(from_month)
    day = dates.check_date("resumed_on", enr.day_or_today(today))
    with store.transaction():
        e = enr.get(store, enrolment_id)
        held = _open_suspension(store, e.id) if e.state == "suspended" else {}
        since = held.get("from_month", month)
        if e.state == "suspended" and month <= since:
            raise enr.TransitionRefused(f"恢复月份应晚于暂停月份{since}", "month_too_early")
        months: list[str] = []
        parts: dict[str, int] = {}
        if back_pay and e.state == "suspended":
            last = previous_month(month)
            if e.end_on:
                last = min(last, e.end_on[:7])
            if held.get("prior_state") == "phasing_out":
                last = min(last, _phase_out_last(store, e.id) or last)
            for m in _months(since, last):
                for k, v in in_force(store, e.id, m).items():
                    parts[k] = parts.get(k, 0) + v
                months.append(m)
        detail = {
            "from_month": month,
            "suspended_from": since,
            "back_pay_months": months,
            "back_pay_fen": sum(parts.values()),
            "back_pay_parts": parts,
            "on": day.isoformat(),
        }
        prior = held.get("prior_state", "active")
        return enr.transition(store, e, "resume", reason, detail, to_state=prior)


def suspended_in(store: Store) -> dict[int, list[tuple[str, str | None]]]:
    """Per enrolment, its suspension periods oldest first: (first month held, last month
    held or None while still suspended), from the 暂停 and 恢复 events.  A 恢复 names the
    暂停 it ends (``suspended_from``), so events applied by sync in another order pair alike."""
    starts: dict[int, set[str]] = {}
    ends: dict[tuple[int, str], str] = {}
    for eid, action, detail in store.conn.execute(
        "SELECT enrolment_id, action, detail FROM enrolment_events "
        "WHERE action IN ('suspend', 'resume')"
    ):
        d = json.loads(detail)
        if action == "suspend" and d.get("from_month"):
            starts.setdefault(eid, set()).add(d["from_month"])
        elif action == "resume" and d.get("suspended_from") and d.get("from_month"):
            ends[(eid, d["suspended_from"])] = previous_month(d["from_month"])
    return {
        eid: [(m, ends.get((eid, m))) for m in sorted(months)] for eid, months in starts.items()
    }


_RECIPIENT_SQL = """
    SELECT e.id, e.category, e.class, e.covered, e.household_id, h.village, h.village_group,
           h.bank_name, h.bank_account, h.phone, COALESCE(m.name, hm.name, h.head_name) AS recipient,
           COALESCE(m.id_number, m.id_raw, hm.id_number, hm.id_raw, h.head_id_number) AS id_number
    FROM enrolments e
    JOIN households h ON h.id = e.household_id
    LEFT JOIN members m ON m.id = e.member_id
    LEFT JOIN members hm ON e.member_id IS NULL AND hm.household_id = h.id
         AND hm.relation = '户主' AND hm.status = 'active'
    WHERE e.id = ? AND e.status = 'active'
"""


def back_pay_lines(store: Store, month: dt.date | str) -> list[dict]:
    """The 补发 paid with ``month``: one line per resumed enrolment, with the recipient
    columns of a 清册 row, ``monthly_fen`` = the back pay, ``components_fen`` its parts and
    ``months`` the months it pays."""
    key = month_key(month)
    out = []
    for eid, detail in store.conn.execute(
        "SELECT enrolment_id, detail FROM enrolment_events WHERE action = 'resume' "
        "AND json_extract(detail, '$.from_month') = ? ORDER BY id",
        (key,),
    ).fetchall():
        d = json.loads(detail)
        if not d.get("back_pay_fen"):
            continue
        row = store.db.query(_RECIPIENT_SQL, (eid,))
        for r in row:
            keys = category_components(store, r["category"])
            parts = {k: d.get("back_pay_parts", {}).get(k, 0) for k in keys}
            r.update(
                monthly_fen=d["back_pay_fen"],
                components_fen=parts,
                months=d.get("back_pay_months", []),
                kind="back_pay",
            )
            out.append(r)
    return out


# -- 渐退期 ---------------------------------------------------------------------------------------
# the last month of an enrolment's latest 渐退期 (its ``phase_out`` event), for ``e``
PHASE_OUT_LAST_SQL = (
    "(SELECT json_extract(v.detail, '$.last_month') FROM enrolment_events v "
    "WHERE v.enrolment_id = e.id AND v.action = 'phase_out' ORDER BY v.id DESC LIMIT 1)"
)


def phase_out(
    store: Store,
    enrolment_id: int,
    from_month: dt.date | str,
    reason: str,
    months: int | None = None,
    today: dt.date | str | None = None,
) -> enr.Enrolment:
    """在保 → 渐退期 from ``from_month``: income rose through work; payment continues for
    ``months`` (default ``phase_out_months``) and stops by itself after the last of them
    (:func:`unpaid_periods`; ``end_on`` is written when the stop is recorded)."""
    require(store, "enrolment.confirm")
    reason = enr.need_reason(reason, "渐退")
    first = month_key(from_month)
    n = settings()["phase_out_months"] if months is None else months
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 24:
        raise MzError("渐退期应为1至24个月", "bad_phase_out")
    with store.transaction():
        e = enr.get(store, enrolment_id)
        if e.state in enr.ACTIONS["phase_out"][1]:
            enr.action_day(store, e, "reviewed_on", enr.day_or_today(today))
        last = month_key(add_months(dt.date.fromisoformat(first + "-01"), n - 1))
        detail = {"from_month": first, "months": n, "last_month": last}
        return enr.transition(store, e, "phase_out", reason, detail)


def _phase_out_last(store: Store, enrolment_id: int) -> str | None:
    row = store.conn.execute(
        "SELECT detail FROM enrolment_events WHERE enrolment_id = ? AND action = 'phase_out' "
        "ORDER BY id DESC LIMIT 1",
        (enrolment_id,),
    ).fetchone()
    return json.loads(row[0]).get("last_month") if row else None


def finish_phase_out(
    store: Store, enrolment_id: int, reason: str = "渐退期满", today: dt.date | str | None = None
) -> enr.Enrolment:
    """渐退期 → 停发 after its last month (the 渐退期满 queue): ``end_on`` becomes the last
    month's end; goes on the next notice as 停发."""
    require(store, "enrolment.confirm")
    with store.transaction():
        e = enr.get(store, enrolment_id)
        day = dates.check_date("stopped_on", enr.day_or_today(today))
        last = _phase_out_last(store, e.id) if e.state == "phasing_out" else None
        end = None
        if last:
            end = add_months(dt.date.fromisoformat(last + "-01"), 1) - dt.timedelta(days=1)
            if day <= end:
                raise enr.TransitionRefused(f"渐退期至{end}，期满后才能停发", "phase_out_running")
        cols = {"end_on": end.isoformat()} if end else {}
        return enr.transition(
            store,
            e,
            "phase_out_end",
            enr.need_reason(reason, "渐退期满停发"),
            {"on": day.isoformat()},
            stop_reason=reason,
            notice_pending="stop",
            **cols,
        )


# 渐退期满待停发: ``:today`` is the queue's day
PHASE_OUT_DUE_SQL = f"e.state = 'phasing_out' AND {PHASE_OUT_LAST_SQL} < substr(:today, 1, 7)"


def unpaid_periods(store: Store) -> dict[int, list[tuple[str, str | None]]]:
    """Per enrolment, the months it is not paid although live: its suspensions
    (:func:`suspended_in`) and, in a 渐退期, every month after the last one."""
    out = suspended_in(store)
    for eid, last in store.conn.execute(
        f"SELECT e.id, {PHASE_OUT_LAST_SQL} FROM enrolments e WHERE e.state = 'phasing_out'"
    ).fetchall():
        if last:
            out.setdefault(eid, []).append((_next_month(last), None))
    return out


# -- 户主变更, 户主死亡, a member's death -----------------------------------------------------------
def change_head(
    store: Store,
    household_id: int,
    new_head_id: int,
    reason: str,
    old_head_relation: str = "其他",
    head_died_on: dt.date | str | None = None,
) -> list[enr.Enrolment]:
    """户主变更 (or 户主死亡 with ``head_died_on``): ``new_head_id`` becomes 户主, the old head
    takes ``old_head_relation``; the household keeps its enrolments, each recording the change
    (event ``head_change``).  A death also raises the review tasks of
    :func:`death_review_tasks`.  Returns the household's enrolments."""
    from .registry import Registry  # registry calls death_review_tasks on save

    require(store, "household.edit")
    reason = enr.need_reason(reason, "户主变更")
    reg = Registry(store)
    with store.transaction():
        h = reg.get(household_id)
        old = next((m for m in h.members if m.is_head), None)
        died = None
        if head_died_on is not None:
            born = old.birth_date if old else None
            died = dates.check_date(
                "deceased_on", enr.day_or_today(head_died_on), not_before=[("出生日期", born)]
            )
        new = next((m for m in h.members if m.id == new_head_id), None)
        if new is None:
            raise enr.TransitionRefused("新户主应为该家庭的成员", "member_not_in_household")
        if new.deceased_on:
            raise enr.TransitionRefused(f"{new.name}已死亡，不能成为户主", "member_deceased")
        for m in h.members:
            if m is new:
                m.relation = "户主"
            elif m is old:
                m.relation = old_head_relation
                if died is not None:
                    m.deceased_on = died
        reg.save(h, today=dates.current_day())  # the date bounds' today
        detail = {
            "old_head": old.name if old else "",
            "new_head": new.name,
            "head_died_on": died.isoformat() if died else None,
        }
        out = []
        for e in enr.for_household(store, household_id):
            if e.state in enr.ACTIONS["head_change"][1]:
                e = enr.transition(store, e, "head_change", reason, detail, to_state=e.state)
            out.append(e)
        return out


def death_review_tasks(store: Store, household_id: int) -> int:
    """A review task (复核) for every live or paid enrolment touched by a member's death: the
    person's own and every household-level one of the household.  Idempotent (one task per
    death and enrolment); returns the number raised.  Called by ``Registry.save``."""
    deaths = store.conn.execute(
        "SELECT id, uid, name, deceased_on FROM members WHERE household_id = ? "
        "AND status = 'active' AND deceased_on IS NOT NULL",
        (household_id,),
    ).fetchall()
    if not deaths:
        return 0
    states = (*enr.LIVE_STATES, *enr.PAID_LIVE_STATES)
    marks = ", ".join("?" * len(states))
    enrolments = store.conn.execute(
        f"SELECT id, category, member_id FROM enrolments WHERE household_id = ? "
        f"AND status = 'active' AND state IN ({marks})",
        (household_id, *states),
    ).fetchall()
    raised = 0
    for mid, muid, name, died in deaths:
        for eid, cat, member_id in enrolments:
            if member_id is not None and member_id != mid:
                continue
            key = f"death:{muid}:{eid}"
            if store.scalar("SELECT 1 FROM followup_tasks WHERE item_key = ?", (key,)):
                continue
            level = "本人" if member_id == mid else "家庭"
            row = {
                "uid": new_uid(),
                "household_id": household_id,
                "item_key": key,
                "kind": "death_review",
                "title": f"复核：{name}死亡",
                "detail": f"{name}于{died}死亡，请复核{level}保障记录{eid}（{cat}）的保障人口和金额",
                **store.stamp(new=True),
            }
            store.conn.execute(
                f"INSERT INTO followup_tasks ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
            raised += 1
    return raised


# -- statistics ------------------------------------------------------------------------------
# 在保 now: 在保, and 渐退期 until its last month (暂停 is not paid; an expired 渐退期 waits
# in the 渐退期满 queue).  ``:first`` is the first day of the current month.
PAID_NOW_SQL = (
    f"(e.state = 'active' OR (e.state = 'phasing_out' AND {PHASE_OUT_LAST_SQL} >= "
    "substr(:first, 1, 7)))"
)


def paid_now_params() -> dict:
    """The parameters of :data:`PAID_NOW_SQL` for today (:func:`mzdesk.models.dates.current_day`)."""
    return {"first": dates.current_day().replace(day=1).isoformat()}


def current_parts(store: Store) -> dict[str, dict[str, int]]:
    """Per category, the current parts (``{component: fen}``) summed over the enrolments paid
    now (:data:`PAID_NOW_SQL`); every part the category can carry is a key.  They add up to
    the categories' ``monthly_fen`` sums (:func:`mzdesk.models.components.split`)."""
    rows = store.conn.execute(
        f"SELECT e.id, e.category, e.monthly_fen FROM enrolments e WHERE e.status = 'active' "
        f"AND {PAID_NOW_SQL} ORDER BY e.id",
        paid_now_params(),
    ).fetchall()
    parts = rows_by_enrolment(store)
    out: dict[str, dict[str, int]] = {}
    keys_of: dict[str, list[str]] = {}
    for eid, cat, fen in rows:
        if cat not in keys_of:
            keys_of[cat] = category_components(store, cat)
        keys = keys_of[cat]
        acc = out.setdefault(cat, dict.fromkeys(keys, 0))
        for k, v in split(parts.get(eid, []), None, fen, keys).items():
            acc[k] = acc.get(k, 0) + v
    return out


__all__ = [
    "back_pay_lines",
    "change_head",
    "PAID_NOW_SQL",
    "current_parts",
    "death_review_tasks",
    "finish_phase_out",
    "not_accept",
    "phase_out",
    "unpaid_periods",
    "resume",
    "suspend",
    "suspended_in",
]
