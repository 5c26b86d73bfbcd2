"""Schema steps 15 and later (issues 20 and 21), split from :mod:`mzdesk.models.migrations`
to keep each module readable.  The same rules hold: a released step is never edited, its SQL
is frozen here, and ``tests/models/test_migrations_frozen.py`` compares what it makes."""

from __future__ import annotations

import sqlite3

from . import migrations_sql

_STAMP = """
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL"""


def standards_and_recoveries(conn: sqlite3.Connection) -> None:
    """Assistance standards (保障标准) per category and area type with the month they
    take effect from (history kept: a new standard is a new row), and recovery records
    (后补追缴: money paid after a death or a stop) beside back pay (补发).  Both travel
    in sync (mzdesk/models/standards.py, mzdesk/models/recovery.py)."""
    for sql in f"""
    CREATE TABLE standards (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        category TEXT NOT NULL,
        area_type TEXT NOT NULL CHECK (area_type IN ('urban', 'rural')),
        effective_from TEXT NOT NULL,
        amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
        period TEXT NOT NULL CHECK (period IN ('month', 'year')),
        note TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE INDEX standards_key ON standards(category, area_type, effective_from);
    CREATE TABLE recoveries (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        enrolment_id INTEGER NOT NULL REFERENCES enrolments(id),
        household_id INTEGER NOT NULL REFERENCES households(id),
        kind TEXT NOT NULL CHECK (kind IN ('recovery', 'backpay')),
        cause TEXT NOT NULL,
        months TEXT NOT NULL DEFAULT '[]',
        amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
        due_month TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL CHECK (state IN ('pending', 'recovered', 'written_off', 'paid')),
        note TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE INDEX recoveries_enrolment ON recoveries(enrolment_id, kind);
    CREATE INDEX recoveries_state ON recoveries(kind, state);
    """.split(";"):
        if sql.strip():
            conn.execute(sql)
    migrations_sql.change_log_triggers(conn, "standards")
    migrations_sql.change_log_triggers(conn, "recoveries")


def key_history_and_held_batches(conn: sqlite3.Connection) -> None:
    """Keys with history: every key a site (this one or a peer) has signed and received
    with, with when it was valid and what replaced it (rotation, re-trust, revocation), so a
    signature can be checked against the key valid when it was made; and the batches held
    after a gap, kept inside the database (an encrypted database protects them with its
    passphrase) instead of as files beside it."""
    for sql in """
    CREATE TABLE sync_key_history (
        site TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        age_recipient TEXT NOT NULL,
        sign_key TEXT NOT NULL,
        valid_from TEXT NOT NULL,
        valid_until TEXT,
        replaced_by TEXT,
        ended_by TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (site, fingerprint)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO sync_key_history (site, fingerprint, age_recipient, sign_key,
        valid_from, valid_until, ended_by)
        SELECT code, fingerprint, age_recipient, sign_key, since, revoked_at,
            CASE WHEN revoked_at IS NULL THEN '' ELSE 'revoked' END FROM sync_sites;
    CREATE TABLE sync_held (
        peer TEXT NOT NULL,
        seq INTEGER NOT NULL,
        file_name TEXT NOT NULL DEFAULT '',
        held_at TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (peer, seq)
    )
    """.split(";"):
        if sql.strip():
            conn.execute(sql)


def audit_findings_checkpoints_and_trigger_record(conn: sqlite3.Connection) -> None:
    """Tamper evidence that survives a login: findings (entries written outside mzdesk, a
    trigger dropped or altered, an account row that disagrees with the chain), signed
    checkpoints of the chain head (own and received from peers), and the audit triggers as
    mzdesk last installed them (so that one dropped or altered by hand is told from one a
    newer version regenerates).  All three are append-only but for the trigger record,
    which only mzdesk rewrites (``models/audit_guard.py``)."""
    for sql in """
    CREATE TABLE audit_findings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        code TEXT NOT NULL,
        first_seq INTEGER,
        last_seq INTEGER,
        detail TEXT NOT NULL DEFAULT '',
        updated_by TEXT NOT NULL DEFAULT ''
    );
    CREATE TRIGGER audit_findings_no_delete BEFORE DELETE ON audit_findings
    BEGIN SELECT RAISE(ABORT, 'audit_findings is append-only'); END;
    CREATE TRIGGER audit_findings_no_update BEFORE UPDATE ON audit_findings
    BEGIN SELECT RAISE(ABORT, 'audit_findings is append-only'); END;
    CREATE TABLE audit_checkpoints (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        site TEXT NOT NULL,
        n INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL,
        prev_seq INTEGER,
        prev_hash TEXT,
        at TEXT NOT NULL,
        reason TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        sign_key TEXT NOT NULL,
        signature TEXT NOT NULL,
        received_at TEXT,
        batch_sha256 TEXT,
        UNIQUE (site, n, signature)
    );
    CREATE INDEX audit_checkpoints_site ON audit_checkpoints(site, n);
    CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
    CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
    CREATE TABLE audit_trigger_record (name TEXT PRIMARY KEY, sql TEXT NOT NULL);
    INSERT INTO audit_trigger_record (name, sql) SELECT name, sql FROM sqlite_master
    WHERE type = 'trigger' AND name GLOB 'audit_*'
    """.split(";\n"):
        if sql.strip():
            conn.execute(sql)


