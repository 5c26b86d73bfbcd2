"""The first version's one-off 临时救助/医疗救助 enrolments become cases on upgrade."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

from mzdesk.models import cases
from mzdesk.models.migrations import MIGRATIONS
from mzdesk.models.migrations_cases import assistance_cases
from mzdesk.models.store import Store

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema_v18.sqlite"
STAMP = ("2026-03-01 10:00:00", "2026-03-01 10:00:00", "老版本", "老版本")


def test_paid_one_off_enrolments_become_cases_counted_once(tmp_path):
    db = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, db)
    conn = sqlite3.connect(db)
    hid = conn.execute("SELECT min(id) FROM households").fetchone()[0]
    rows = [  # uid, category, state, fen, applied, start
        ("old-temp", "temporary", "active", 150000, "2026-02-20", "2026-03-05"),
        ("old-med", "medical", "stopped", 420000, "2026-02-01", "2026-03-10"),
        ("old-open", "temporary", "applied", 90000, "2026-03-01", None),
        ("old-dibao", "rural_dibao", "active", 76000, "2026-01-01", "2026-02-01"),
    ]
    for uid, cat, state, fen, applied, start in rows:
        conn.execute(
            "INSERT INTO enrolments (uid, household_id, category, state, covered, monthly_fen, "
            "applied_on, start_on, created_at, updated_at, created_by, updated_by) "
            "VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
            (uid, hid, cat, state, fen, applied, start, *STAMP),
        )
    conn.commit()
    conn.close()
    store = Store.open(db, operator="tester")
    assert assistance_cases in MIGRATIONS and store.schema_version == len(MIGRATIONS)
    got = {c.uid: c for c in cases.list_cases(store)}
    assert set(got) == {"case-old-temp", "case-old-med"}  # the paid ones only
    temp, med = got["case-old-temp"], got["case-old-med"]
    assert (temp.state_label, temp.paid_on, temp.paid_fen, temp.stat_key) == (
        "已发放",
        "2026-03-05",
        150000,
        cases.UNTYPED_KEY,
    )
    assert (med.stat_key, med.applied_on, med.enrolment_id is not None) == (
        "医疗救助",
        "2026-02-01",
        True,
    )
    stats = cases.month_stats(store, dt.date(2026, 3, 1))
    assert stats[cases.UNTYPED_KEY] == {"count": 1, "amount_fen": 150000, "avg_fen": 150000}
    assert stats["医疗救助"] == {"count": 1, "amount_fen": 420000, "avg_fen": 420000}
    # the enrolments stay readable, unchanged
    states = dict(store.conn.execute("SELECT uid, state FROM enrolments WHERE uid LIKE 'old-%'"))
    assert states == {
        "old-temp": "active",
        "old-med": "stopped",
        "old-open": "applied",
        "old-dibao": "active",
    }
    # queued for sync, stamped as the upgrade
    queued = {u for (u,) in store.conn.execute("SELECT uid FROM sync_changes WHERE tbl = 'cases'")}
    assert queued == set(got)
    assert {c for (c,) in store.conn.execute("SELECT created_by FROM cases")} == {"mzdesk 升级"}
    store.close()
