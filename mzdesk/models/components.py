"""An enrolment's monthly amount in parts (金额构成), each integer fen.

* ``base``: 保障金 (补差, or a 分档 tier); for 特困, 基本生活费.  Its row records the
  calculation mode (``mode``: ``gap`` 补差 / ``tier`` 分档) and the ``tier``.
* ``classified``: 分类施保金, at household or person level (``level``, ``member_id``),
  with its reason class (``reason_class``: 重残, 重病, 老年, 未成年 …).
* ``care``: 照料护理费 (特困, by self-care level).
* local parts configured in ``resources/components.json`` (``local_components``).

Which parts a category can carry: the category's own ``components`` list in
``categories.json``, else ``by_category`` in ``components.json``, else ``base`` only
(:func:`category_components`).

Each part is a row of ``enrolment_components`` in force from ``from_month`` to
``to_month`` (``YYYY-MM``, inclusive; ``''`` is "from the first month paid", ``NULL``
"until changed").  A 增发/减发 closes the open rows at the month before and opens new ones,
so the months before keep their terms.  ``enrolments.monthly_fen`` stays the current total
(the sum of the open rows), kept by this module, so every older reader keeps working.

**The total of a month is authoritative; the parts split it.**  A month's total comes from
the enrolment and its change events (:func:`terms_in_month`, the rule the 清册 and the
statistics always used); the parts in force that month are the rows, and ``base`` is the
total minus the other parts.  So an enrolment with no rows (an old database before its
upgrade, a batch from an older sender, a single amount typed through ``amend``/``review``)
is paid its whole amount as ``base``.

Service API (the standards and categories modules compute parts as pure functions returning
``{"base": fen, "classified": fen, "care": fen}`` and hand them to :func:`set_components`):

>>> from mzdesk.models import enrolment as enr
>>> from mzdesk.models.household import Household, Member
>>> from mzdesk.models.registry import Registry
>>> from mzdesk.models.site import init_site
>>> store = Store.open(":memory:", operator="clerk")
>>> _ = init_site(store, "341623101", "青山镇")
>>> h = Registry(store).save(Household(village="红旗村", members=[
...     Member(name="王小明", relation="户主", id_number="34162319900101009X")]))
>>> e = enr.create(store, household_id=h.id, category="rural_dibao", monthly_fen=50000)
>>> in_force(store, e.id)                    # before any parts: the amount is base
{'base': 50000, 'classified': 0}
>>> e = set_components(store, e.id, {"base": 50000, "classified": 8000}, mode="gap")
>>> e.monthly_fen, in_force(store, e.id)
(58000, {'base': 50000, 'classified': 8000})

Once paid, a change is a 增发/减发 from a month (the event keeps the old terms):

>>> _ = store.conn.execute("UPDATE enrolments SET state = 'active', start_on = '2026-01-01'")
>>> e = set_components(store, e.id, {"base": 50000, "classified": 12000},
...                    from_month="2026-05", reason="新增重病成员")
>>> in_force(store, e.id, "2026-04"), in_force(store, e.id, "2026-05")
({'base': 50000, 'classified': 8000}, {'base': 50000, 'classified': 12000})
>>> enr.history(store, e.id)[-1]["action"], total(store, e.id)
('increase', 62000)
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..resources import load_json
from . import enrolment as enr
from .auth import require
from .categories import categories
from .errors import MzError
from .money import check_assistance, format_fen
from .payment_dates import payment_start
from .store import Store, new_uid
from .text import field_text

BASE = "base"
CORE = ("base", "classified", "care")
PRE_PAYMENT_STATES = ("applied", "investigating", "reviewed")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class ComponentError(MzError):
    """A part of an amount that the category or the rules do not allow."""

    code = "bad_component"


@dataclass(frozen=True)
class Part:
    """One part of a monthly amount: ``component`` (base, classified, care, a local code)."""

    component: str
    fen: int
    level: str = ""
    member_id: int | None = None
    reason_class: str = ""
    mode: str = ""
    tier: str = ""


# -- configuration --------------------------------------------------------------------------
def settings() -> dict:
    """``resources/components.json``: parts, per-category lists, classes, 渐退期 months."""
    return load_json("components.json")


def component_names(category: str = "") -> dict[str, str]:
    """code -> Chinese name, ``base`` named for the category (特困: 基本生活费).

    >>> component_names("tekun")["base"], component_names("rural_dibao")["base"]
    ('基本生活费', '保障金')
    """
    conf = settings()
    out = {}
    for c in [*conf["components"], *conf.get("local_components", [])]:
        out[c["code"]] = c.get("names", {}).get(category, c["name"])
    return out


def category_components(store: Store, category: str) -> list[str]:
    """The parts ``category`` can carry, ``base`` first.

    >>> store = Store.open(":memory:")
    >>> category_components(store, "tekun"), category_components(store, "elderly")
    (['base', 'care'], ['base'])
    """
    cat = categories(store).get(category, {})
    listed = cat.get("components") or settings()["by_category"].get(category) or [BASE]
    return [BASE, *[c for c in listed if c != BASE]]


def month_key(value: dt.date | str | None) -> str:
    """'2026-05' for a date or a 'YYYY-MM' text; ``bad_month`` otherwise.

    >>> month_key("2026-5"), month_key(dt.date(2026, 11, 3))
    ('2026-05', '2026-11')
    """
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value or "").strip()
    m = _MONTH.fullmatch(text) or re.fullmatch(r"(\d{4})-(\d)", text)
    if m is None or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise MzError(f"月份格式应为 YYYY-MM，例如 2026-05，而不是 {value!r}", "bad_month")
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def previous_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"


# -- the total of a month (one rule for the 清册, the statistics and the parts) ---------------
_OLD = {"monthly_fen": "fen", "covered": "covered", "class": "class"}  # column: event key
CHANGE_ACTIONS = ("increase", "decrease", "adjust")


def review_changes(store: Store) -> dict[int, list[tuple[str, dict]]]:
    """Per enrolment, its changes oldest first: (first day of the first month on the new
    terms, the terms before: ``monthly_fen``/``covered``/``class`` as recorded).  A review's
    change applies from :func:`payment_start` of its date; a 增发/减发 from its month."""
    out: dict[int, list[tuple[str, dict]]] = {}
    # by the month each applies from, then as recorded: a batch may bring events in any order
    for eid, action, detail in store.conn.execute(
        "SELECT enrolment_id, action, detail FROM enrolment_events WHERE (action = 'review' "
        "AND json_extract(detail, '$.outcome') = 'change') OR action IN "
        "('increase', 'decrease', 'adjust') ORDER BY at, id"
    ):
        d = json.loads(detail)
        old = {k: d[f"old_{key}"] for k, key in _OLD.items() if f"old_{key}" in d}
        try:
            if action == "review":
                since = payment_start(dt.date.fromisoformat(d["on"])).isoformat()
            else:
                since = month_key(d["from_month"]) + "-01"
        except (KeyError, TypeError, ValueError, MzError):
            continue
        if old:
            out.setdefault(eid, []).append((since, old))
    for changes in out.values():
        changes.sort(key=lambda c: c[0])  # stable: same month keeps the recorded order
    return out


def terms_in_month(row: dict, changes: list[tuple[str, dict]], first: dt.date) -> dict:
    """``row``'s monthly_fen, covered and class as they were paid in the month of
    ``first``: the current ones, with every change that applies later undone."""
    terms = {k: row[k] for k in _OLD}
    for since, old in reversed(changes):
        if first.isoformat() < since:
            terms.update(old)
    return terms


# -- reading the parts ----------------------------------------------------------------------
def rows_by_enrolment(store: Store, ids: Sequence[int] | None = None) -> dict[int, list[dict]]:
    """Every live part row, per enrolment (all enrolments, or ``ids``), oldest first."""
    where = "status = 'active'"
    args: tuple[int, ...] = ()
    if ids is not None:
        marks = ", ".join("?" * len(ids))
        where, args = f"{where} AND enrolment_id IN ({marks})", tuple(ids)
    out: dict[int, list[dict]] = {}
    cur = store.conn.execute(  # plain rows: a county's statistics read tens of thousands
        "SELECT enrolment_id, component, level, member_id, reason_class, mode, tier, fen, "
        f"from_month, to_month FROM enrolment_components WHERE {where} ORDER BY from_month, id",
        args,
    )
    cols = [d[0] for d in cur.description]
    for values in cur:
        r = dict(zip(cols, values, strict=True))
        out.setdefault(r["enrolment_id"], []).append(r)
    return out


def _in_month(rows: list[dict], month: str | None) -> list[dict]:
    if month is None:  # the current terms: the open rows
        return [r for r in rows if r["to_month"] is None]
    return [
        r
        for r in rows
        if r["from_month"] <= month and (r["to_month"] is None or r["to_month"] >= month)
    ]


def split(rows: list[dict], month: str | None, month_total: int, keys: Sequence[str]) -> dict:
    """The parts of ``month_total`` in ``month`` (None: the current terms) as
    ``{component: fen}`` with every key of ``keys``; ``base`` is the total minus the others.
    Rows that no longer fit the total (a single amount from an older sender) are ignored.

    >>> rows = [{"component": "classified", "fen": 300, "from_month": "", "to_month": None}]
    >>> split(rows, "2026-01", 1000, ("base", "classified")), split(rows, None, 200, ("base",))
    ({'base': 700, 'classified': 300}, {'base': 200})
    """
    out = dict.fromkeys(keys, 0)
    others: dict[str, int] = {}
    for r in _in_month(rows, month):
        if r["component"] != BASE:
            others[r["component"]] = others.get(r["component"], 0) + r["fen"]
    if sum(others.values()) > month_total:
        others = {}
    for k, v in others.items():
        out[k] = out.get(k, 0) + v
    out[BASE] = month_total - sum(others.values())
    return out


def in_force(store: Store, enrolment_id: int, month: dt.date | str | None = None) -> dict:
    """``{component: fen}`` paid for ``month`` (None: the current terms), every part the
    category can carry present; the values add up to the month's total."""
    e = enr.get(store, enrolment_id)
    keys = category_components(store, e.category)
    rows = rows_by_enrolment(store, [e.id]).get(e.id, [])
    if month is None:
        return split(rows, None, e.monthly_fen, keys)
    key = month_key(month)
    row = {"monthly_fen": e.monthly_fen, "covered": e.covered, "class": e.cls}
    changes = review_changes(store).get(e.id, [])
    fen = terms_in_month(row, changes, dt.date.fromisoformat(key + "-01"))["monthly_fen"]
    return split(rows, key, fen, keys)