def enrolment_components(conn: sqlite3.Connection) -> None:
    """An enrolment's monthly amount in parts (保障金/基本生活费 ``base``, 分类施保金
    ``classified``, 照料护理费 ``care``, local ones), each integer fen with the months it is
    in force (``from_month``/``to_month``, ``YYYY-MM``; '' is "from the first month paid"),
    so a 增发/减发 keeps the earlier months' terms.  The calculation mode (补差/分档) and
    tier sit on the ``base`` row.  Every existing enrolment gets its amount as ``base`` with
    a uid derived from the enrolment's (each site upgrading makes the same record, so the
    rows never clash in sync), stamped ``mzdesk 升级`` and queued for sync."""
    for sql in f"""
    CREATE TABLE enrolment_components (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        household_id INTEGER NOT NULL REFERENCES households(id),
        enrolment_id INTEGER NOT NULL REFERENCES enrolments(id),
        component TEXT NOT NULL,
        level TEXT NOT NULL DEFAULT '' CHECK (level IN ('', 'household', 'person')),
        member_id INTEGER REFERENCES members(id),
        reason_class TEXT NOT NULL DEFAULT '',
        mode TEXT NOT NULL DEFAULT '',
        tier TEXT NOT NULL DEFAULT '',
        fen INTEGER NOT NULL CHECK (fen >= 0),
        from_month TEXT NOT NULL DEFAULT '',
        to_month TEXT,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE INDEX enrolment_components_enrolment
        ON enrolment_components(enrolment_id, status, from_month);
    INSERT INTO enrolment_components (uid, household_id, enrolment_id, component, fen,
        from_month, status, created_at, updated_at, created_by, updated_by)
        SELECT 'base-' || uid, household_id, id, 'base', max(monthly_fen, 0), '', status,
               strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime'),
               strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime'), 'mzdesk 升级', 'mzdesk 升级'
        FROM enrolments ORDER BY id
    """.split(";"):
        if sql.strip():
            conn.execute(sql)
    migrations_sql.change_log_triggers(conn, "enrolment_components")


def categories_and_support(conn: sqlite3.Connection) -> None:
    """Issue 21, categories and attributes: the household flag 防止返贫监测对象 / 脱贫人口
    (``households.poverty_flag``: '', 'monitored', 'lifted') and the 特困 support of an
    enrolment: 供养方式 (``support_mode``: '', 'concentrated', 'dispersed'), the 供养机构
    and the 照料人 with the care agreement's dates.  New columns of synced tables: the
    change-log triggers are per row, so they travel with no new trigger; an older sender's
    batch lacks them and the columns keep their defaults."""
    for sql in """
    ALTER TABLE households ADD COLUMN poverty_flag TEXT NOT NULL DEFAULT '';
    ALTER TABLE enrolments ADD COLUMN support_mode TEXT NOT NULL DEFAULT '';
    ALTER TABLE enrolments ADD COLUMN institution TEXT NOT NULL DEFAULT '';
    ALTER TABLE enrolments ADD COLUMN carer_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE enrolments ADD COLUMN carer_id_number TEXT NOT NULL DEFAULT '';
    ALTER TABLE enrolments ADD COLUMN carer_phone TEXT NOT NULL DEFAULT '';
    ALTER TABLE enrolments ADD COLUMN care_from TEXT;
    ALTER TABLE enrolments ADD COLUMN care_to TEXT
    """.split(";"):
        if sql.strip():
            conn.execute(sql)


