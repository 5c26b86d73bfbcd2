"""One-off payment runs (一次性发放): 春节一次性生活补贴, 价格临时补贴, 冬春救助 …

A run has a name, a month, the categories it covers (optionally only some classes) and a
fixed amount (``rate_fen``) per person (``basis`` ``person``: × the persons covered) or per
household (``household``: once per line).  Who is in it is the one paid-in-month rule
(:func:`mzdesk.models.paid_month.paid_enrolments`) for that month and those categories:
one line per enrolment paid that month, with its household, payee, ID number, bank account
and covered persons.

States: 草拟 ``draft`` → 已确认 ``confirmed`` → 已发放 ``paid``, or 作废 ``void`` (from 草拟 or
已确认; a paid run stays paid).  While a draft, its lines are computed afresh each time; on
confirmation they are frozen in ``payment_run_lines``, so later edits of a household, an
account or an enrolment never change a confirmed or paid run.  Both tables travel in sync
batches; a line follows its household, a run belongs to the township that made it.

Statistics of a run (:func:`summary`): 户数 (distinct households), 人数 (the lines'
persons), 金额, in total and by category.  :func:`month_runs` gives the confirmed and paid
runs of a month for ``stats --month --json`` (key ``runs``).

>>> from mzdesk.models.site import init_site
>>> from mzdesk.models.store import Store
>>> store = Store.open(":memory:", operator="clerk")
>>> _ = init_site(store, "341623101", "青山镇")
>>> run = create_run(store, "春节一次性生活补贴", "2027-01", ["农村低保"], 30000)
>>> run.state_label, run.basis_label, run.categories
('草拟', '按人', ['rural_dibao'])
>>> confirm_run(store, run.id)
Traceback (most recent call last):
...
mzdesk.models.payment_runs.RunError: 2027年1月所选类别没有发放对象，不能确认
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from .auth import require
from .categories import categories, category_code
from .components import month_key
from .dates import check_date, current_day
from .errors import MzError, NotFound
from .money import check_assistance, format_fen
from .paid_month import paid_enrolments
from .store import Store, new_uid
from .text import field_text

EDIT = "payment.edit"  # 发放名册: create, confirm, mark paid, void
STATES = {"draft": "草拟", "confirmed": "已确认", "paid": "已发放", "void": "作废"}
BASES = {"person": "按人", "household": "按户"}
NAMES = ("春节一次性生活补贴", "价格临时补贴", "冬春救助")  # suggestions, any name is allowed


class RunError(MzError):
    """A payment run refused (Chinese message, machine code)."""

    def __init__(self, message: str, code: str = "payment_run"):
        super().__init__(message, code)


@dataclass
class Run:
    id: int
    uid: str
    name: str
    month: str  # YYYY-MM
    categories: list[str]
    classes: list[str]
    basis: str
    rate_fen: int
    state: str
    confirmed_on: str | None = None
    paid_on: str | None = None
    void_reason: str = ""
    note: str = ""
    frozen: bool = field(default=False)  # confirmed once: the lines are stored

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def basis_label(self) -> str:
        return BASES.get(self.basis, self.basis)

    @property
    def month_label(self) -> str:
        return f"{int(self.month[:4])}年{int(self.month[5:])}月"

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "uid": self.uid,
            "name": self.name,
            "month": self.month,
            "categories": self.categories,
            "classes": self.classes,
            "basis": self.basis,
            "basis_label": self.basis_label,
            "rate_fen": self.rate_fen,
            "state": self.state,
            "state_label": self.state_label,
            "confirmed_on": self.confirmed_on,
            "paid_on": self.paid_on,
            "void_reason": self.void_reason,
            "note": self.note,
        }


_COLUMNS = (
    "id, uid, name, month, categories, classes, basis, rate_fen, state, confirmed_on, "
    "paid_on, void_reason, note"
)


def _from_row(r: dict) -> Run:
    return Run(
        **{
            **r,
            "categories": json.loads(r["categories"]),
            "classes": json.loads(r["classes"]),
            # confirmed once: the stored lines are the list (a field laptop holds only its
            # villages' lines, maybe none), never today's candidates
            "frozen": r["confirmed_on"] is not None,
        }
    )


def get_run(store: Store, run_id: int) -> Run:
    rows = list(
        store.db.query(
            f"SELECT {_COLUMNS} FROM payment_runs WHERE id = ? AND status = 'active'", (run_id,)
        )
    )
    if not rows:
        raise NotFound(f"没有编号为 {run_id} 的一次性发放")
    return _from_row(rows[0])


def list_runs(
    store: Store, month: dt.date | str | None = None, state: str | None = None
) -> list[Run]:
    """Runs, newest month first; only ``month``'s or in ``state`` when given."""
    sql, args = f"SELECT {_COLUMNS} FROM payment_runs WHERE status = 'active'", []
    if month is not None:
        sql, args = sql + " AND month = ?", [month_key(month)]
    state = state_code(state)
    if state is not None:
        sql, args = sql + " AND state = ?", [*args, state]
    return [_from_row(r) for r in store.db.query(sql + " ORDER BY month DESC, id DESC", args)]