def total(store: Store, enrolment_id: int, month: dt.date | str | None = None) -> int:
    """The sum of the parts in ``month`` (None: ``enrolments.monthly_fen``, the current)."""
    return sum(in_force(store, enrolment_id, month).values())


def parts_detail(store: Store, enrolment_id: int) -> list[dict]:
    """The current part rows with their names, for the household form and the notice."""
    e = enr.get(store, enrolment_id)
    names = component_names(e.category)
    rows = _in_month(rows_by_enrolment(store, [e.id]).get(e.id, []), None)
    split_now = split(rows, None, e.monthly_fen, category_components(store, e.category))
    base = next((r for r in rows if r["component"] == BASE), {})
    out = [
        {
            "component": BASE,
            "name": names[BASE],
            "fen": split_now[BASE],
            "mode": base.get("mode", ""),
            "tier": base.get("tier", ""),
            "level": "",
            "reason_class": "",
            "from_month": base.get("from_month", ""),
        }
    ]
    for r in rows:
        if r["component"] != BASE and split_now.get(r["component"], 0):
            out.append({**r, "name": names.get(r["component"], r["component"])})
    return out


def notice_parts(store: Store, enrolment_id: int) -> str:
    """'（保障金760.00+分类施保金120.00）' after a notice row's category when the county asks
    for the parts (``notice_shows_parts`` in ``resources/components.json``) and the amount
    has more than one; '' otherwise (the notice always shows the total)."""
    if not settings().get("notice_shows_parts"):
        return ""
    parts = [p for p in parts_detail(store, enrolment_id) if p["fen"]]
    if len(parts) < 2:
        return ""
    return "（" + "+".join(f"{p['name']}{format_fen(p['fen'])}" for p in parts) + "）"


