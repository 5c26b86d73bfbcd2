"""Audit trail (操作留痕): append-only, hash-chained, written by SQLite triggers.

Design (see docs/reliability.md):

* **Triggers, not Python calls.**  Every INSERT/UPDATE/DELETE on an audited
  table writes ``audit_log`` rows from inside SQLite, so every write path is
  covered: the registry, bulk imports, sync import, other engineers' services
  and even a raw ``sqlite3`` session.  An update writes one row per changed
  field (old → new); an insert or a hard delete writes one row with a JSON
  snapshot of the record.  Derived columns (search keys, revision counters,
  stamps) are not logged.  The operator is the row's ``updated_by`` stamp,
  which :meth:`Store.stamp` fills with the logged-in operator (for a sync
  import: the operator at the site that made the change).
* **Adding a table is one line**: add it to :data:`AUDITED_TABLES`.  Triggers
  are (re)generated from the live columns whenever a store is opened
  (:func:`refresh_triggers`), so a column added by a later migration is
  audited without touching this module.
* **Hash chain, sealed before commit.**  Triggers cannot hash (SQLite has no
  SHA-256 and a registered SQL function would make every write by a plain
  ``sqlite3`` session fail), so rows are written with ``hash IS NULL`` and
  :func:`seal` chains them — ``hash = sha256(previous hash + row)`` — inside
  the same transaction, just before COMMIT (a ``Store.before_commit`` hook).
  Bulk work seals tens of thousands of rows in one pass.  A transaction seals
  only what it wrote: rows written outside mzdesk (a raw ``sqlite3`` session)
  are found when the next transaction begins and recorded as tampering before
  they are sealed (``models/audit_guard.py``), never adopted silently.
* **Append-only**: guard triggers refuse DELETE and any UPDATE except sealing.
  Someone who drops the guards and edits or removes an entry breaks the chain
  and :func:`verify` names the first broken entry.  Someone who recomputes the
  whole chain is caught by the signed checkpoints of the chain head
  (``mzdesk/sync/checkpoints.py``), kept here and by every peer that received them.
* **Triggers and accounts checked at open** (``audit_guard``): a dropped or altered
  trigger, an account row that disagrees with the chain.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

# table -> columns whose values are secret (logged as '***' and a fingerprint; shown as '***')
AUDITED_TABLES: dict[str, tuple[str, ...]] = {
    "site": (),
    "households": (),
    "members": (),
    "enrolments": (),
    "visits": (),
    "care_booklets": (),
    "followup_tasks": (),
    "operators": ("pw_hash",),
    "declared_relatives": (),
    "standards": (),
    "recoveries": (),
    "payment_runs": (),
    "cases": (),
    "audit_findings": (),
}

# derived or bookkeeping columns: logging them would only add noise
SKIP_COLUMNS = frozenset(
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

GENESIS = "0" * 64
_FIELDS = (
    "seq",
    "at",
    "operator",
    "tbl",
    "record_id",
    "record_uid",
    "household_id",
    "action",
    "field",
    "old",
    "new",
)
_NOW = "strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime')"


def create_schema(conn: sqlite3.Connection) -> None:
    """Tables of the audit trail; called by the migration that introduces it."""
    for sql in """
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
    """.split(";\n"):
        if sql.strip():
            conn.execute(sql)


# -- triggers -----------------------------------------------------------------
def _columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [(r[1], (r[2] or "").upper()) for r in conn.execute(f"PRAGMA table_info({table})")]


# in an insert trigger's VALUES, what comes between the entry's head and its ``new`` (the
# row's snapshot); bulk.insert_many finds the snapshot by it to put a reference instead
INSERT_BEFORE_NEW = ", 'insert', '', NULL, "


def trigger_sql(conn: sqlite3.Connection, table: str) -> dict[str, str]:
    """The three trigger statements for ``table``, named ``audit_<table>_<action>``."""
    cols = _columns(conn, table)
    names = {c for c, _ in cols}
    secret = set(AUDITED_TABLES.get(table, ()))
    logged = [c for c, t in cols if c not in SKIP_COLUMNS and c != "id" and "BLOB" not in t]

    def ref(row: str, col: str) -> str:
        return (
            # a fingerprint (the last 16 characters), so that the value as it is can be
            # checked against the chain (audit_guard.account_problems) without keeping it
            f"CASE WHEN {row}.{col} IS NULL THEN NULL ELSE '***' || substr({row}.{col}, -16) END"
            if col in secret
            else f"{row}.{col}"
        )

    def snapshot(row: str) -> str:
        # merge-patching onto {} drops the null members: empty fields cost nothing
        pairs = ", ".join(f"'{c}', NULLIF({ref(row, c)}, '')" for c in logged)
        return f"json_patch('{{}}', json_object({pairs}))"

    def head(row: str) -> str:
        uid = f"{row}.uid" if "uid" in names else "NULL"
        hh = (
            f"{row}.id"
            if table == "households"
            else (f"{row}.household_id" if "household_id" in names else "NULL")
        )
        who = f"COALESCE({row}.updated_by, '')" if "updated_by" in names else "''"
        return f"{_NOW}, {who}, '{table}', {row}.rowid, {uid}, {hh}"

    cols_sql = "(at, operator, tbl, record_id, record_uid, household_id, action, field, old, new)"
    changes = " UNION ALL ".join(
        f"SELECT '{c}' AS f, {ref('OLD', c)} AS o, {ref('NEW', c)} AS n, "
        f"OLD.{c} IS NOT NEW.{c} AS d"
        for c in logged
    )
    return {
        f"audit_{table}_insert": (
            f"CREATE TRIGGER audit_{table}_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO audit_log {cols_sql} VALUES ({head('NEW')}{INSERT_BEFORE_NEW}"
            f"{snapshot('NEW')}); END"
        ),
        f"audit_{table}_update": (
            f"CREATE TRIGGER audit_{table}_update AFTER UPDATE ON {table} BEGIN "
            f"INSERT INTO audit_log {cols_sql} SELECT {head('NEW')}, 'update', f, o, n "
            f"FROM ({changes}) WHERE d; END"
        ),
        f"audit_{table}_delete": (
            f"CREATE TRIGGER audit_{table}_delete AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO audit_log {cols_sql} VALUES ({head('OLD')}, 'delete', '', "
            f"{snapshot('OLD')}, NULL); END"
        ),
    }


def refresh_triggers(conn: sqlite3.Connection) -> int:
    """(Re)create audit triggers whose SQL differs from the live columns, and record them as
    installed (``audit_guard``); returns 1 when anything changed.  Call inside a transaction.
    """
    from . import audit_guard

    if not has_audit(conn):
        return 0
    return int(audit_guard.install_triggers(conn))


def triggers_stale(conn: sqlite3.Connection) -> bool:
    from . import audit_guard

    return has_audit(conn) and audit_guard.triggers_need_work(conn)


# -- bulk writes: see mzdesk.models.bulk.insert_many ------------------------------
_STAGE_MIN = 64  # below this many rows a staging table costs more than it saves


# -- the hash chain -------------------------------------------------------------
def entry_hash(prev: str, row: tuple) -> str:
    """sha256 over the previous hash and the entry's fields (unit separator between)."""
    return text_hash(prev, entry_text(row))


