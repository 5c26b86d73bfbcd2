"""后补追缴 and 补发: money paid that should not have been, and money owed.

**Which months count as paid.**  mzdesk records no bank transfers: a month counts as
paid when the monthly roster rule (在保 or 停发, payment started, not ended) paid it at
the time, and a month's 清册 is taken to be made once that month is over, so on a given
day every month before the current one has been paid, the current one not yet.

**Overpayment (多发).**  An enrolment was paid for

* months after the month its person died (``members.deceased_on``; for a household-level
  enrolment, once every covered member has died) while it stayed in payment, or
* months after its stop took effect (``end_on``) that were already paid when the stop
  was recorded (a stop entered late, with an earlier date).

:func:`find_overpayments` lists them (months and amount, the amount of each month as it
was then: a review's change applies from its month); :func:`record_overpayments` turns
the months not yet on a record into recovery records (``recoveries``, kind
``recovery``: 待追缴 → 已追缴 or 核销).  ``mzdesk check`` reports the pending ones and
the overpayments not yet recorded.

**Back pay (补发).**  Months paid at too low an amount (a 提标 from a month already
paid, :mod:`mzdesk.models.uprating`) become kind ``backpay`` records (待补发 → 已补发)
due on a month: :func:`backpay_lines` gives the 清册 of that month its 补发 lines.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

from . import dates
from .auth import require
from .categories import categories
from .enrolment import history
from .errors import MzError, NotFound
from .money import format_fen
from .payment_dates import add_months, payment_start
from .store import Store, new_uid
from .text import field_text

KINDS = {"recovery": "追缴", "backpay": "补发"}
STATES = {
    "recovery": {"pending": "待追缴", "recovered": "已追缴", "written_off": "核销"},
    "backpay": {"pending": "待补发", "paid": "已补发"},
}
ACTION = "enrolment.confirm"


class RecoveryError(MzError):
    code = "bad_recovery"


@dataclass(frozen=True)
class Recovery:
    id: int
    enrolment_id: int
    household_id: int
    kind: str
    cause: str
    months: list[str]
    amount_fen: int
    due_month: str
    state: str
    note: str
    name: str = ""
    village: str = ""

    @property
    def state_label(self) -> str:
        return STATES[self.kind][self.state]

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "kind_label": KINDS[self.kind],
            "state_label": self.state_label,
            "amount": format_fen(self.amount_fen),
        }


@dataclass(frozen=True)
class Overpayment:
    enrolment_id: int
    household_id: int
    name: str
    category: str
    cause: str
    months: list[str]
    amount_fen: int

    def as_dict(self) -> dict:
        return {**asdict(self), "amount": format_fen(self.amount_fen)}


def _month(day: dt.date | str) -> str:
    return str(day)[:7]


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    out = []
    while first <= last:
        out.append(first)
        first = add_months(first, 1)
    return out


def last_paid_month(today: dt.date | None = None) -> dt.date:
    """The last month taken as paid on ``today``: the month before it."""
    return add_months((today or dates.current_day()).replace(day=1), -1)


def amount_in_month(current_fen: int, events: list[dict], month: dt.date) -> int:
    """The monthly amount paid in ``month``: the current one, with every review change
    that applies from a later month undone (the rule of the monthly roster)."""
    fen = current_fen
    for ev in reversed(events):
        d = ev["detail"]
        if ev["action"] != "review" or d.get("outcome") != "change" or "old_fen" not in d:
            continue
        try:
            since = payment_start(dt.date.fromisoformat(d["on"]))
        except (KeyError, TypeError, ValueError):
            continue
        if month < since:
            fen = d["old_fen"]
    return fen


_CANDIDATES = """
WITH dead AS (
    SELECT household_id, max(deceased_on) AS died FROM members
    WHERE status = 'active' AND in_assistance = 1 AND household_id IN (
        SELECT household_id FROM members WHERE deceased_on IS NOT NULL)
    GROUP BY household_id HAVING count(*) = count(deceased_on)
), stops AS (
    SELECT enrolment_id, max(at) AS recorded FROM enrolment_events
    WHERE action = 'stop' OR (action = 'review' AND json_extract(detail, '$.outcome') = 'stop')
    GROUP BY enrolment_id
)
SELECT e.id, e.household_id, e.category, e.monthly_fen, e.start_on, e.end_on, e.state,
       COALESCE(m.name, h.head_name) AS name, m.deceased_on AS person_died,
       d.died AS household_died, s.recorded AS stop_recorded