# -- writing --------------------------------------------------------------------------------
def _normalise(store: Store, e: enr.Enrolment, parts) -> list[Part]:
    """``parts`` (a dict or :class:`Part` rows) checked against the category and the rules,
    parts of 0 dropped (but ``base``), the total within the assistance cap."""
    if isinstance(parts, Mapping):
        parts = [Part(k, int(v)) for k, v in parts.items()]
    allowed = category_components(store, e.category)
    names = component_names(e.category)
    out = [_check_part(store, e, p, allowed, names) for p in parts]
    out = [p for p in out if p.fen or p.component == BASE]  # a part of 0 is no part
    if not any(p.component == BASE for p in out):
        out.insert(0, Part(BASE, 0))
    check_assistance(sum(p.fen for p in out), "monthly_fen")  # at most 100,000 元 in all
    return out


def _check_part(
    store: Store, e: enr.Enrolment, p: Part, allowed: list[str], names: dict[str, str]
) -> Part:
    """One part checked and cleaned: allowed for the category, whole fen, a known reason
    class, a member of the household for a person-level part, a known calculation mode."""
    conf = settings()
    if p.component not in allowed:
        listed = "、".join(names.get(c, c) for c in allowed)
        raise ComponentError(
            f"该类别的保障金额只能包括：{listed}，不能包括“{names.get(p.component, p.component)}”"
        )
    if isinstance(p.fen, bool) or not isinstance(p.fen, int) or p.fen < 0:
        raise ComponentError(f"“{names[p.component]}”金额应为不小于0的整数（分）")
    reason_class = field_text(p.reason_class, "short", "分类施保类别", "reason_class")
    if reason_class and reason_class not in conf["reason_classes"]:
        listed = "、".join(conf["reason_classes"])
        raise ComponentError(f"分类施保类别应为 {listed} 之一，而不是“{reason_class}”")
    level = p.level or ("household" if p.component == "classified" else "")
    if p.member_id is not None:
        level = "person"
        hid = store.scalar(
            "SELECT household_id FROM members WHERE id = ? AND status = 'active'", (p.member_id,)
        )
        if hid != e.household_id:
            raise ComponentError("分类施保的人员不属于该家庭", "member_not_in_household")
    if p.mode and p.mode not in conf["modes"]:
        modes = "、".join(f"{k}（{v}）" for k, v in conf["modes"].items())
        raise ComponentError(f"计算方式应为 {modes} 之一", "bad_mode")
    tier = field_text(p.tier, "short", "分档", "tier")
    return Part(p.component, p.fen, level, p.member_id, reason_class, p.mode, tier)


