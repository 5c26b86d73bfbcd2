"""Frozen copies of the schema code that released migration steps ran.

A migration is history: steps 6, 7, 11 and 13 once called live code (``auth`` and ``audit``
``create_schema``, ``audit.refresh_triggers``, ``sync.changelog.create_schema`` and
``ensure_triggers``, ``ids.normalise_phone``), so an old upgrade changed whenever those
modules did (and ``models`` imported ``sync``).  Here is what those calls produced at their
version, copied once and never edited.  ``tests/models/test_migrations_frozen.py`` checks
each step against a schema recorded before the copy was made.

The live modules keep the current rules: ``audit.refresh_triggers`` still regenerates the
audit triggers whenever a store opens, and ``changelog.ensure_triggers`` covers a newly
synced table when a batch is made or read.
"""

from __future__ import annotations

import sqlite3

_NOW = "strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime')"


def run_script(conn: sqlite3.Connection, script: str, sep: str = ";") -> None:
    """Execute each statement of ``script`` (split on ``sep``) in order."""
    for sql in script.split(sep):
        if sql.strip():
            conn.execute(sql)


# -- 6: operators and the audit trail (auth/audit.create_schema at version 6) -----------------
V6_OPERATORS = """
    CREATE TABLE operators (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL CHECK (role IN ('admin', 'clerk', 'field', 'county_reviewer', 'readonly')),
        pw_hash TEXT NOT NULL,
        locked INTEGER NOT NULL DEFAULT 0,
        locked_reason TEXT NOT NULL DEFAULT '',
        failed_count INTEGER NOT NULL DEFAULT 0,
        last_login_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        updated_by TEXT NOT NULL
    )"""

# split on ";\n": the trigger bodies hold ";" of their own
V6_AUDIT_LOG = """
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        operator TEXT NOT NULL DEFAULT '',
        tbl TEXT NOT NULL,
        record_id INTEGER,
        record_uid TEXT,
        household_id INTEGER,
        action TEXT NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
        field TEXT NOT NULL DEFAULT '',
        old TEXT,
        new TEXT,
        hash TEXT
    );
    CREATE INDEX audit_log_household ON audit_log(household_id, seq);
    CREATE INDEX audit_log_operator ON audit_log(operator, seq);
    CREATE INDEX audit_log_record ON audit_log(tbl, record_id, seq);
    CREATE INDEX audit_log_unsealed ON audit_log(seq) WHERE hash IS NULL;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    CREATE TRIGGER audit_log_seal_only BEFORE UPDATE ON audit_log
    WHEN OLD.hash IS NOT NULL OR NEW.seq IS NOT OLD.seq OR NEW.at IS NOT OLD.at
      OR NEW.operator IS NOT OLD.operator OR NEW.tbl IS NOT OLD.tbl
      OR NEW.record_id IS NOT OLD.record_id OR NEW.record_uid IS NOT OLD.record_uid
      OR NEW.household_id IS NOT OLD.household_id OR NEW.action IS NOT OLD.action
      OR NEW.field IS NOT OLD.field OR NEW.old IS NOT OLD.old OR NEW.new IS NOT OLD.new
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
    """

# the audited tables of version 6 (in this order) -> their secret columns
_V6_AUDITED = {
    "site": (),
    "households": (),
    "members": (),
    "enrolments": (),
    "visits": (),
    "care_booklets": (),
    "followup_tasks": (),
    "operators": ("pw_hash",),
}
_V6_SKIP_COLUMNS = frozenset(
    {
        "rev",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "id_rev",
        "phone_rev",
        "name_tail",
        "py_initials",
        "py_full",
        "head_py",
        "head_name",
        "head_id_number",
        "member_count",
        "failed_count",
        "last_login_at",
    }
)
_V6_COLS = "(at, operator, tbl, record_id, record_uid, household_id, action, field, old, new)"


