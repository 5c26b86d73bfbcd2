"""临时救助 and 医疗救助 as cases: one case is one 人次.

A case belongs to a household and, when the aid is for one person (医疗救助 usually), to
that member.  It has a kind (``temporary`` 临时救助, ``medical`` 医疗救助); a 临时救助 case
has a type (``urgent`` 急难型, ``expense`` 支出型) and a cause (因病, 因灾, 因学, 意外伤害,
其他: ``resources/cases.json``).  Its life:

* **申请** (:func:`add`): the application date and the amount asked for, in fen.
* **审批** (:func:`decide`): 批准 (the approved amount may differ from the one asked
  for) or 不予救助 (a reason is required), with the date and who decided.
* **发放** (:func:`pay`): the date and the amount paid (at most the approved amount).
* **小额先行**: a case not yet decided may be paid first (``fast=True``) when the amount
  is within the township's small-amount limit (``fast_track_limit_fen`` in
  ``resources/cases.json``); the payment records the approval too, and the case shows
  **待补材料** until the file is completed (:func:`document`).

States (:attr:`Case.state`): ``pending`` 待审批, ``approved`` 待发放, ``refused`` 不予救助,
``awaiting_documents`` 待补材料, ``paid`` 已发放.

**Statistics** (:func:`month_stats`, ``mzdesk stats --month M --json`` → ``cases``): the
cases *paid* in the month (by ``paid_on``), per stable key: ``临时救助-急难型``,
``临时救助-支出型``, ``医疗救助`` (always present), and ``临时救助-未分型`` only in a month
that has such cases (临时救助 turned into cases from the first version's one-off
enrolments, which had no type).  Each ``{"count": 人次, "amount_fen": paid, "avg_fen":
amount // count}`` (0 when none).  A 待补材料 case is counted in the month it was paid.

**The first version's one-off enrolments** of 临时救助/医疗救助: the migration that adds
cases (``migrations_cases.assistance_cases``) turns each one already paid (在保 or 停发) into
an approved, paid case dated at its start; the enrolment stays readable in its history.
Only cases count in the statistics, so nothing is counted twice.

>>> import datetime as dt
>>> from mzdesk.models.household import Household, Member
>>> from mzdesk.models.registry import Registry
>>> from mzdesk.models.site import init_site
>>> from mzdesk.models.store import Store
>>> store = Store.open(":memory:", operator="clerk")
>>> _ = init_site(store, "341623101", "青山镇")
>>> h = Registry(store).save(Household(village="红旗村", members=[
...     Member(name="王小明", relation="户主", id_number="34162319900101009X")]))
>>> c = add(store, h.id, "temporary", case_type="urgent", cause="illness",
...         applied_on=dt.date(2026, 3, 2), amount_fen=80000)
>>> c.state_label
'待审批'
>>> c = pay(store, c.id, on=dt.date(2026, 3, 3), fast=True)   # 小额先行
>>> c.state_label, c.paid_fen
('待补材料', 80000)
>>> document(store, c.id, on=dt.date(2026, 3, 20)).state_label
'已发放'
>>> month_stats(store, dt.date(2026, 3, 1))["临时救助-急难型"]
{'count': 1, 'amount_fen': 80000, 'avg_fen': 80000}
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from functools import cache

from ..resources import load_json
from . import dates
from .auth import require
from .errors import MzError, NotFound
from .money import check_assistance, format_fen
from .store import Store, new_uid
from .text import field_text

STATES = {
    "pending": "待审批",
    "approved": "待发放",
    "refused": "不予救助",
    "awaiting_documents": "待补材料",
    "paid": "已发放",
}
DECISIONS = {"approved": "批准", "refused": "不予救助"}
STAT_KEYS = ("临时救助-急难型", "临时救助-支出型", "医疗救助")
UNTYPED_KEY = "临时救助-未分型"  # cases from the first version's one-off enrolments
FROM_ENROLMENT_NOTE = "由一次性救助记录转入"


class CaseError(MzError):
    code = "bad_case"


@cache
def config() -> dict:
    """``resources/cases.json``: kinds, types, causes and the 小额先行 limit."""
    return load_json("cases.json")


def kinds() -> dict[str, str]:
    return dict(config()["kinds"])


def types() -> dict[str, str]:
    return dict(config()["types"])


def causes() -> dict[str, str]:
    return dict(config()["causes"])


def fast_track_limit_fen() -> int:
    """The township's 小额先行 limit: a case within it may be paid before its decision."""
    return int(config()["fast_track_limit_fen"])