def state_code(text: str | None) -> str | None:
    """:data:`STATES` code of ``text`` (a code or a label such as 已确认); None stays None."""
    if text is None:
        return None
    for code, label in STATES.items():
        if text in (code, label):
            return code
    raise RunError(f"状态应为 {'、'.join(STATES.values())} 之一：{text}", "bad_state")


def _categories(store: Store, given: list[str]) -> list[str]:
    """Category codes (by code or name), each paid monthly, in the order given, no repeats."""
    known = categories(store)
    out: list[str] = []
    for text in given:
        code = category_code(store, text)
        if known[code].get("payment") != "monthly":
            raise RunError(
                f"{known[code].get('name', code)}不按月发放，一次性发放只能覆盖按月发放的类别",
                "category_not_paid",
            )
        if code not in out:
            out.append(code)
    if not out:
        raise RunError("一次性发放至少要选一个救助类别", "category_required")
    return out


def create_run(
    store: Store,
    name: str,
    month: dt.date | str,
    cats: list[str],
    rate_fen: int,
    basis: str = "person",
    classes: list[str] | tuple[str, ...] = (),
    note: str = "",
) -> Run:
    """A new run in 草拟: ``rate_fen`` per person (``basis`` ``person``) or per household."""
    require(store, EDIT)
    name = field_text(name, "title", "发放名称", "name")
    if not name:
        raise RunError("请填写发放名称，例如春节一次性生活补贴", "name_required")
    if basis not in BASES:
        basis = next((k for k, v in BASES.items() if basis in (v, v[1])), basis)
    if basis not in BASES:
        raise RunError(f"发放标准应为按人或按户：{basis}", "bad_basis")
    check_assistance(rate_fen, "rate_fen")
    if rate_fen <= 0:
        raise RunError("发放金额应大于0", "bad_amount")
    first = month if isinstance(month, dt.date) else dt.date.fromisoformat(f"{month_key(month)}-01")
    check_date("run_month", first.replace(day=1), field="month")  # not 1900, not 2099
    key = month_key(month)
    codes = _categories(store, list(cats))
    kept = [field_text(c, "short", "保障类别", "classes") for c in classes]
    kept = list(dict.fromkeys(c for c in kept if c))
    note = field_text(note, "note", "备注", "note")
    with store.transaction():
        if store.scalar(
            "SELECT 1 FROM payment_runs WHERE name = ? AND month = ? AND state != 'void' "
            "AND status = 'active'",
            (name, key),
        ):
            raise RunError(f"{key}已有“{name}”，请勿重复创建", "run_exists")
        row = {
            "uid": new_uid(),
            "name": name,
            "month": key,
            "categories": json.dumps(codes),
            "classes": json.dumps(kept, ensure_ascii=False),
            "basis": basis,
            "rate_fen": rate_fen,
            "state": "draft",
            "note": note,
            **store.stamp(new=True),
        }
        rid = store.conn.execute(
            f"INSERT INTO payment_runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        ).lastrowid
    assert rid is not None
    return get_run(store, rid)


def candidates(store: Store, run: Run) -> list[dict]:
    """The lines ``run`` would have now: the enrolments paid in its month
    (:func:`paid_enrolments`) in its categories (and classes), with the amount."""
    first = dt.date.fromisoformat(run.month + "-01")
    out = []
    for cat in run.categories:
        for r in paid_enrolments(store, first, cat):
            if run.classes and (r["class"] or "") not in run.classes:
                continue
            persons = int(r["covered"] or 0)
            out.append(
                {
                    "household_id": r["household_id"],
                    "enrolment_id": r["id"],
                    "category": r["category"],
                    "class": r["class"] or "",
                    "village": r["village"] or "",
                    "village_group": r["village_group"] or "",
                    "payee": r["recipient"] or "",
                    "id_number": r["id_number"] or "",
                    "bank_name": r["bank_name"] or "",
                    "bank_account": r["bank_account"] or "",
                    "persons": persons,
                    "amount_fen": run.rate_fen * (persons if run.basis == "person" else 1),
                }
            )
    return [{"seq": i, **r} for i, r in enumerate(out, 1)]


_LINE_COLUMNS = (
    "seq, household_id, enrolment_id, category, class, village, village_group, payee, "
    "id_number, bank_name, bank_account, persons, amount_fen"
)


def lines(store: Store, run_id: int) -> list[dict]:
    """The run's lines: frozen ones once confirmed, else the candidates of today."""
    run = get_run(store, run_id)
    if not run.frozen:
        return candidates(store, run)
    return list(
        store.db.query(
            f"SELECT {_LINE_COLUMNS} FROM payment_run_lines WHERE run_id = ? AND status = 'active' "
            "ORDER BY seq",
            (run_id,),
        )
    )


def _set_state(store: Store, run_id: int, **cols) -> None:
    cols.update(store.stamp(new=False))
    sets = ", ".join(f"{c} = ?" for c in cols)
    store.conn.execute(
        f"UPDATE payment_runs SET {sets}, rev = rev + 1 WHERE id = ?", (*cols.values(), run_id)
    )


def confirm_run(store: Store, run_id: int, on: dt.date | None = None) -> Run:
    """草拟 → 已确认: the lines are computed once more and frozen."""
    require(store, EDIT)
    on = check_date("run_confirmed_on", on or current_day(), field="on")
    with store.transaction():
        run = get_run(store, run_id)
        if run.state != "draft":
            raise RunError(f"“{run.name}”已是{run.state_label}，只有草拟的可以确认", "run_state")
        found = candidates(store, run)
        if not found:
            raise RunError(f"{run.month_label}所选类别没有发放对象，不能确认", "run_empty")
        stamp = store.stamp(new=True)
        rows = [{"uid": new_uid(), "run_id": run_id, **r, **stamp} for r in found]
        cols = list(rows[0])
        store.conn.executemany(
            f"INSERT INTO payment_run_lines ({', '.join(cols)}) "
            f"VALUES ({', '.join('?' * len(cols))})",
            [tuple(r[c] for c in cols) for r in rows],
        )
        _set_state(store, run_id, state="confirmed", confirmed_on=(on or current_day()).isoformat())
    return get_run(store, run_id)


def mark_paid(store: Store, run_id: int, on: dt.date | None = None) -> Run:
    """已确认 → 已发放 (the date the bank paid, default today)."""
    require(store, EDIT)
    on = check_date("run_paid_on", on or current_day(), field="on")
    with store.transaction():
        run = get_run(store, run_id)
        if run.state != "confirmed":
            raise RunError(
                f"“{run.name}”是{run.state_label}，只有已确认的可以登记发放", "run_state"
            )
        day = on or current_day()
        if run.confirmed_on and day.isoformat() < run.confirmed_on:
            raise RunError(f"发放日期不能早于确认日期{run.confirmed_on}", "bad_date")
        _set_state(store, run_id, state="paid", paid_on=day.isoformat())
    return get_run(store, run_id)


def void_run(store: Store, run_id: int, reason: str) -> Run:
    """草拟 or 已确认 → 作废, with a reason; a paid run cannot be voided."""
    require(store, EDIT)
    reason = field_text(reason, "reason", "作废原因", "reason")
    if not reason:
        raise RunError("作废必须填写原因", "reason_required")
    with store.transaction():
        run = get_run(store, run_id)
        if run.state not in ("draft", "confirmed"):
            raise RunError(f"“{run.name}”已是{run.state_label}，不能作废", "run_state")
        _set_state(store, run_id, state="void", void_reason=reason)
    return get_run(store, run_id)


def _figures(items: list[dict]) -> dict:
    return {
        "households": len({r["household_id"] for r in items}),
        "persons": sum(r["persons"] for r in items),
        "amount_fen": sum(r["amount_fen"] for r in items),
    }


def summary(store: Store, run_id: int) -> dict:
    """The run with its statistics: 户数, 人数, 金额, in total and ``by_category``; ``lines``
    is the number of lines (frozen, or of today for a draft: ``frozen`` says which)."""
    run = get_run(store, run_id)
    items = lines(store, run_id)
    known = categories(store)
    by_cat = {}
    for cat in dict.fromkeys([*run.categories, *(r["category"] for r in items)]):
        mine = [r for r in items if r["category"] == cat]
        by_cat[cat] = {"category_name": known.get(cat, {}).get("name", cat), **_figures(mine)}
    names = "、".join(v["category_name"] for v in by_cat.values())
    return {
        **run.as_dict(),
        "category_names": names,
        "frozen": run.frozen,
        "lines": len(items),
        **_figures(items),
        "by_category": by_cat,
    }


def month_runs(store: Store, month: dt.date | str) -> list[dict]:
    """The confirmed and paid runs of ``month`` with their frozen figures, for the
    monthly statistics (``stats --month --json``, key ``runs``)."""
    rows = store.db.query(
        "SELECT r.id, r.uid, r.name, r.state, count(DISTINCT l.household_id) AS households, "
        "coalesce(sum(l.persons), 0) AS persons, coalesce(sum(l.amount_fen), 0) AS amount_fen "
        "FROM payment_runs r LEFT JOIN payment_run_lines l ON l.run_id = r.id "
        "AND l.status = 'active' WHERE r.month = ? AND r.status = 'active' "
        "AND r.state IN ('confirmed', 'paid') GROUP BY r.id ORDER BY r.id",
        (month_key(month),),
    )
    return [{**r, "state_label": STATES[r["state"]]} for r in rows]


def describe(s: dict) -> str:
    """One line for a clerk: '春节一次性生活补贴（2027年1月，已确认）：12户30人，9000.00元'."""
    month = f"{int(s['month'][:4])}年{int(s['month'][5:])}月"
    return (
        f"#{s['id']} {s['name']}（{month}，{s['state_label']}）：{s['households']}户"
        f"{s['persons']}人，{format_fen(s['amount_fen'])}元"
    )