def _v6_audit_triggers(conn: sqlite3.Connection, table: str) -> list[str]:
    """The audit trigger statements of ``table`` as version 6 generated them from the
    table's columns at that version (insert, update, delete)."""
    cols = [(r[1], (r[2] or "").upper()) for r in conn.execute(f"PRAGMA table_info({table})")]
    names = {c for c, _ in cols}
    secret = set(_V6_AUDITED[table])
    logged = [c for c, t in cols if c not in _V6_SKIP_COLUMNS and c != "id" and "BLOB" not in t]

    def ref(row: str, col: str) -> str:
        if col in secret:
            return f"CASE WHEN {row}.{col} IS NULL THEN NULL ELSE '***' END"
        return f"{row}.{col}"

    def snapshot(row: str) -> str:
        pairs = ", ".join(f"'{c}', NULLIF({ref(row, c)}, '')" for c in logged)
        return f"json_patch('{{}}', json_object({pairs}))"

    def head(row: str) -> str:
        uid = f"{row}.uid" if "uid" in names else "NULL"
        if table == "households":
            hh = f"{row}.id"
        else:
            hh = f"{row}.household_id" if "household_id" in names else "NULL"
        who = f"COALESCE({row}.updated_by, '')" if "updated_by" in names else "''"
        return f"{_NOW}, {who}, '{table}', {row}.rowid, {uid}, {hh}"

    changes = " UNION ALL ".join(
        f"SELECT '{c}' AS f, {ref('OLD', c)} AS o, {ref('NEW', c)} AS n, "
        f"OLD.{c} IS NOT NEW.{c} AS d"
        for c in logged
    )
    return [
        f"CREATE TRIGGER audit_{table}_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO audit_log {_V6_COLS} VALUES ({head('NEW')}, 'insert', '', NULL, "
        f"{snapshot('NEW')}); END",
        f"CREATE TRIGGER audit_{table}_update AFTER UPDATE ON {table} BEGIN "
        f"INSERT INTO audit_log {_V6_COLS} SELECT {head('NEW')}, 'update', f, o, n "
        f"FROM ({changes}) WHERE d; END",
        f"CREATE TRIGGER audit_{table}_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO audit_log {_V6_COLS} VALUES ({head('OLD')}, 'delete', '', "
        f"{snapshot('OLD')}, NULL); END",
    ]


def v6_operators_and_audit(conn: sqlite3.Connection) -> None:
    """Version 6 as released: the operators table, the audit trail and its triggers."""
    conn.execute(V6_OPERATORS)
    run_script(conn, V6_AUDIT_LOG, ";\n")
    for table in _V6_AUDITED:
        for sql in _v6_audit_triggers(conn, table):
            conn.execute(sql)


