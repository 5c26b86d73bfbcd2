"""The demo township's calendar: review plans of each stability, a yearly round half done,
and 高龄津贴 recipients whose survival check is missing (some past the deadline: stop
proposals).  Deterministic from the records' uids and today's date (the demo's clock)."""

from __future__ import annotations

import datetime as dt
import random

from . import dates, reviews, survival
from . import enrolment as enr
from .auth import require
from .store import Store, new_uid

FROM_HOUSEHOLDS = 100  # smaller demos (the tests' fixtures) stay as they were
ELDERLY = 40  # 高龄津贴 recipients added for the survival checks (the demo plans few)
PLANNED_HOUSEHOLDS = 60  # plans move review dates one record at a time: a few are enough
ROUND_REVIEWS = 200  # reviews recorded in the demo round (half of it, at most this many)


def add_demo_elderly(store: Store) -> int:
    """高龄津贴 for up to :data:`ELDERLY` members aged 80 and over who have none; they get
    their lifecycle states and parts like every demo enrolment (run before the parts)."""
    require(store, "household.import")
    if _small(store):
        return 0
    today = dates.current_day()
    born_by = today.replace(year=today.year - 80).isoformat()
    rows = store.conn.execute(
        "SELECT m.id, m.household_id, m.birth_date, h.uid FROM members m "
        "JOIN households h ON h.id = m.household_id WHERE m.status = 'active' "
        "AND h.status = 'active' AND m.deceased_on IS NULL AND m.birth_date <= ? "
        "AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.member_id = m.id "
        "AND e.category = 'elderly' AND e.status = 'active') ORDER BY m.id LIMIT ?",
        (born_by, ELDERLY),
    ).fetchall()
    stamp = store.stamp(new=True)
    planned = []
    for mid, hid, born, huid in rows:
        age = today.year - int(born[:4])
        cls, fen = ("80-89岁", 5000) if age < 90 else ("90-99岁", 10000)
        uid = f"{random.Random(f'elderly:{huid}:{mid}').getrandbits(128):032x}"
        planned.append(
            (uid, hid, mid, "elderly", cls, "applied", 1, fen, "2025-06-01", None, None)
            + (stamp["created_at"], stamp["updated_at"], stamp["created_by"], stamp["updated_by"])
        )
    if planned:
        from .enrolment_demo import insert_demo_enrolments  # the enrolment service writes

        insert_demo_enrolments(store, planned)
    return len(planned)


def dress_demo_reviews(store: Store) -> dict[str, int]:
    """Add the demo's plans, round and survival checks; returns how many of each."""
    require(store, "household.import")
    if _small(store):
        return {"plans": 0, "round_reviews": 0, "survival_checks": 0}
    today = dates.current_day()
    reviewed = _round(store, today)
    return {
        "round_reviews": len(reviewed),
        "plans": _plans(store, today, reviewed),
        "survival_checks": _survival(store, today),
    }


def _small(store: Store) -> bool:
    return (store.scalar("SELECT count(*) FROM households") or 0) < FROM_HOUSEHOLDS


def _paid(store: Store, where: str = "1") -> list[tuple[int, str, int]]:
    marks = ", ".join("?" * len(enr.PAID_LIVE_STATES))
    return store.conn.execute(
        f"SELECT e.id, e.uid, e.household_id FROM enrolments e JOIN households h "
        f"ON h.id = e.household_id WHERE e.status = 'active' AND h.status = 'active' "
        f"AND e.state IN ({marks}) AND {where} ORDER BY e.id",
        enr.PAID_LIVE_STATES,
    ).fetchall()


def _plans(store: Store, today: dt.date, reviewed: list[dict]) -> int:
    """Plans of each stability for some households reviewed in the round today (their next
    review then falls after today: the demo has no overdue review from a plan)."""
    done: set[int] = set()
    for row in reviewed:
        hid = row["household_id"]
        if len(done) >= PLANNED_HOUSEHOLDS or hid in done:
            continue
        r = random.Random(f"plan:{hid}:{row['id']}")
        if r.random() < 0.5:
            stability = r.choice(("stable", "stable", "fair", "unstable"))
            reviews.set_plan(store, hid, stability, on=today, note="演示")
            done.add(hid)
    return len(done)


def _round(store: Store, today: dt.date) -> list[dict]:
    """This year's round, opened a month ago (not before 1 January), half of it reviewed."""
    if store.scalar("SELECT 1 FROM review_rounds WHERE year = ?", (today.year,)):
        return []
    opened = max(today - dt.timedelta(days=30), today.replace(month=1, day=1))
    status = reviews.open_round(store, today.year, on=opened)
    items = status["items"][::2][:ROUND_REVIEWS]
    for row in items:  # kept as they are: the demo's amounts and parts stay reconciled
        enr.review(store, row["id"], "keep", today=today, reason="年度全面核查")
    return items


def _survival(store: Store, today: dt.date) -> int:
    """Most recipients confirmed in the last half-year (the rest are stop proposals once its
    deadline has passed) and about half in the current one."""
    cats = ", ".join(f"'{c}'" for c in survival.settings()["categories"])
    current = survival.period_of(today)
    last = survival.previous(current)
    rows = []
    stamp = store.stamp(new=True)
    for eid, uid, hid in _paid(store, f"e.category IN ({cats})"):
        r = random.Random(f"survival:{uid}")
        for period, share in ((last, 0.85), (current, 0.5)):
            if r.random() >= share:
                continue
            first, last_day, _ = survival.bounds(period)
            end = min(last_day, today)
            day = first + dt.timedelta(days=r.randrange(0, (end - first).days + 1))
            method = r.choice(("visit", "video", "village"))
            rows.append((new_uid(), hid, eid, period, day.isoformat(), method, *stamp.values()))
    store.conn.executemany(
        "INSERT INTO survival_checks (uid, household_id, enrolment_id, period, checked_on, "
        "method, updated_at, updated_by, created_at, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)