def entry_text(row: tuple) -> str:
    """The entry's fields as hashed: unit separator between, NUL for NULL."""
    return "\x1f".join(["\x00" if v is None else str(v) for v in row])


def text_hash(prev: str, text: str) -> str:
    """The chain step of :func:`entry_hash`, given the entry's fields already joined."""
    return hashlib.sha256(f"{prev}\x1f{text}".encode()).hexdigest()


def entry_text_sql(exprs: list[str]) -> str:
    """SQL giving :func:`entry_text` of these field expressions: equal to it for TEXT,
    INTEGER and NULL values (a REAL or BLOB is written
    differently by SQLite than by Python's ``str``; callers check there is none)."""
    return " || char(31) || ".join(f"coalesce(CAST({e} AS TEXT), char(0))" for e in exprs)


def has_audit(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'"
        ).fetchone()
        is not None
    )


def seal(conn: sqlite3.Connection) -> int:
    """Chain every unsealed entry; returns how many were sealed.  Call inside a transaction."""
    if not has_audit(conn):
        return 0
    first = conn.execute("SELECT min(seq) FROM audit_log WHERE hash IS NULL").fetchone()[0]
    if first is None:
        return 0
    prev = conn.execute(
        "SELECT hash FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT 1", (first,)
    ).fetchone()
    prev_hash = prev[0] if prev and prev[0] else GENESIS
    rows = conn.execute(
        f"SELECT {', '.join(_FIELDS)} FROM audit_log WHERE seq >= ? ORDER BY seq", (first,)
    ).fetchall()
    updates = []
    for row in rows:
        prev_hash = entry_hash(prev_hash, row)
        updates.append((row[0], prev_hash))
    if len(updates) < _STAGE_MIN:
        conn.executemany(
            "UPDATE audit_log SET hash = ? WHERE seq = ? AND hash IS NULL",
            [(h, q) for q, h in updates],
        )
        return len(updates)
    # one UPDATE statement for the lot (see bulk.insert_many: one statement journal, not one per row)
    conn.execute("DROP TABLE IF EXISTS temp.mz_seal")
    conn.execute("CREATE TABLE temp.mz_seal (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL)")
    try:
        conn.executemany("INSERT INTO temp.mz_seal VALUES (?, ?)", updates)
        conn.execute(
            "UPDATE audit_log SET hash = (SELECT s.hash FROM temp.mz_seal s WHERE s.seq = audit_log.seq) "
            "WHERE seq >= ? AND hash IS NULL AND seq IN (SELECT seq FROM temp.mz_seal)",
            (first,),
        )
    finally:
        conn.execute("DROP TABLE IF EXISTS temp.mz_seal")
    return len(updates)


