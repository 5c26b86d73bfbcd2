"""Demo 临时救助 and 医疗救助 cases (演示数据), for :mod:`mzdesk.models.demo`.

About one demo household in twenty gets a case in the six months up to today: mostly
paid, some 小额先行 still awaiting documents (待补材料), some waiting for a decision or
refused.  Each is drawn from a generator seeded by the household's uid, so the rest of
the demo is unchanged, and written in one statement inside the demo's transaction.
"""

from __future__ import annotations

import datetime as dt
import random

from . import dates
from .cases import fast_track_limit_fen
from .store import Store

_CAUSES = ("illness", "disaster", "schooling", "accident", "other")
_CAUSE_WEIGHTS = (45, 15, 15, 15, 10)
_COLUMNS = (
    "uid, household_id, member_id, kind, case_type, cause, applied_on, amount_fen, decision, "
    "decided_on, decided_by, decision_note, fast_track, paid_on, paid_fen, documented_on, "
    "created_at, updated_at, created_by, updated_by"
)


def _plan(r: random.Random, today: dt.date) -> dict:
    kind = r.choices(("temporary", "medical"), (60, 40))[0]
    applied = today - dt.timedelta(days=r.randrange(3, 180))
    if kind == "medical":
        case_type, cause = "", "illness"
        fen = r.randrange(2, 80) * 10000
    else:
        case_type = r.choices(("urgent", "expense"), (55, 45))[0]
        cause = r.choices(_CAUSES, _CAUSE_WEIGHTS)[0]
        fen = r.randrange(5, 50 if case_type == "urgent" else 60) * 10000
    return {"kind": kind, "case_type": case_type, "cause": cause, "applied": applied, "fen": fen}


def _outcome(r: random.Random, p: dict, today: dt.date) -> tuple:
    """(decision, decided_on, note, fast_track, paid_on, paid_fen, documented_on)."""
    applied, fen = p["applied"], p["fen"]

    def later(days: int) -> dt.date:
        return min(applied + dt.timedelta(days=days), today)

    roll = r.random()
    if fen <= fast_track_limit_fen() and roll < 0.35:  # 小额先行
        paid = later(r.randrange(0, 3))
        documented = later(r.randrange(10, 40)) if applied < today - dt.timedelta(days=45) else None
        return ("approved", paid, "小额先行", 1, paid, fen, documented)
    if roll < 0.08 or applied > today - dt.timedelta(days=10):
        return ("", None, "", 0, None, None, None)  # 待审批
    decided = later(r.randrange(3, 15))
    if roll < 0.16:
        return ("refused", decided, "家庭经济状况不符合条件", 0, None, None, None)
    paid = later((decided - applied).days + r.randrange(1, 10))
    return ("approved", decided, "", 0, paid, fen, None)


def dress_demo_cases(store: Store, today: dt.date | None = None) -> int:
    """Cases for demo households that have none; returns how many were written."""
    today = today or dates.current_day()
    rows = store.conn.execute(
        "SELECT h.id, h.uid FROM households h WHERE h.status = 'active' AND NOT EXISTS "
        "(SELECT 1 FROM cases c WHERE c.household_id = h.id) ORDER BY h.id"
    ).fetchall()
    stamp = store.stamp(new=True)
    out: list[tuple] = []
    for hid, uid in rows:
        r = random.Random(f"case:{uid}")
        if r.random() >= 0.05:
            continue
        p = _plan(r, today)
        members = [
            m
            for (m,) in store.conn.execute(
                "SELECT id FROM members WHERE household_id = ? AND status = 'active' ORDER BY seq",
                (hid,),
            )
        ]
        member = (
            r.choice(members) if members and (p["kind"] == "medical" or r.random() < 0.3) else None
        )
        decision, decided, note, fast, paid, paid_fen, documented = _outcome(r, p, today)

        def iso(d: dt.date | None) -> str | None:
            return d.isoformat() if d else None

        out.append(
            (
                f"{r.getrandbits(128):032x}",
                hid,
                member,
                p["kind"],
                p["case_type"],
                p["cause"],
                p["applied"].isoformat(),
                p["fen"],
                decision,
                iso(decided),
                stamp["created_by"] if decision else "",
                note,
                fast,
                iso(paid),
                paid_fen,
                iso(documented),
                stamp["created_at"],
                stamp["updated_at"],
                stamp["created_by"],
                stamp["updated_by"],
            )
        )
    if out:
        marks = ", ".join("?" * len(out[0]))
        store.conn.executemany(f"INSERT INTO cases ({_COLUMNS}) VALUES ({marks})", out)
    return len(out)
