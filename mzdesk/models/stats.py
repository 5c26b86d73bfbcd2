"""Counts for ``mzdesk stats`` and the status bar.  Deterministic: no timestamps.

``active_enrolments``: per category, the enrolments paid now (在保, and 渐退期 until its last
month; not 暂停): households,
persons, ``monthly_fen`` (the sum of all parts) and ``components_fen`` (``{"base": …,
"classified": …, "care": …}``, a key for every part the category can carry,
:func:`mzdesk.models.components.category_components`); the parts add up to ``monthly_fen``.
"""

from __future__ import annotations

from .categories import categories
from .enrolment_states import PAID_NOW_SQL, current_parts, paid_now_params
from .store import Store
from .units import low_income_codes

UNCLASSED = "未定档"  # by_class key of active enrolments with no class
SUPPORT_LABELS = {"concentrated": "集中", "dispersed": "分散", "": "未登记"}


def registry_stats(store: Store) -> dict:
    c = store.conn
    households = c.execute("SELECT count(*) FROM households WHERE status = 'active'").fetchone()[0]
    members = c.execute(
        "SELECT count(*) FROM members m JOIN households h ON h.id = m.household_id "
        "WHERE m.status = 'active' AND h.status = 'active'"
    ).fetchone()[0]
    pending = c.execute(
        "SELECT count(*) FROM members WHERE status = 'active' AND id_pending = 1"
    ).fetchone()[0]
    villages = c.execute(
        "SELECT count(DISTINCT village) FROM households WHERE status = 'active'"
    ).fetchone()[0]
    parts = current_parts(store)
    enrol = {
        cat: {
            "households": hh,
            "persons": persons,
            "monthly_fen": fen,
            "components_fen": parts.get(cat, {"base": fen}),
        }
        for cat, hh, persons, fen in c.execute(
            "SELECT e.category, count(DISTINCT e.household_id), sum(e.covered), "
            f"sum(e.monthly_fen) FROM enrolments e WHERE {PAID_NOW_SQL} AND e.status = 'active' "
            "GROUP BY e.category ORDER BY e.category",
            paid_now_params(),
        )
    }
    _add_classes(store, enrol)
    return {
        "low_income": low_income(store),
        "households": households,
        "members": members,
        "members_id_pending": pending,
        "villages": villages,
        "active_enrolments": enrol,
    }


def _add_classes(store: Store, enrol: dict[str, dict]) -> None:
    """``by_class`` (class label → persons) for categories with classes, and for those with
    a 供养方式 (特困) ``by_support``: {"集中": persons, "分散": persons}, plus "未登记" only
    when some active enrolment has none recorded (older records)."""
    cats = categories(store)
    for code, entry in enrol.items():
        cat = cats.get(code, {})
        if cat.get("classes"):
            entry["by_class"] = {
                (cls or UNCLASSED): persons
                for cls, persons in store.conn.execute(
                    f"SELECT class, sum(covered) FROM enrolments e WHERE {PAID_NOW_SQL} "
                    "AND e.status = 'active' AND category = :code GROUP BY class ORDER BY class",
                    {**paid_now_params(), "code": code},
                )
            }
        if cat.get("support_modes"):
            by = {"集中": 0, "分散": 0}
            for mode, persons in store.conn.execute(
                f"SELECT support_mode, sum(covered) FROM enrolments e WHERE {PAID_NOW_SQL} "
                "AND e.status = 'active' AND category = :code GROUP BY support_mode",
                {**paid_now_params(), "code": code},
            ):
                label = SUPPORT_LABELS.get(mode, SUPPORT_LABELS[""])
                by[label] = by.get(label, 0) + persons
            entry["by_support"] = by


def low_income(store: Store) -> dict[str, int]:
    """低收入人口: households and distinct persons with an active enrolment in a category
    marked ``low_income`` (低保, 特困, 低保边缘, 刚性支出困难 as shipped).  A household-level
    enrolment counts its living assistance members, a person-level one its person."""
    codes = low_income_codes(categories(store))
    if not codes:
        return {"households": 0, "persons": 0}
    ph = ", ".join("?" * len(codes))
    active = f"e.state = 'active' AND e.status = 'active' AND e.category IN ({ph})"
    households = store.conn.execute(
        f"SELECT count(DISTINCT household_id) FROM enrolments e WHERE {active}", codes
    ).fetchone()[0]
    persons = store.conn.execute(
        f"SELECT count(*) FROM (SELECT m.id FROM enrolments e JOIN members m "
        f"ON m.household_id = e.household_id AND m.status = 'active' "
        f"AND m.in_assistance = 1 AND m.deceased_on IS NULL "
        f"WHERE e.member_id IS NULL AND {active} "
        f"UNION SELECT e.member_id FROM enrolments e WHERE e.member_id IS NOT NULL AND {active})",
        (*codes, *codes),
    ).fetchone()[0]
    return {"households": households, "persons": persons}