def _code(value: str, table: dict[str, str], what: str, code: str) -> str:
    """A code from its code or its label ('urgent' or '急难型')."""
    value = (value or "").strip()
    if value in table:
        return value
    for k, label in table.items():
        if value == label:
            return k
    allowed = "、".join(table.values())
    raise CaseError(f"{what}应为 {allowed} 之一：{value!r}", code)


@dataclass(frozen=True)
class Case:
    id: int
    uid: str
    household_id: int
    member_id: int | None
    enrolment_id: int | None
    kind: str
    case_type: str
    cause: str
    applied_on: str
    amount_fen: int
    decision: str
    decided_on: str | None
    decided_by: str
    decision_note: str
    fast_track: int
    paid_on: str | None
    paid_fen: int | None
    documented_on: str | None
    note: str
    name: str = ""
    village: str = ""

    @property
    def state(self) -> str:
        if self.decision == "refused":
            return "refused"
        if self.decision == "":
            return "pending"
        if self.paid_on is None:
            return "approved"
        if self.fast_track and self.documented_on is None:
            return "awaiting_documents"
        return "paid"

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @property
    def stat_key(self) -> str:
        """The statistics key of this case (see the module's docstring)."""
        if self.kind == "medical":
            return "医疗救助"
        if not self.case_type:
            return UNTYPED_KEY
        return f"临时救助-{types()[self.case_type]}"

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "fast_track": bool(self.fast_track),
            "state": self.state,
            "state_label": self.state_label,
            "kind_label": kinds().get(self.kind, self.kind),
            "type_label": types().get(self.case_type, ""),
            "cause_label": causes().get(self.cause, ""),
            "decision_label": DECISIONS.get(self.decision, ""),
            "stat_key": self.stat_key,
            "amount": format_fen(self.amount_fen),
            "paid": format_fen(self.paid_fen),
        }


_SELECT = """
SELECT c.id, c.uid, c.household_id, c.member_id, c.enrolment_id, c.kind, c.case_type,
       c.cause, c.applied_on, c.amount_fen, c.decision, c.decided_on, c.decided_by,
       c.decision_note, c.fast_track, c.paid_on, c.paid_fen, c.documented_on, c.note,
       COALESCE(m.name, h.head_name, '') AS name, h.village
FROM cases c JOIN households h ON h.id = c.household_id
LEFT JOIN members m ON m.id = c.member_id
WHERE c.status = 'active'
"""


def get(store: Store, case_id: int) -> Case:
    require(store, "records.view")
    row = store.one(_SELECT + " AND c.id = ?", (case_id,))
    if row is None:
        raise NotFound(f"没有编号为 {case_id} 的救助案件")
    return Case(**row)


def list_cases(
    store: Store,
    state: str | None = None,
    kind: str | None = None,
    month: dt.date | None = None,
    household_id: int | None = None,
) -> list[Case]:
    """Cases, newest application first; ``month``: paid in that month."""
    require(store, "records.view")
    if state is not None and state not in STATES:
        raise CaseError(f"状态应为 {'、'.join(STATES)} 之一：{state!r}", "bad_state")
    sql, args = _SELECT, list[object]()
    if kind is not None:
        sql, args = sql + " AND c.kind = ?", [*args, _code(kind, kinds(), "救助类型", "bad_kind")]
    if month is not None:
        first, nxt = _month_range(month)
        sql, args = sql + " AND c.paid_on >= ? AND c.paid_on < ?", [*args, first, nxt]
    if household_id is not None:
        sql, args = sql + " AND c.household_id = ?", [*args, household_id]
    rows = [Case(**r) for r in store.db.query(sql + " ORDER BY c.applied_on DESC, c.id DESC", args)]
    return [c for c in rows if state is None or c.state == state]


def _month_range(month: dt.date) -> tuple[str, str]:
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first.isoformat(), nxt.isoformat()


