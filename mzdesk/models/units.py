"""按户保 and 单人保: how a household-unit category (低保) may also enrol one person alone.

A category with a ``single`` block in categories.json (城市低保, 农村低保 as shipped) is
paid to the whole household (按户保) or, for a seriously ill or severely disabled person,
to that person alone (单人保 / 单列户施保, "按人保").  Which persons qualify is data:
``single.health`` (健康 vocabulary, e.g. 大病) or ``single.disability_levels`` (1-2).
A household cannot hold both forms of one category at once.

Also here: which categories count in 低收入人口 (``low_income``) and which are
monitored without monthly cash (``payment: none``).

>>> cat = {"code": "rural_dibao", "unit": "household", "single": {"label": "单人保",
...        "household_label": "按户保"}}
>>> unit_label(cat, None), unit_label(cat, 7)
('按户保', '单人保')
"""

from __future__ import annotations

from .errors import MzError
from .store import Store

# enrolment.LIVE_STATES (enrolment imports this module, so the tuple is repeated here)
LIVE = ("applied", "investigating", "reviewed", "publicised", "submitted", "active")


class UnitRefused(MzError):
    """A 单人保 the category or the person does not allow."""

    code = "single_refused"


def unit_label(cat: dict, member_id: int | None) -> str:
    """按户保 / 单人保 for a category with a ``single`` block, else ''."""
    single = cat.get("single")
    if not single or cat.get("unit") != "household":
        return ""
    return single.get("label", "单人保") if member_id else single.get("household_label", "按户保")


def is_single(cat: dict, member_id: int | None) -> bool:
    """Whether an enrolment in ``cat`` for ``member_id`` is a 单人保."""
    return cat.get("unit") == "household" and member_id is not None


def qualifies(cat: dict, health: str, disability_level: int | None) -> bool:
    """Whether a person's health or disability level allows a 单人保 in ``cat``."""
    single = cat.get("single") or {}
    return health in single.get("health", []) or (
        disability_level is not None and disability_level in single.get("disability_levels", [])
    )


def check_unit(store: Store, cat: dict, household_id: int, member_id: int | None) -> None:
    """Refuse a 单人保 the category has not, a person who does not qualify, and 按户保 and
    单人保 of one category live in one household at once."""
    if cat.get("unit") != "household":
        return
    name = cat.get("name", cat.get("code", ""))
    single = cat.get("single")
    if member_id is not None:
        if not single:
            raise UnitRefused(f"“{name}”只能按户保障，不能单人保", "single_not_allowed")
        m = store.one(
            "SELECT name, health, disability_level FROM members WHERE id = ?", (member_id,)
        )
        if m is not None and not qualifies(cat, m["health"] or "", m["disability_level"]):
            allowed = "、".join(single.get("health", []))
            levels = "、".join(f"{n}级" for n in single.get("disability_levels", []))
            raise UnitRefused(
                f"{m['name']}不符合“{name}”单人保条件（健康状况为{allowed}"
                f"或残疾等级为{levels}的人员才能单人保）",
                "single_not_qualified",
            )
    ph = ", ".join("?" * len(LIVE))
    rows = store.conn.execute(
        f"SELECT id, member_id FROM enrolments WHERE household_id = ? AND category = ? "
        f"AND status = 'active' AND state IN ({ph})",
        (household_id, cat["code"], *LIVE),
    ).fetchall()
    for oid, omember in rows:
        if (omember is None) != (member_id is None):
            raise UnitRefused(
                f"该户已有“{name}”{unit_label(cat, omember) or ''}记录（编号{oid}），"
                f"同一类别不能同时按户保和单人保",
                "single_and_household",
            )


def low_income_codes(cats: dict[str, dict]) -> list[str]:
    """The categories counted in 低收入人口 (低保, 特困, 低保边缘, 刚性支出困难 as shipped)."""
    return [code for code, c in cats.items() if c.get("low_income")]


def monitored(cat: dict) -> bool:
    """A category monitored without monthly cash (``payment: none``)."""
    return cat.get("payment") == "none"