# -- 7: the sync change log and trust list (changelog.create_schema at version 7) -------------
V7_SYNC_TABLES = """
    CREATE TABLE sync_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        tbl TEXT NOT NULL,
        uid TEXT NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
        changed_at TEXT NOT NULL,
        UNIQUE (tbl, uid)
    );
    CREATE TABLE sync_sites (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        age_recipient TEXT NOT NULL,
        sign_key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        since TEXT NOT NULL,
        revoked_at TEXT,
        villages TEXT NOT NULL DEFAULT '[]',
        last_in_seq INTEGER NOT NULL DEFAULT 0,
        last_in_hash TEXT NOT NULL DEFAULT '',
        last_out_seq INTEGER NOT NULL DEFAULT 0,
        last_out_hash TEXT NOT NULL DEFAULT '',
        out_cursor INTEGER NOT NULL DEFAULT 0,
        acked_out_seq INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE sync_base (
        id INTEGER PRIMARY KEY,
        peer TEXT NOT NULL,
        tbl TEXT NOT NULL,
        uid TEXT NOT NULL,
        hash TEXT,
        batch_id INTEGER,
        force INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX sync_base_key ON sync_base(peer, tbl, uid);
    CREATE TABLE sync_pending (
        id INTEGER PRIMARY KEY,
        peer TEXT NOT NULL,
        seq INTEGER NOT NULL,
        tbl TEXT NOT NULL,
        uid TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE UNIQUE INDEX sync_pending_key ON sync_pending(peer, tbl, uid, seq);
    CREATE INDEX sync_pending_seq ON sync_pending(peer, seq);
    CREATE TABLE sync_batches (
        id INTEGER PRIMARY KEY,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        peer TEXT NOT NULL,
        seq INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        full INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        processed_at TEXT NOT NULL,
        acked_at TEXT,
        counts TEXT NOT NULL DEFAULT '{}',
        report TEXT NOT NULL DEFAULT '{}',
        file_name TEXT NOT NULL DEFAULT '',
        data BLOB,
        UNIQUE (direction, peer, seq)
    );
    CREATE TABLE sync_conflicts (
        id INTEGER PRIMARY KEY,
        peer TEXT NOT NULL,
        batch_seq INTEGER NOT NULL,
        tbl TEXT NOT NULL,
        uid TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('edit', 'duplicate_id', 'orphan')),
        fields TEXT NOT NULL DEFAULT '[]',
        local TEXT,
        remote TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
        resolution TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        resolved_at TEXT,
        resolved_by TEXT
    );
    CREATE INDEX sync_conflicts_state ON sync_conflicts(state, tbl);
    """

# the synced tables of version 7, parents before children
V7_SYNCED = (
    "households",
    "members",
    "enrolments",
    "enrolment_events",
    "notices",
    "notice_items",
    "objections",
    "care_booklets",
    "visits",
    "visit_photos",
    "followup_tasks",
    "spot_checks",
    "spot_check_items",
)


def change_log_triggers(conn: sqlite3.Connection, table: str) -> None:
    """The change-log triggers of ``table`` as versions 7 and 11 created them, and its
    existing rows queued once (frozen copy of ``changelog.ensure_triggers`` for one table)."""
    for event, row, op in (
        ("INSERT", "NEW", "upsert"),
        ("UPDATE", "NEW", "upsert"),
        ("DELETE", "OLD", "delete"),
    ):
        conn.execute(
            f"CREATE TRIGGER sync_log_{table}_{event[:3].lower()} AFTER {event} ON {table} "
            f"BEGIN INSERT OR REPLACE INTO sync_changes (tbl, uid, op, changed_at) "
            f"VALUES ('{table}', {row}.uid, '{op}', {_NOW}); END"
        )
    conn.execute(
        f"INSERT OR IGNORE INTO sync_changes (tbl, uid, op, changed_at) "
        f"SELECT '{table}', uid, 'upsert', {_NOW} FROM {table} ORDER BY id"
    )


def v7_sync_change_log(conn: sqlite3.Connection) -> None:
    """Version 7 as released: the sync bookkeeping tables and the change-log triggers."""
    run_script(conn, V7_SYNC_TABLES)
    for table in V7_SYNCED:
        change_log_triggers(conn, table)


# -- 13: phones as digits (ids.normalise_phone at version 13) --------------------------------
_V13_FULLWIDTH = {
    ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９ＸｘＡＢＣＤＥＦａｂｃｄｅｆ"
}
_V13_FULLWIDTH[0x3000] = 0x20  # ideographic space
_V13_SEPARATORS = str.maketrans("", "", "-()（）.—－ ")


def v13_normalise_phone(raw: str | None) -> str:
    """A phone number as digits only, as version 13 stored it.

    >>> v13_normalise_phone("+86 139-0000-0000"), v13_normalise_phone("（0557）１２３４５６７")
    ('13900000000', '05571234567')
    """
    text = "".join(str(raw or "").translate(_V13_FULLWIDTH).split()).translate(_V13_SEPARATORS)
    for prefix in ("+86", "0086", "86"):
        rest = text[len(prefix) :]
        if text.startswith(prefix) and len(rest) == 11 and rest.startswith("1") and rest.isdigit():
            return rest
    return text