_CONSTRAINT_DATATYPE = 3091  # SQLITE_CONSTRAINT_DATATYPE: a STRICT table refused a value


def insert_sealed(conn: sqlite3.Connection, columns: str, select_sql: str, params=()) -> int:
    """``INSERT INTO audit_log (columns) <select_sql>`` with every entry chained as it is
    written, so a bulk write needs no sealing ``UPDATE`` afterwards.

    ``columns`` are the trigger's (``at, operator, … new``); the rows are first collected in
    a temp table (contiguous rowids), then moved with explicit ``seq`` numbers while a SQL
    function chains them in order.  The function checks that it sees every ``seq`` once and
    in order; anything else aborts the statement (and with it the transaction) rather than
    write a chain that :func:`verify` would reject.  Returns the number of entries.
    """
    seal(conn)  # the chain head must be current
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    top = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
    base = max(row[0] if row else 0, top[0] if top and top[0] else 0)
    state: dict[str, Any] = {"prev": row[1] if row and row[1] else GENESIS, "next": base + 1}
    cols = [c.strip() for c in columns.split(",")]
    if tuple(cols) != _FIELDS[1:]:
        raise ValueError(f"audit columns out of order: {cols}")

    def chain_text(seq, text):  # text: entry_text_sql of the entry's fields
        if seq != state["next"]:
            raise ValueError(f"audit entry {seq} out of order (expected {state['next']})")
        state["next"] += 1
        state["prev"] = text_hash(state["prev"], text)
        return state["prev"]

    def chain(*fields):
        return chain_text(fields[0], entry_text(fields))

    # declared like audit_log's columns: each value is converted (affinity) before it is
    # hashed, so the chain covers what audit_log stores and verify reads back
    types = {r[1]: r[2] for r in conn.execute("PRAGMA table_info(audit_log)")}
    declared = ", ".join(f"{c} {types[c]}" for c in cols)

    def collect(strict: bool) -> None:
        conn.execute("DROP TABLE IF EXISTS temp.mz_audit")
        conn.execute(f"CREATE TABLE temp.mz_audit ({declared}){' STRICT' if strict else ''}")
        conn.execute(f"INSERT INTO temp.mz_audit ({columns}) {select_sql}", params)

    try:
        # the entry text is built by SQLite when every value is TEXT, INTEGER or NULL (always,
        # for the triggers' own entries): one argument to convert per entry, not eleven.  A
        # STRICT table refuses anything else (a BLOB, a REAL an INTEGER column cannot hold)
        # as it is filled, where a typeof() scan of every value took 1 s at 390k entries
        plain = False
        if sqlite3.sqlite_version_info >= (3, 37):
            try:
                collect(strict=True)
                plain = True
            except sqlite3.IntegrityError as e:
                if getattr(e, "sqlite_errorcode", None) != _CONSTRAINT_DATATYPE:
                    raise
        if not plain:
            collect(strict=False)
            odd = " OR ".join(f"typeof({c}) IN ('real', 'blob')" for c in cols)
            plain = (
                conn.execute(f"SELECT 1 FROM temp.mz_audit WHERE {odd} LIMIT 1").fetchone() is None
            )
        if plain:
            conn.create_function("mz_chain", 2, chain_text)
            text = entry_text_sql([f"rowid + {base}", *cols])
            chained = f"mz_chain(rowid + {base}, {text})"
        else:
            conn.create_function("mz_chain", len(_FIELDS), chain)
            chained = f"mz_chain(rowid + {base}, {columns})"
        conn.execute(
            f"INSERT INTO audit_log (seq, {columns}, hash) SELECT rowid + {base}, {columns}, "
            f"{chained} FROM temp.mz_audit ORDER BY rowid"
        )
    finally:
        conn.execute("DROP TABLE IF EXISTS temp.mz_audit")
        conn.create_function("mz_chain", 2, None)
        conn.create_function("mz_chain", len(_FIELDS), None)
    return state["next"] - base - 1