def _sums(parts: Sequence[Part] | list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in parts:
        c, fen = (p.component, p.fen) if isinstance(p, Part) else (p["component"], p["fen"])
        out[c] = out.get(c, 0) + fen
    return out


def _close_open_rows(store: Store, enrolment_id: int, month: str) -> None:
    """End the open rows before ``month``; rows that start at or after it never applied."""
    stamp = store.stamp(new=False)
    store.conn.execute(
        "UPDATE enrolment_components SET status = 'deleted', rev = rev + 1, updated_at = ?, "
        "updated_by = ? WHERE enrolment_id = ? AND status = 'active' AND to_month IS NULL "
        "AND from_month >= ?",
        (stamp["updated_at"], stamp["updated_by"], enrolment_id, month),
    )
    if not month:
        return
    store.conn.execute(
        "UPDATE enrolment_components SET to_month = ?, rev = rev + 1, updated_at = ?, "
        "updated_by = ? WHERE enrolment_id = ? AND status = 'active' AND to_month IS NULL",
        (previous_month(month), stamp["updated_at"], stamp["updated_by"], enrolment_id),
    )


def _insert(store: Store, enrolment_id: int, parts: Sequence[Part], month: str) -> None:
    hid = store.scalar("SELECT household_id FROM enrolments WHERE id = ?", (enrolment_id,))
    for p in parts:
        row = {
            "uid": new_uid(),
            "household_id": hid,
            "enrolment_id": enrolment_id,
            "component": p.component,
            "level": p.level,
            "member_id": p.member_id,
            "reason_class": p.reason_class,
            "mode": p.mode,
            "tier": p.tier,
            "fen": p.fen,
            "from_month": month,
            **store.stamp(new=True),
        }
        store.conn.execute(
            f"INSERT INTO enrolment_components ({', '.join(row)}) "
            f"VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )


IMPORTED_PART_COLUMNS = ("enrolment_id", "household_id", "component", "level", "fen")


def write_imported_parts(store: Store, rows: list[tuple]) -> None:
    """The parts of enrolments a roster import has just created, in one statement:
    ``rows`` as :data:`IMPORTED_PART_COLUMNS`, in force from the first month paid ('').
    The caller (the enrolment import, inside its transaction) made the enrolment's
    ``monthly_fen`` their sum."""
    from .bulk import insert_many

    stamp = store.stamp(new=True)
    insert_many(
        store.conn,
        "enrolment_components",
        ("uid", *IMPORTED_PART_COLUMNS, "from_month", *stamp),
        [(new_uid(), *r, "", *stamp.values()) for r in rows],
    )


def _start_month(e: enr.Enrolment) -> str:
    return e.start_on[:7] if e.start_on else ""


def set_components(
    store: Store,
    enrolment_id: int,
    parts: Mapping[str, int] | Sequence[Part],
    from_month: dt.date | str | None = None,
    reason: str = "",
    mode: str | None = None,
    tier: str | None = None,
) -> enr.Enrolment:
    """Replace the parts of an enrolment's monthly amount; returns the enrolment.

    ``parts``: ``{"base": fen, "classified": fen, "care": fen}`` or :class:`Part` rows (for
    person-level 分类施保 with a reason class).  ``mode``/``tier`` go on the ``base`` part.
    Before the notice (申请/调查/评议) the parts are replaced outright (event ``amend``).
    Once paid (在保/渐退期/暂停) they change from ``from_month`` (required, not before the first
    month paid nor before an earlier change) with a ``reason``: the event is 增发
    (``increase``), 减发 (``decrease``) or, same total, ``adjust``, keeps the old total and
    parts, and goes on the next notice as a change.  ``monthly_fen`` becomes the new sum.
    """
    require(store, "enrolment.edit")
    with store.transaction():
        e = enr.get(store, enrolment_id)
        new = _normalise(store, e, parts)
        if mode is not None or tier is not None:
            new = [
                Part(
                    p.component,
                    p.fen,
                    p.level,
                    p.member_id,
                    p.reason_class,
                    p.mode if mode is None else mode,
                    p.tier if tier is None else field_text(tier, "short", "分档", "tier"),
                )
                if p.component == BASE
                else p
                for p in new
            ]
            new = _normalise(store, e, new)
        fen = sum(p.fen for p in new)
        old = in_force(store, e.id)
        detail: dict = {"parts": _sums(new), "old_parts": old, "old_fen": e.monthly_fen}
        if e.state in PRE_PAYMENT_STATES:
            _close_open_rows(store, e.id, "")
            _insert(store, e.id, new, "")
            store.conn.execute(
                "UPDATE enrolments SET monthly_fen = ?, rev = rev + 1, updated_at = ?, "
                "updated_by = ? WHERE id = ?",
                (fen, *store.stamp(new=False).values(), e.id),
            )
            enr.record_event(store, e, "amend", reason, detail, fen)
            return enr.get(store, e.id)
        if e.state not in enr.PAID_LIVE_STATES:
            raise enr.TransitionRefused(
                "只有在保、渐退期或暂停的记录才能增发/减发；公示和审核中的记录请先完成审核",
                "illegal_transition",
            )
        if from_month is None:
            raise ComponentError("增发/减发请填写起始月份（YYYY-MM）", "month_required")
        month = month_key(from_month)
        reason = enr.need_reason(reason, "增发/减发")
        if month < _start_month(e):
            raise ComponentError(
                f"起始月份不能早于开始享受的月份{_start_month(e)}", "month_too_early"
            )
        latest = store.scalar(
            "SELECT max(from_month) FROM enrolment_components WHERE enrolment_id = ? "
            "AND status = 'active'",
            (e.id,),
        )
        if latest and month < latest:
            raise ComponentError(
                f"已有从{latest}起的金额变更，新的变更不能早于该月", "month_before_change"
            )
        _close_open_rows(store, e.id, month)
        _insert(store, e.id, new, month)
        action = (
            "increase" if fen > e.monthly_fen else "decrease" if fen < e.monthly_fen else "adjust"
        )
        detail["from_month"] = month
        return enr.transition(
            store,
            e,
            action,
            reason,
            detail,
            to_state=e.state,
            monthly_fen=fen,
            notice_pending="change",
        )


def follow_total(store: Store, enrolment_id: int, fen: int, since: dt.date | None) -> None:
    """A single total typed through an older path (``amend``, a review's change, a roster
    import) replaces the parts: from ``since`` (None: from the start) the open rows end and
    the whole amount is ``base`` (the base row keeps its mode and tier).  The caller updates
    ``monthly_fen`` and records the event."""
    month = "" if since is None else month_key(since)
    rows = _in_month(rows_by_enrolment(store, [enrolment_id]).get(enrolment_id, []), None)
    base = next((r for r in rows if r["component"] == BASE), None)
    _close_open_rows(store, enrolment_id, month)
    keep = Part(BASE, fen, mode=base["mode"], tier=base["tier"]) if base else Part(BASE, fen)
    _insert(store, enrolment_id, [keep], month)
