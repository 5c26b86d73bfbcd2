"""Counts for ``mzdesk stats`` and the status bar.  Deterministic: no timestamps.

``active_enrolments``: per category, the enrolments paid now (在保, and 渐退期 until its last
month; not 暂停): households,
persons, ``monthly_fen`` (the sum of all parts) and ``components_fen`` (``{"base": …,
"classified": …, "care": …}``, a key for every part the category can carry,
:func:`mzdesk.models.components.category_components`); the parts add up to ``monthly_fen``.
"""

from __future__ import annotations

from .enrolment_states import PAID_NOW_SQL, current_parts, paid_now_params
from .store import Store


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
    return {
        "households": households,
        "members": members,
        "members_id_pending": pending,
        "villages": villages,
        "active_enrolments": enrol,
    }