# called with the store after the sealing of each commit (the daily signed checkpoint,
# registered at start by mzdesk.hooks: models cannot import sync, where the key is)
after_seal: list = []


def _seal_own(store) -> None:
    seal(store.conn)
    for hook in after_seal:
        hook(store)


def install(store) -> None:
    """Before migrations run: every transaction first checks for entries written outside
    mzdesk (``audit_guard.check_pending``: recorded as a finding, never sealed silently),
    then seals its own entries just before COMMIT."""
    from . import audit_guard

    store.after_begin.append(audit_guard.check_pending)
    store.before_commit.append(_seal_own)


def attach(store) -> None:
    """After migrations: the triggers and accounts checked (``audit_guard.on_open``), the
    triggers made current."""
    from . import audit_guard

    audit_guard.on_open(store)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    head: str
    problem: str = ""
    broken_seq: int | None = None
    unsealed: int = 0

    def message(self) -> str:
        if self.ok:
            return f"审计记录完整：共{self.checked}条，链头 {self.head}"
        return self.problem


def verify(conn: sqlite3.Connection) -> VerifyResult:
    """Recompute the chain; name the first entry that was edited, removed or never sealed.

    Reads one snapshot (one read transaction): entries another program appends between
    reading the chain and its top would otherwise look deleted (seen in bench_soak.py)."""
    if conn.in_transaction:
        return _verify(conn)
    conn.execute("BEGIN")
    try:
        return _verify(conn)
    finally:
        conn.execute("ROLLBACK")


def _verify(conn: sqlite3.Connection) -> VerifyResult:
    prev_hash, expected, checked = GENESIS, None, 0
    cur = conn.execute(f"SELECT {', '.join(_FIELDS)}, hash FROM audit_log ORDER BY seq")
    for row in cur:
        seq, stored = row[0], row[-1]
        if expected is not None and seq != expected:
            return VerifyResult(
                False,
                checked,
                prev_hash,
                f"审计记录第{expected}条（至第{seq - 1}条）已被删除",
                expected,
            )
        if stored is None:
            unsealed = conn.execute("SELECT count(*) FROM audit_log WHERE hash IS NULL").fetchone()[
                0
            ]
            return VerifyResult(
                False,
                checked,
                prev_hash,
                f"审计记录第{seq}条未封存：自该条起共{unsealed}条不是由mzdesk写入",
                seq,
                unsealed,
            )
        prev_hash = entry_hash(prev_hash, row[:-1])
        if prev_hash != stored:
            return VerifyResult(
                False,
                checked,
                prev_hash,
                f"审计记录第{seq}条被改动（{row[3]} 记录{row[4]} {row[8] or row[7]}）",
                seq,
            )
        checked += 1
        expected = seq + 1
    top = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
    if top and top[0] is not None and (expected or 1) <= top[0]:
        return VerifyResult(
            False,
            checked,
            prev_hash,
            f"审计记录第{expected or 1}条至第{top[0]}条已被删除",
            expected or 1,
        )
    return VerifyResult(True, checked, prev_hash)


