"""The change log (outbox): which records changed since the last batch to a site.

* **One list**: :data:`SYNCED_TABLES` names every table that travels, parents
  before children.  A table needs a stable ``uid`` column; its foreign keys are
  read from the schema and travel as the referenced record's uid
  (``household_id`` → ``household_uid``).  Adding a table is one line here;
  its triggers are created (and its existing rows queued once) the next time
  a batch is made or read (:func:`ensure_triggers`).
* **Triggers** write ``(tbl, uid, op, changed_at)`` into ``sync_changes``
  on every INSERT/UPDATE/DELETE, whoever writes (registry, services, imports,
  a raw sqlite3 session).  One row per record (``INSERT OR REPLACE``), so the
  log never grows beyond the number of records; ``seq`` orders it.
* Deletions in mzdesk are soft (``status = 'deleted'``) and travel as updates;
  a hard DELETE still leaves a tombstone (``op = 'delete'``).
* **Bases**: ``sync_base`` keeps, per peer site and record, the hash of the
  last content both sides are known to have had (what the peer sent us, or
  what we sent and it acknowledged) and the stored batch that holds that
  content (``batch_id``; read back only for a field-level merge);
  ``sync_pending`` keeps the hashes sent in each batch not yet acknowledged.  Export skips records whose content the
  peer has or is about to get (no echo); import merges local and incoming
  against ``body`` (three-way, field by field), so batches that cross in the
  post never pass for one another's ancestors.  ``force`` sends a record in
  the next batch even if the peer has it (a conflict decision must reach it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import operator
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

# Parents before children.  Add new tables here (with a ``uid`` column).
SYNCED_TABLES: tuple[str, ...] = (
    "households",
    "members",
    "enrolments",
    "enrolment_events",
    "enrolment_components",
    "notices",
    "notice_items",
    "objections",
    "care_booklets",
    "visits",
    "visit_photos",
    "followup_tasks",
    "spot_checks",
    "spot_check_items",
    "declared_relatives",
    "standards",
    "recoveries",
    "site_settings",
    "review_plans",
    "survival_checks",
    "payment_runs",
    "payment_run_lines",
    "cases",
)

# Tables with a ``uid`` that stay at their site (a test checks every uid table is in one list).
LOCAL_TABLES: dict[str, str] = {
    "import_batches": "roster import bookkeeping of this office",
    "sync_base": "sync bookkeeping",
    "sync_changes": "sync bookkeeping",
    "sync_conflicts": "sync bookkeeping",
    "sync_pending": "sync bookkeeping",
}

# bookkeeping columns: they travel, but never make two versions "different"
META_COLUMNS = frozenset({"rev", "created_at", "created_by", "updated_at", "updated_by"})

_NOW = "strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime')"


def create_schema(conn: sqlite3.Connection) -> None:
    """Sync bookkeeping tables; called once by the migration that introduces sync."""
    for sql in """
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
    """.split(";"):
        if sql.strip():
            conn.execute(sql)
    ensure_triggers(conn)


def _table_exists(conn: sqlite3.Connection, table: str) -> bool:
    return bool(
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
    )


def synced_tables(conn: sqlite3.Connection) -> list[str]:
    """The registered tables this database has (older files may lack later ones)."""
    return [t for t in SYNCED_TABLES if _table_exists(conn, t)]


def ensure_triggers(conn: sqlite3.Connection) -> list[str]:
    """Create missing change-log triggers; queue the existing rows of a newly covered table.

    Returns the tables that were newly covered.
    """
    if not _table_exists(conn, "sync_changes"):
        return []
    added = []
    for t in synced_tables(conn):
        name = f"sync_log_{t}_upd"
        if conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
        ).fetchone():
            continue
        for event, row, op in (
            ("INSERT", "NEW", "upsert"),
            ("UPDATE", "NEW", "upsert"),
            ("DELETE", "OLD", "delete"),
        ):
            conn.execute(
                f"CREATE TRIGGER sync_log_{t}_{event[:3].lower()} AFTER {event} ON {t} BEGIN "
                f"INSERT OR REPLACE INTO sync_changes (tbl, uid, op, changed_at) "
                f"VALUES ('{t}', {row}.uid, '{op}', {_NOW}); END"
            )
        conn.execute(
            f"INSERT OR IGNORE INTO sync_changes (tbl, uid, op, changed_at) "
            f"SELECT '{t}', uid, 'upsert', {_NOW} FROM {t} ORDER BY id"
        )
        added.append(t)
    return added


def log_position(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(seq), 0) FROM sync_changes").fetchone()[0]


# -- rows as they travel -----------------------------------------------------------


@dataclass
class TableCodec:
    """How one table's rows look in a batch: local ids out, uids in."""

    table: str
    columns: list[str]  # every column but ``id``
    fks: dict[str, str] = field(default_factory=dict)  # local column -> referenced table
    blobs: set[str] = field(default_factory=set)
    has_status: bool = False

    def __post_init__(self) -> None:
        self._content = [c for c in self.columns if c != "uid" and c not in META_COLUMNS]
        self._meta = [c for c in self.columns if c in META_COLUMNS]
        # (column, wire name, kind): kind 0 plain, 1 foreign key, 2 blob
        self._plan = [
            (
                c,
                self.wire_name(c) if c in self.fks else c,
                1 if c in self.fks else 2 if c in self.blobs else 0,
            )
            for c in self._content
        ]
        self._plain_only = all(k == 0 for _, _, k in self._plan)
        # the fast path for new rows: one C-level lookup of every wire name, then fix-ups
        self._wires = [w for _, w, _ in self._plan]
        self._fix = [
            (i, kind, self.fks.get(c)) for i, (c, _, kind) in enumerate(self._plan) if kind
        ]
        self._blob_fix = [f for f in self._fix if f[1] == 2]  # parents left as uids
        self._get_content = _getter(self._wires)
        self._get_meta = _getter(self._meta)

    def insert_columns(self) -> tuple[str, ...]:
        """The columns of :meth:`insert_row`: content, meta, uid."""
        return (*(c for c, _, _ in self._plan), *self._meta, "uid")

    def insert_row(
        self, content: dict, meta: dict, uid: str, id_of: dict[str, dict[str, int]] | None
    ):
        """The row to insert for a new record, as a tuple in :meth:`insert_columns` order; None
        when the record lacks a column (an older sender: :meth:`decode` leaves defaults) or
        names a parent not here (the caller reports it).  ``id_of`` None: parents stay as
        their uids (mzdesk.sync.staging resolves them in SQL)."""
        try:
            values = self._get_content(content)
            metas = self._get_meta(meta)
        except KeyError:
            return None
        fix = self._fix if id_of is not None else self._blob_fix
        if fix:
            values = list(values)
            for i, kind, parent in fix:
                v = values[i]
                if v is None:
                    continue
                if kind == 1:
                    assert id_of is not None and parent is not None  # kind 1: not a blob fix
                    v = id_of[parent].get(v)
                    if v is None:
                        return None
                    values[i] = v
                elif isinstance(v, dict):
                    values[i] = blob(v)
        return (*values, *metas, uid)

    @classmethod
    def load(cls, conn: sqlite3.Connection, table: str) -> TableCodec:
        info = conn.execute(f"PRAGMA table_info({table})").fetchall()
        cols = [r[1] for r in info if r[1] != "id"]
        fks = {r[3]: r[2] for r in conn.execute(f"PRAGMA foreign_key_list({table})")}
        blobs = {r[1] for r in info if (r[2] or "").upper() == "BLOB"}
        return cls(table, cols, fks, blobs, "status" in cols)

    @staticmethod
    def wire_name(col: str) -> str:
        return col[:-3] + "_uid" if col.endswith("_id") else col + "_uid"

    def content_columns(self) -> list[str]:
        return self._content

    def meta_columns(self) -> list[str]:
        return self._meta

    def encode(self, row: dict, uid_of: dict[str, dict[int, str]]) -> tuple[str, dict, str]:
        """(uid, meta, content JSON) of a local row; content JSON is canonical (sorted keys)."""
        content = {}
        fks = self.fks
        for c, w, kind in self._plan:
            v = row[c]
            if kind == 0 or v is None:
                content[w] = v
            elif kind == 1:
                content[w] = uid_of[fks[c]][v]
            else:
                content[w] = {"$b64": base64.b64encode(v).decode("ascii")}
        meta = {c: row[c] for c in self._meta}
        return row["uid"], meta, canonical(content)

    def decode(self, content: dict, id_of: dict[str, dict[str, int]]) -> tuple[dict, list[str]]:
        """Local column values for incoming content; also the wire names of missing parents."""
        out, missing = {}, []
        for c, w, kind in self._plan:
            if w not in content:
                continue  # an older sender's batch: the column keeps its default
            v = content[w]
            if kind == 0 or v is None:
                out[c] = v
            elif kind == 1:
                ref = id_of[self.fks[c]].get(v)
                if ref is None:
                    missing.append(w)
                else:
                    out[c] = ref
            else:
                out[c] = blob(v) if isinstance(v, dict) else v
        return out, missing


