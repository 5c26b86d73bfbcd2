"""Counts for ``mzdesk stats`` and the status bar.  Deterministic: no timestamps."""

from __future__ import annotations

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
    enrol = {
        cat: {"households": hh, "persons": persons, "monthly_fen": fen}
        for cat, hh, persons, fen in c.execute(
            "SELECT category, count(DISTINCT household_id), sum(covered), sum(monthly_fen) "
            "FROM enrolments WHERE state = 'active' AND status = 'active' "
            "GROUP BY category ORDER BY category"
        )
    }
    return {
        "households": households,
        "members": members,
        "members_id_pending": pending,
        "villages": villages,
        "active_enrolments": enrol,
    }