FROM enrolments e JOIN households h ON h.id = e.household_id
LEFT JOIN members m ON m.id = e.member_id
LEFT JOIN dead d ON e.member_id IS NULL AND d.household_id = e.household_id
LEFT JOIN stops s ON e.state = 'stopped' AND s.enrolment_id = e.id
WHERE e.status = 'active' AND e.state IN ('active', 'stopped') AND e.start_on IS NOT NULL
  AND e.category IN ({cats})
  AND (m.deceased_on IS NOT NULL OR d.died IS NOT NULL OR s.recorded IS NOT NULL)
ORDER BY e.id
"""


def _recorded_months(store: Store, enrolment_id: int, kind: str) -> set[str]:
    out: set[str] = set()
    for (months,) in store.conn.execute(
        "SELECT months FROM recoveries WHERE enrolment_id = ? AND kind = ? AND status = 'active'",
        (enrolment_id, kind),
    ):
        out.update(json.loads(months))
    return out


def find_overpayments(store: Store, through: dt.date | None = None) -> list[Overpayment]:
    """Months paid after a death or after a stop, not yet on a recovery record, up to
    ``through`` (default: :func:`last_paid_month`)."""
    last = (through or last_paid_month()).replace(day=1)
    cats = [c for c, spec in categories(store).items() if spec.get("payment") == "monthly"]
    sql = _CANDIDATES.format(cats=", ".join("?" * len(cats)))
    out = []
    for r in store.db.query(sql, cats):
        died = r["person_died"] or r["household_died"]
        end = dt.date.fromisoformat(r["end_on"]) if r["end_on"] else None
        months: dict[str, str] = {}
        start = dt.date.fromisoformat(r["start_on"]).replace(day=1)
        if died:
            first = max(add_months(dt.date.fromisoformat(died).replace(day=1), 1), start)
            stop_at = min(end, last) if end else last
            for m in _months(first, stop_at.replace(day=1)):
                months[_month(m)] = f"{died}死亡后仍发放"
        recorded = r["stop_recorded"]
        if r["state"] == "stopped" and end is not None and recorded:
            paid_to = min(add_months(dt.date.fromisoformat(recorded[:10]).replace(day=1), -1), last)
            first = max(add_months(end.replace(day=1), 1), start)
            for m in _months(first, paid_to):
                months.setdefault(_month(m), f"停发（{end:%Y-%m}月后停）登记前已发放")
        if not months:
            continue
        for done in _recorded_months(store, r["id"], "recovery"):
            months.pop(done, None)
        if not months:
            continue
        events = history(store, r["id"])
        amount = sum(
            amount_in_month(r["monthly_fen"], events, dt.date.fromisoformat(m + "-01"))
            for m in months
        )
        causes = sorted(set(months.values()))
        out.append(
            Overpayment(
                r["id"],
                r["household_id"],
                r["name"] or "",
                r["category"],
                "；".join(causes),
                sorted(months),
                amount,
            )
        )
    return out


def _insert(store: Store, **row) -> int:
    row = {"uid": new_uid(), **row, **store.stamp(new=True)}
    rid = store.conn.execute(
        f"INSERT INTO recoveries ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        tuple(row.values()),
    ).lastrowid
    assert rid is not None
    return rid


def record_overpayments(store: Store, through: dt.date | None = None) -> list[Recovery]:
    """One 待追缴 record per enrolment for the overpaid months not yet recorded."""
    require(store, ACTION)
    with store.transaction():
        ids = [
            _insert(
                store,
                enrolment_id=o.enrolment_id,
                household_id=o.household_id,
                kind="recovery",
                cause=field_text(o.cause, "reason", "原因", "cause"),
                months=json.dumps(o.months),
                amount_fen=o.amount_fen,
                due_month="",
                state="pending",
            )
            for o in find_overpayments(store, through)
        ]
    return [get(store, i) for i in ids]


def record_backpay(
    store: Store, enrolment_id: int, months: list[str], amount_fen: int, cause: str, due: dt.date
) -> Recovery:
    """A 待补发 record: ``amount_fen`` owed for ``months``, paid with the 清册 of ``due``."""
    require(store, ACTION)
    if amount_fen <= 0 or not months:
        raise RecoveryError("补发金额应大于0，且至少一个月")
    with store.transaction():
        hid = store.scalar("SELECT household_id FROM enrolments WHERE id = ?", (enrolment_id,))
        if hid is None:
            raise NotFound(f"没有编号为 {enrolment_id} 的保障记录")
        rid = _insert(
            store,
            enrolment_id=enrolment_id,
            household_id=hid,
            kind="backpay",
            cause=field_text(cause, "reason", "原因", "cause"),
            months=json.dumps(sorted(months)),
            amount_fen=amount_fen,
            due_month=_month(due),
            state="pending",
        )
    return get(store, rid)


_SELECT = """
SELECT r.id, r.enrolment_id, r.household_id, r.kind, r.cause, r.months, r.amount_fen,
       r.due_month, r.state, r.note, COALESCE(m.name, h.head_name, '') AS name,
       h.village