class BadValue(ValueError):
    """A value in a batch's row that cannot be what its column holds (a sender's bug)."""


def blob(v: dict) -> bytes:
    """A BLOB as it travels, ``{"$b64": "…"}``, back to bytes; BadValue when it is not one."""
    try:
        return base64.b64decode(v["$b64"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadValue(f'二进制字段不是 {{"$b64": …}} 形式（{type(exc).__name__}）') from None


def _getter(keys: list[str]):
    """keys -> a function giving a tuple of ``d[k]`` (KeyError when one is missing)."""
    if not keys:
        return lambda d: ()
    if len(keys) == 1:
        k = keys[0]
        return lambda d: (d[k],)
    return operator.itemgetter(*keys)


HASH_CHARS = 32  # hex digits of SHA-256 kept as a record's content hash


def content_hash(content_json: str | bytes) -> str:
    """The content hash of a record (its content JSON text, or that text in UTF-8)."""
    if isinstance(content_json, str):
        content_json = content_json.encode("utf-8")
    return hashlib.sha256(content_json).hexdigest()[:HASH_CHARS]


def content_hashes(contents: list[bytes]) -> list[str]:
    """:func:`content_hash` of many contents (UTF-8): one loop, no call per record."""
    sha = hashlib.sha256
    return [sha(c).hexdigest()[:HASH_CHARS] for c in contents]


# (uid, hash) pairs handed to SQLite in bulk as one JSON array of strings, each the hash
# (HASH_CHARS wide) followed by the uid; ``json_each`` yields them as ``value`` and these
# expressions split them.  Cheaper than an array per pair, which SQLite parses again for
# every field (446,669 sync_pending rows: 1.1 s against 1.6 s)
UID_SQL = f"substr(value, {HASH_CHARS + 1})"
HASH_SQL = f"substr(value, 1, {HASH_CHARS})"


def packed_hashes(uids: Sequence[str], hashes: Sequence[str]) -> bytes:
    """``uids`` and their content hashes for ``json_each`` (see :data:`UID_SQL`), in order."""
    if any(len(h) != HASH_CHARS for h in hashes):
        raise ValueError("content hashes must be HASH_CHARS wide")
    return orjson.dumps(list(map(str.__add__, hashes, uids)))


def _json_args(codec: TableCodec, household: tuple[str, str | None] | None):
    """(meta, content) ``json_object`` argument lists, the household id expression and the
    joins they need (one LEFT JOIN on the primary key per parent: cheaper than a correlated
    subquery per row, and NULL alike when the reference is NULL or dangling)."""
    args: list[str] = []
    joins: list[str] = []
    for c, w, kind in sorted(codec._plan, key=lambda p: p[1]):
        if kind == 1:
            j = f"j{len(joins)}"
            joins.append(f"LEFT JOIN {codec.fks[c]} {j} ON {j}.id = t.{c}")
            args.append(f"'{w}', {j}.uid")
        else:
            args.append(f"'{w}', t.{c}")
    meta = ", ".join(f"'{c}', t.{c}" for c in codec.meta_columns()) or ""
    if household is None:
        hh = "NULL"
    elif household[1] is None:
        hh = f"t.{household[0]}"
    else:
        joins.append(f"LEFT JOIN {household[1]} jh ON jh.id = t.{household[0]}")
        hh = "jh.household_id"
    return meta, ", ".join(args), hh, " ".join(joins)


def select_sql(codec: TableCodec, household: tuple[str, str | None] | None) -> str | None:
    """SQL giving (id, uid, meta JSON, canonical content JSON, household id) per row, encoded by
    SQLite itself (its json_object output equals :func:`canonical` for text, integers and NULL);
    None for tables with BLOBs, which go through :meth:`TableCodec.encode`."""
    if codec.blobs:
        return None
    meta, content, hh, joins = _json_args(codec, household)
    return (
        f"SELECT t.id, t.uid, json_object({meta}), json_object({content}), {hh} "
        f"FROM {codec.table} t {joins}"
    )


def line_sql(codec: TableCodec, household: tuple[str, str | None] | None) -> str | None:
    """SQL giving (uid, record head, content JSON, household id) per row, the head and content
    as UTF-8 BLOBs: head + content + ``}\\n`` is the record's line in a batch, the record
    :func:`mzdesk.sync.batch.record_line` writes (byte for byte with mzdesk's hex uids), so
    the export never decodes, formats and re-encodes a row in Python.  None for tables with
    BLOBs."""
    if codec.blobs:
        return None
    meta, content, hh, joins = _json_args(codec, household)
    head = '\'{"uid": \' || json_quote(t.uid) || \', "op": "upsert", "meta": \''
    return (
        f"SELECT t.uid, CAST({head} || json_object({meta}) || ', \"row\": ' AS BLOB), "
        f"CAST(json_object({content}) AS BLOB), {hh} FROM {codec.table} t {joins}"
    )


def canonical(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