def _amount(fen: int, field: str = "amount") -> int:
    check_assistance(fen, field)
    if fen <= 0:
        raise CaseError("救助金额应大于0", "bad_amount")
    return fen


def _household_and_member(store: Store, household_id: int, member_id: int | None) -> None:
    status = store.scalar("SELECT status FROM households WHERE id = ?", (household_id,))
    if status is None:
        raise NotFound(f"没有编号为 {household_id} 的家庭")
    if status != "active":
        raise CaseError(f"家庭 {household_id} 已注销，不能登记救助", "household_deleted")
    if member_id is None:
        return
    owner = store.scalar(
        "SELECT household_id FROM members WHERE id = ? AND status = 'active'", (member_id,)
    )
    if owner != household_id:
        raise CaseError(f"成员 {member_id} 不属于家庭 {household_id}", "member_not_in_household")


def add(
    store: Store,
    household_id: int,
    kind: str,
    *,
    amount_fen: int,
    member_id: int | None = None,
    case_type: str = "",
    cause: str = "",
    applied_on: dt.date | str | None = None,
    note: str = "",
) -> Case:
    """Record an application (申请): 待审批.  临时救助 needs a type and a cause."""
    require(store, "enrolment.edit")
    kind = _code(kind, kinds(), "救助类型", "bad_kind")
    if kind == "temporary":
        case_type = _code(case_type, types(), "临时救助类型", "bad_case_type")
        cause = _code(cause, causes(), "救助原因", "bad_cause")
    else:
        if case_type:
            raise CaseError("医疗救助不分急难型、支出型", "bad_case_type")
        cause = _code(cause, causes(), "救助原因", "bad_cause") if cause else ""
    _amount(amount_fen)
    on = dates.check_date("applied_on", applied_on or dates.current_day())
    note = field_text(note, "note", "备注", "note")
    with store.transaction():
        _household_and_member(store, household_id, member_id)
        row = {
            "uid": new_uid(),
            "household_id": household_id,
            "member_id": member_id,
            "kind": kind,
            "case_type": case_type,
            "cause": cause,
            "applied_on": on.isoformat(),
            "amount_fen": amount_fen,
            "note": note,
            **store.stamp(new=True),
        }
        cid = store.conn.execute(
            f"INSERT INTO cases ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        ).lastrowid
    assert cid is not None
    return get(store, cid)


def _update(store: Store, case_id: int, **cols) -> None:
    stamp = store.stamp(new=False)
    cols = {**cols, **stamp}
    sets = ", ".join(f"{k} = ?" for k in cols)
    store.conn.execute(
        f"UPDATE cases SET {sets}, rev = rev + 1 WHERE id = ?", (*cols.values(), case_id)
    )


def decide(
    store: Store,
    case_id: int,
    decision: str,
    *,
    on: dt.date | str | None = None,
    amount_fen: int | None = None,
    note: str = "",
) -> Case:
    """审批: ``approved`` 批准 (``amount_fen``: the approved amount, default the one asked
    for) or ``refused`` 不予救助 (``note``: the reason, required)."""
    require(store, "enrolment.confirm")
    decision = _code(decision, DECISIONS, "审批结果", "bad_decision")
    note = field_text(note, "reason", "审批意见", "note")
    if decision == "refused" and not note:
        raise CaseError("不予救助必须填写理由", "reason_required")
    if amount_fen is not None:
        _amount(amount_fen)
    with store.transaction():
        c = get(store, case_id)
        if c.decision:
            raise CaseError(f"该案件已审批（{c.state_label}），不能再审批", "case_decided")
        day = dates.check_date(
            "case_decided_on", on or dates.current_day(), not_before=[("申请日期", c.applied_on)]
        )
        _update(
            store,
            case_id,
            decision=decision,
            decided_on=day.isoformat(),
            decided_by=store.stamp(new=False)["updated_by"],
            decision_note=note,
            amount_fen=c.amount_fen if amount_fen is None else amount_fen,
        )
    return get(store, case_id)


def pay(
    store: Store,
    case_id: int,
    *,
    on: dt.date | str | None = None,
    paid_fen: int | None = None,
    fast: bool = False,
) -> Case:
    """发放: the date and the amount paid (default: the approved amount; never more).

    ``fast`` (小额先行): a case not yet decided is approved and paid at once when the
    amount is within :func:`fast_track_limit_fen`; it then awaits its documents."""
    require(store, "payment.edit")
    if paid_fen is not None:
        _amount(paid_fen, "paid")
    with store.transaction():
        c = get(store, case_id)
        if c.paid_on is not None:
            raise CaseError(f"该案件已于{c.paid_on}发放", "case_paid")
        if c.decision == "refused":
            raise CaseError("该案件不予救助，不能发放", "case_refused")
        fen = c.amount_fen if paid_fen is None else paid_fen
        if fen > c.amount_fen:
            raise CaseError(
                f"发放金额{format_fen(fen)}元超过批准金额{format_fen(c.amount_fen)}元",
                "paid_too_much",
            )
        cols: dict = {}
        if not c.decision:
            if not fast:
                raise CaseError("该案件尚未审批：先审批，或按小额先行发放", "case_undecided")
            limit = fast_track_limit_fen()
            if c.amount_fen > limit:
                raise CaseError(
                    f"小额先行限额为{format_fen(limit)}元，本案件{format_fen(c.amount_fen)}元，"
                    "须先审批",
                    "over_fast_track_limit",
                )
        elif fast:
            raise CaseError("该案件已审批，按一般程序发放即可", "case_decided")
        day = dates.check_date(
            "case_paid_on",
            on or dates.current_day(),
            not_before=[("申请日期", c.applied_on), ("审批日期", c.decided_on)],
        )
        if fast:
            cols = {
                "decision": "approved",
                "decided_on": day.isoformat(),
                "decided_by": store.stamp(new=False)["updated_by"],
                "decision_note": "小额先行",
                "fast_track": 1,
            }
        _update(store, case_id, paid_on=day.isoformat(), paid_fen=fen, **cols)
    return get(store, case_id)


def document(store: Store, case_id: int, *, on: dt.date | str | None = None) -> Case:
    """补齐材料: a 小额先行 case's file is complete (待补材料 → 已发放)."""
    require(store, "enrolment.edit")
    with store.transaction():
        c = get(store, case_id)
        if c.state != "awaiting_documents":
            raise CaseError(f"该案件不是待补材料状态（{c.state_label}）", "not_awaiting_documents")
        day = dates.check_date(
            "case_documented_on",
            on or dates.current_day(),
            not_before=[("发放日期", c.paid_on)],
        )
        _update(store, case_id, documented_on=day.isoformat())
    return get(store, case_id)


def _blank() -> dict[str, int]:
    return {"count": 0, "amount_fen": 0, "avg_fen": 0}


def month_stats(store: Store, month: dt.date) -> dict[str, dict[str, int]]:
    """人次, 金额 and 人均每人次 of the cases paid in ``month``, per stable key (see the
    module's docstring).  Deterministic."""
    first, nxt = _month_range(month)
    out = {k: _blank() for k in STAT_KEYS}
    for kind, case_type, count, fen in store.conn.execute(
        "SELECT kind, case_type, count(*), sum(paid_fen) FROM cases WHERE status = 'active' "
        "AND paid_on >= ? AND paid_on < ? GROUP BY kind, case_type ORDER BY kind, case_type",
        (first, nxt),
    ):
        if kind == "medical":
            key = "医疗救助"
        elif case_type in types():
            key = f"临时救助-{types()[case_type]}"
        else:
            key = UNTYPED_KEY
        entry = out.setdefault(key, _blank())
        entry["count"] += count
        entry["amount_fen"] += fen or 0
    for entry in out.values():
        entry["avg_fen"] = entry["amount_fen"] // entry["count"] if entry["count"] else 0
    return out


def summary_lines(stats: dict[str, dict[str, int]]) -> list[str]:
    """'临时救助-急难型 12人次，金额9600.00元，平均每人次800.00元' for the keys with cases."""
    return [
        f"{key} {s['count']}人次，金额{format_fen(s['amount_fen'])}元，"
        f"平均每人次{format_fen(s['avg_fen'])}元"
        for key, s in stats.items()
        if s["count"]
    ]


def awaiting_documents(store: Store) -> list[Case]:
    """小额先行 cases paid whose file is not complete yet (待补材料)."""
    return list_cases(store, "awaiting_documents")
