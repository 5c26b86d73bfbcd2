"""Demo data for one-off payment runs (``mzdesk demo``): a 春节一次性生活补贴 of January 2026
for 城市低保, 农村低保 and 特困, 300 元 per person, confirmed and paid.

It is made once per database (a later ``demo`` that adds households leaves the run as it
was, as a paid run would be), through the service, so its lines are the paid-in-month rule's.
"""

from __future__ import annotations

import datetime as dt

from .paid_month import paid_enrolments
from .payment_runs import confirm_run, create_run, mark_paid
from .store import Store

NAME = "春节一次性生活补贴"
MONTH = "2026-01"
CATEGORIES = ("urban_dibao", "rural_dibao", "tekun")
RATE_FEN = 300_00


def demo_runs(store: Store) -> None:
    """The demo's paid 春节 run, unless the database already has one for that month."""
    if store.scalar(
        "SELECT 1 FROM payment_runs WHERE name = ? AND month = ? AND status = 'active'",
        (NAME, MONTH),
    ):
        return
    first = dt.date.fromisoformat(MONTH + "-01")
    if not any(paid_enrolments(store, first, c) for c in CATEGORIES):
        return  # nothing paid that month to cover (a demo of a few households)
    run = create_run(store, NAME, MONTH, list(CATEGORIES), RATE_FEN, note="演示数据")
    confirm_run(store, run.id, on=dt.date(2026, 1, 10))
    mark_paid(store, run.id, on=dt.date(2026, 1, 20))
