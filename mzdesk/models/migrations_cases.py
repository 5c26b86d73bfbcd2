"""Schema step for 临时救助 and 医疗救助 as cases (issue 22), in a module of its own so
the steps other work appends beside it do not touch it.  The same rules hold as in
:mod:`mzdesk.models.migrations`: a released step is never edited, its SQL is frozen here,
and ``tests/models/test_migrations_frozen.py`` compares what it makes."""

from __future__ import annotations

import sqlite3

from . import migrations_sql

_STAMP = """
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL"""


def assistance_cases(conn: sqlite3.Connection) -> None:
    """临时救助 and 医疗救助 as cases: one row is one 人次 (a household, and the person when
    known), with its type (急难型/支出型) and cause, the application, the decision
    (批准/不予救助, date, by whom), the payment (date, amount) and the 小额先行 path (paid
    first, ``documented_on`` once the file is complete).  Synced like the other records.

    Every 临时救助/医疗救助 enrolment already paid (在保 or 停发 with a start date) becomes
    an approved, paid case (amount and date from the enrolment, no type: 未分型), with a
    uid derived from the enrolment's so every site upgrading makes the same record,
    stamped ``mzdesk 升级`` and queued for sync; the enrolment itself stays as it was."""
    for sql in f"""
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        household_id INTEGER NOT NULL REFERENCES households(id),
        member_id INTEGER REFERENCES members(id),
        enrolment_id INTEGER REFERENCES enrolments(id),
        kind TEXT NOT NULL CHECK (kind IN ('temporary', 'medical')),
        case_type TEXT NOT NULL DEFAULT '' CHECK (case_type IN ('', 'urgent', 'expense')),
        cause TEXT NOT NULL DEFAULT '',
        applied_on TEXT NOT NULL,
        amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
        decision TEXT NOT NULL DEFAULT '' CHECK (decision IN ('', 'approved', 'refused')),
        decided_on TEXT,
        decided_by TEXT NOT NULL DEFAULT '',
        decision_note TEXT NOT NULL DEFAULT '',
        fast_track INTEGER NOT NULL DEFAULT 0 CHECK (fast_track IN (0, 1)),
        paid_on TEXT,
        paid_fen INTEGER CHECK (paid_fen IS NULL OR paid_fen >= 0),
        documented_on TEXT,
        note TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE INDEX cases_paid ON cases(paid_on, kind, case_type);
    CREATE INDEX cases_household ON cases(household_id);
    CREATE INDEX cases_open ON cases(decision, fast_track, documented_on);
    INSERT INTO cases (uid, household_id, member_id, enrolment_id, kind, applied_on,
        amount_fen, decision, decided_on, decided_by, paid_on, paid_fen, documented_on,
        note, created_at, updated_at, created_by, updated_by)
        SELECT 'case-' || uid, household_id, member_id, id, category,
               coalesce(applied_on, start_on), max(monthly_fen, 0), 'approved', start_on,
               'mzdesk 升级', start_on, max(monthly_fen, 0), start_on, '由一次性救助记录转入',
               strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime'),
               strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime'), 'mzdesk 升级', 'mzdesk 升级'
        FROM enrolments
        WHERE category IN ('temporary', 'medical') AND status = 'active'
          AND state IN ('active', 'stopped') AND start_on IS NOT NULL
        ORDER BY id
    """.split(";"):
        if sql.strip():
            conn.execute(sql)
    migrations_sql.change_log_triggers(conn, "cases")