def reviews_rounds_and_survival(conn: sqlite3.Connection) -> None:
    """Issue 22, the office's calendar (mzdesk/models/reviews.py): site settings a county
    sets for its townships (``site_settings``, one record per key with the uid
    ``setting-<key>``: 民主评议 on / off / 视情), each household's review plan by the
    stability of its circumstances (``review_plans``, uid ``plan-<household uid>``), the
    yearly full-review round (年度全面核查) with the enrolments it covers (the office's
    own bookkeeping: no uid, it stays here), and the survival checks (生存认证) of the
    高龄津贴 per half-year.  Settings, plans and checks travel in sync."""
    for sql in f"""
    CREATE TABLE site_settings (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE TABLE review_plans (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        household_id INTEGER NOT NULL REFERENCES households(id),
        stability TEXT NOT NULL CHECK (stability IN ('stable', 'fair', 'unstable', 'custom')),
        months INTEGER NOT NULL CHECK (months BETWEEN 1 AND 36),
        set_on TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE INDEX review_plans_household ON review_plans(household_id, status);
    CREATE TABLE review_rounds (
        id INTEGER PRIMARY KEY,
        year INTEGER NOT NULL,
        opened_on TEXT NOT NULL,
        closed_on TEXT,
        state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
        summary TEXT NOT NULL DEFAULT '{{}}',{_STAMP}
    );
    CREATE UNIQUE INDEX review_rounds_year ON review_rounds(year);
    CREATE TABLE review_round_items (
        round_id INTEGER NOT NULL REFERENCES review_rounds(id) ON DELETE CASCADE,
        enrolment_id INTEGER NOT NULL REFERENCES enrolments(id) ON DELETE CASCADE,
        PRIMARY KEY (round_id, enrolment_id)
    ) WITHOUT ROWID;
    CREATE TABLE survival_checks (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        household_id INTEGER NOT NULL REFERENCES households(id),
        enrolment_id INTEGER NOT NULL REFERENCES enrolments(id),
        period TEXT NOT NULL,
        checked_on TEXT NOT NULL,
        method TEXT NOT NULL CHECK (method IN ('visit', 'video', 'village')),
        note TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE INDEX survival_checks_enrolment ON survival_checks(enrolment_id, period, status)
    """.split(";"):
        if sql.strip():
            conn.execute(sql)
    for table in ("site_settings", "review_plans", "survival_checks"):
        migrations_sql.change_log_triggers(conn, table)


def payment_runs(conn: sqlite3.Connection) -> None:
    """One-off payment runs (一次性发放: 春节一次性生活补贴, 价格临时补贴, 冬春救助 …): a run
    names a month, the categories (and optionally classes) it covers and a fixed amount per
    person or per household; confirming it freezes its lines (household, payee, ID, account,
    persons, amount), so later edits never change a paid run.  Both tables travel in sync
    (mzdesk/models/payment_runs.py); a line follows its household."""
    for sql in f"""
    CREATE TABLE payment_runs (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        name TEXT NOT NULL,
        month TEXT NOT NULL,
        categories TEXT NOT NULL DEFAULT '[]',
        classes TEXT NOT NULL DEFAULT '[]',
        basis TEXT NOT NULL CHECK (basis IN ('person', 'household')),
        rate_fen INTEGER NOT NULL CHECK (rate_fen > 0),
        state TEXT NOT NULL DEFAULT 'draft'
            CHECK (state IN ('draft', 'confirmed', 'paid', 'void')),
        confirmed_on TEXT,
        paid_on TEXT,
        void_reason TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE INDEX payment_runs_month ON payment_runs(month, state);
    CREATE TABLE payment_run_lines (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        run_id INTEGER NOT NULL REFERENCES payment_runs(id),
        household_id INTEGER NOT NULL REFERENCES households(id),
        enrolment_id INTEGER REFERENCES enrolments(id),
        seq INTEGER NOT NULL,
        category TEXT NOT NULL,
        class TEXT NOT NULL DEFAULT '',
        village TEXT NOT NULL DEFAULT '',
        village_group TEXT NOT NULL DEFAULT '',
        payee TEXT NOT NULL DEFAULT '',
        id_number TEXT NOT NULL DEFAULT '',
        bank_name TEXT NOT NULL DEFAULT '',
        bank_account TEXT NOT NULL DEFAULT '',
        persons INTEGER NOT NULL CHECK (persons >= 0),
        amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE INDEX payment_run_lines_run ON payment_run_lines(run_id, seq);
    CREATE INDEX payment_run_lines_household ON payment_run_lines(household_id)
    """.split(";"):
        if sql.strip():
            conn.execute(sql)
    migrations_sql.change_log_triggers(conn, "payment_runs")
    migrations_sql.change_log_triggers(conn, "payment_run_lines")