FROM recoveries r JOIN enrolments e ON e.id = r.enrolment_id
JOIN households h ON h.id = r.household_id LEFT JOIN members m ON m.id = e.member_id
WHERE r.status = 'active'
"""


def _from_row(r: dict) -> Recovery:
    return Recovery(**{**r, "months": json.loads(r["months"])})


def get(store: Store, recovery_id: int) -> Recovery:
    rows = list(store.db.query(_SELECT + " AND r.id = ?", (recovery_id,)))
    if not rows:
        raise NotFound(f"没有编号为 {recovery_id} 的追缴/补发记录")
    return _from_row(rows[0])


def list_records(store: Store, kind: str | None = None, state: str | None = None) -> list[Recovery]:
    if kind is not None and kind not in KINDS:
        raise RecoveryError(f"类型应为 {'、'.join(KINDS)} 之一：{kind!r}")
    sql, args = _SELECT, []
    if kind:
        sql, args = sql + " AND r.kind = ?", [kind]
    if state:
        sql, args = sql + " AND r.state = ?", [*args, state]
    return [_from_row(r) for r in store.db.query(sql + " ORDER BY r.id", args)]


def set_state(store: Store, recovery_id: int, state: str, note: str = "") -> Recovery:
    """已追缴 / 核销 (a write-off needs a reason) / 已补发."""
    require(store, ACTION)
    note = field_text(note, "note", "说明", "note")
    with store.transaction():
        r = get(store, recovery_id)
        if state not in STATES[r.kind] or state == "pending":
            allowed = "、".join(f"{k}（{v}）" for k, v in STATES[r.kind].items() if k != "pending")
            raise RecoveryError(f"{KINDS[r.kind]}记录的状态应为 {allowed}：{state!r}")
        if r.state != "pending":
            raise RecoveryError(f"该记录已是“{r.state_label}”，不能再改", "recovery_closed")
        if state == "written_off" and not note:
            raise RecoveryError("核销必须填写原因", "reason_required")
        stamp = store.stamp(new=False)
        store.conn.execute(
            "UPDATE recoveries SET state = ?, note = ?, rev = rev + 1, updated_at = ?, "
            "updated_by = ? WHERE id = ?",
            (state, note, stamp["updated_at"], stamp["updated_by"], r.id),
        )
    return get(store, recovery_id)


def backpay_lines(store: Store, month: dt.date) -> list[Recovery]:
    """The 补发 the 清册 of ``month`` carries: pending back pay due on or before it."""
    return [r for r in list_records(store, "backpay", "pending") if r.due_month <= _month(month)]


def unrecovered(store: Store, today: dt.date | None = None) -> list[tuple[int, str, str]]:
    """(household id, name, message) for ``check``: pending recoveries and overpayments
    not yet on a record."""
    out = [
        (
            r.household_id,
            r.name,
            f"多发待追缴：{format_fen(r.amount_fen)}元（{'、'.join(r.months)}）",
        )
        for r in list_records(store, "recovery", "pending")
    ]
    out += [
        (
            o.household_id,
            o.name,
            f"多发未登记追缴：{format_fen(o.amount_fen)}元（{'、'.join(o.months)}，{o.cause}）",
        )
        for o in find_overpayments(store, last_paid_month(today))
    ]
    return out