# -- reading ------------------------------------------------------------------------
@dataclass
class Change:
    seq: int
    at: str
    operator: str
    table: str
    record_id: int | None
    record_uid: str | None
    household_id: int | None
    action: str
    field: str
    old: str | None
    new: str | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


SECRET_TABLES = frozenset(t for t, cols in AUDITED_TABLES.items() if cols)


def _hidden(table: str, field: str, value: str | None) -> str | None:
    """A secret column's logged value as shown: its fingerprint stays in the chain only."""
    secret = AUDITED_TABLES[table]
    if value is None or (field and field not in secret):
        return value
    if field:
        return "***"
    if not value.startswith("{"):
        return value
    data = json.loads(value)
    for k in set(secret) & data.keys():
        data[k] = "***"
    return json.dumps(data, ensure_ascii=False)


ID_FIELDS = frozenset({"id_number", "id_raw", "disability_cert", "bank_account"})


def _masked(field: str, value: str | None) -> str | None:
    from .ids import mask_id

    if value is None:
        return None
    if field in ID_FIELDS:
        return mask_id(value) if field != "bank_account" else (value[:4] + "****" if value else "")
    if field == "" and value.startswith("{"):
        data = json.loads(value)
        for k in ID_FIELDS & data.keys():
            if data[k]:
                data[k] = _masked(k, str(data[k]))
        return json.dumps(data, ensure_ascii=False)
    return value


def sync_source(sender: str, sequence: int, sha256: str) -> str:
    """The ``new`` of the audit entry of a record inserted from a sync batch: the batch
    (kept verbatim in ``sync_batches``, signed by its sender) holds the record as it came."""
    return json.dumps({"sync_batch": {"sender": sender, "sequence": sequence, "sha256": sha256}})


def describe_new(new: str | None) -> str | None:
    """``new`` as the clerk reads it: a sync-batch reference in words, anything else as is."""
    if new and new.startswith('{"sync_batch": '):
        try:
            b = json.loads(new)["sync_batch"]
            return (
                f"随站点 {b['sender']} 第 {b['sequence']} 批同步新增（原样保存在该批次中，"
                f"SHA-256 {b['sha256'][:12]}…）"
            )
        except (ValueError, KeyError, TypeError):
            return new
    return new


def history(
    conn: sqlite3.Connection,
    household_id: int | None = None,
    operator: str | None = None,
    table: str | None = None,
    limit: int = 500,
    mask: bool = True,
) -> list[Change]:
    """Latest changes first, filtered per household and/or operator.

    Changes to one field of one record in the same second are shown as one net
    change by the last writer (the registry frees and re-sets ID numbers while
    saving a household; that round trip is not a change).  With ``mask`` the ID
    numbers and account numbers are masked (``mask_id``).
    """
    where: list[str] = []
    params: list[object] = []
    if household_id is not None:
        where.append("household_id = ?")
        params.append(household_id)
    if operator:
        where.append("operator = ?")
        params.append(operator)
    if table:
        where.append("tbl = ?")
        params.append(table)
    sql = f"SELECT {', '.join(_FIELDS)} FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq DESC LIMIT ?"
    rows = conn.execute(sql, (*params, limit * 3)).fetchall()
    net: dict[tuple, list] = {}
    for row in reversed(rows):  # oldest first
        key = (row[1], row[3], row[4], row[8]) if row[7] == "update" else (row[0],)
        if key in net:
            net[key][10] = row[10]
            net[key][0], net[key][2] = row[0], row[2]
        else:
            net[key] = list(row)
    out = []
    for r in net.values():
        if r[7] == "update" and r[9] == r[10] and r[9] != "***":
            continue
        if r[3] in SECRET_TABLES:
            r[9], r[10] = _hidden(r[3], r[8], r[9]), _hidden(r[3], r[8], r[10])
        if mask:
            r[9], r[10] = _masked(r[8], r[9]), _masked(r[8], r[10])
        if r[7] == "insert":
            r[10] = describe_new(r[10])
        out.append(Change(*r))
    out.sort(key=lambda c: c.seq, reverse=True)
    return out[:limit]


def operators(conn: sqlite3.Connection) -> list[str]:
    """Everyone who appears in the trail (the audit view's operator filter)."""
    return [r[0] for r in conn.execute("SELECT DISTINCT operator FROM audit_log ORDER BY 1")]
