"""A PostgreSQL database behind the sqlite3 connection API the store is written against.

A county, city or province site can live in PostgreSQL (``Store.open("postgresql://…")``).
Every service, the batch importer and the statistics keep their one SQL: the connection
here (:class:`PgConnection`) takes SQLite's dialect and runs it on PostgreSQL through the
translator in ``models/pg_sql.py``; there is no second importer.

* **psycopg 3** is imported here only, lazily: a SQLite user never loads it.
* **The schema** is the current SQLite schema (a migrated in-memory database), each
  ``CREATE`` translated (types, integer keys with a sequence, indexes, triggers as plpgsql).
  The SQLite text of every object is kept in ``mz_sqlite_master``; a *shadow* in-memory
  SQLite database replays it, and answers what SQLite's catalogue answers
  (``sqlite_master``, ``PRAGMA table_info`` …), so audit_guard, the change log and the
  importer read the schema as they do on SQLite.
* **Audit triggers** are plpgsql written per table from the SQLite trigger's columns
  (SQLite's build JSON with ``NULLIF(integer, '')``, which PostgreSQL's types refuse); the
  entries are chained by the same Python code (``audit.seal``).
* **One writer at a time**, as on SQLite: ``BEGIN IMMEDIATE`` takes a transaction-level
  advisory lock.
* **Errors** come out as ``sqlite3`` exceptions (IntegrityError for a constraint or a
  trigger's RAISE, OperationalError otherwise) so callers' handling stays one.
* **Files of a URL site** (the site key, ``<db>.sync``) live in the user's data folder
  under ``pg/<host>-<port>-<database>-<hash>`` (``pg_url.files_stem``), with the same 0600
  rules.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from typing import Any

from . import pg_ddl, pg_sql
from .pg_url import files_stem, is_url, reason, safe_url
from .pg_values import PgRow, convert, is_pg_error, param, text_params, to_sqlite_error

__all__ = ["is_url", "safe_url", "reason", "connect", "create_schema", "files_stem"]

DIALECT = "postgresql"
LOCK_KEY = 0x4D5A444B  # the writers' advisory lock ("MZDK", as PRAGMA application_id)
META = "mz_meta"
MASTER = "mz_sqlite_master"


_BOOL_OID, _NUMERIC_OID, _BYTEA_OID = 16, 1700, 17


class PgCursor:
    """The part of ``sqlite3.Cursor`` the code base uses."""

    def __init__(self, conn: PgConnection):
        self._conn = conn
        self._cur: Any = conn.raw.cursor()
        self._rows: list | None = None
        self._names: tuple[str, ...] = ()
        self._fix = False
        self.lastrowid: int | None = None
        self.rowcount = -1
        self.description: Any = None
        self.row_factory = conn.row_factory
        self.arraysize = 1

    # -- running ------------------------------------------------------------------
    def execute(self, sql: str, params=()):
        self._conn._run(self, sql, params)
        return self

    def executemany(self, sql: str, seq):
        self._conn._run_many(self, sql, seq)
        return self

    def executescript(self, script: str):
        for stmt in pg_ddl.split_statements(script):
            if stmt.strip():
                self.execute(stmt)
        return self

    def _took(self, cur) -> None:
        self.rowcount = cur.rowcount
        desc = cur.description
        self.description = (
            tuple((d.name, None, None, None, None, None, None) for d in desc) if desc else None
        )
        self._names = tuple(d.name for d in desc) if desc else ()
        self._fix = bool(desc) and any(
            d.type_code in (_BOOL_OID, _NUMERIC_OID, _BYTEA_OID) for d in desc
        )

    # -- fetching -----------------------------------------------------------------
    def _wrap(self, row):
        if row is None:
            return None
        if self._fix:
            row = tuple(convert(v) for v in row)
        if self.row_factory is sqlite3.Row or self.row_factory is PgRow:
            return PgRow(row, self._names)
        if self.row_factory is not None:
            return self.row_factory(self, tuple(row))
        return row

    def fetchone(self):
        if self.description is None:
            return None
        return self._wrap(self._cur.fetchone())

    def fetchall(self):
        if self.description is None:
            return []
        return [self._wrap(r) for r in self._cur.fetchall()]

    def fetchmany(self, size: int | None = None):
        if self.description is None:
            return []
        return [self._wrap(r) for r in self._cur.fetchmany(size or self.arraysize)]

    def __iter__(self):
        if self.description is None:
            return
        while True:
            rows = self._cur.fetchmany(2000)
            if not rows:
                return
            for r in rows:
                yield self._wrap(r)

    def close(self) -> None:
        self._cur.close()


class PgConnection:
    """The subset of ``sqlite3.Connection`` the store, sync and statistics code uses."""

    dialect = DIALECT

    def __init__(self, url: str):
        import psycopg

        self.url = url
        from psycopg.conninfo import conninfo_to_dict

        from .store import BUSY_TIMEOUT_MS

        # a port that answers nothing fails after 10 s, not never (a URL's own
        # ?connect_timeout= wins)
        wait: dict[str, Any] = (
            {} if "connect_timeout" in conninfo_to_dict(url) else {"connect_timeout": 10}
        )
        self.raw = psycopg.connect(url, autocommit=True, cursor_factory=psycopg.RawCursor, **wait)
        # a second writer waits for the advisory lock as long as SQLite's busy_timeout,
        # then fails with LockNotAvailable ("database is locked": StoreError busy)
        self.raw.execute(f"SET lock_timeout = {int(BUSY_TIMEOUT_MS)}")
        text_params(self.raw)
        self.row_factory: Any = None
        self.isolation_level = None
        self.total_changes = 0
        self._lock = threading.RLock()
        self.shadow = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._schema: pg_sql.Schema | None = None
        self._outer_savepoint = ""
        self._bulk_ddl = False  # create_schema: the shadow is saved once at the end
        self._pending_ddl: list[str] = []
        self._chain_ok: bool | None = None  # pg_triggers: the server chains audit entries
        self.raw.execute("SET client_min_messages = warning")
        # "localtime" is this machine's, as SQLite's: the server may run in another zone
        offset = time.localtime().tm_gmtoff // 60
        hours, minutes = divmod(abs(offset), 60)
        sign = "-" if offset < 0 else "+"
        self.raw.execute(f"SET TIME ZONE INTERVAL '{sign}{hours:02d}:{minutes:02d}' HOUR TO MINUTE")
        self._load_shadow()

    # -- catalogue ------------------------------------------------------------------
    def initialised(self) -> bool:
        return self._scalar(f"SELECT to_regclass('{META}') IS NOT NULL")

    def empty(self) -> bool:
        return not self._scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = "
            "c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v'))"
        )

    def _scalar(self, sql: str, params=None):
        row = self.raw.execute(sql, params).fetchone()
        return row[0] if row is not None else None

    def _load_shadow(self) -> None:
        if not self._scalar(f"SELECT to_regclass('{MASTER}') IS NOT NULL"):
            return
        rows = self.raw.execute(f"SELECT type, sql FROM {MASTER} ORDER BY ord").fetchall()
        for _type, sql in rows:
            self.shadow.execute(sql)
        self._schema = None

    def _save_shadow(self) -> None:
        rows = self.shadow.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite_%' ORDER BY CASE type WHEN 'table' THEN 0 "
            "WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid"
        ).fetchall()
        self.raw.execute(f"DELETE FROM {MASTER}")
        with self.raw.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {MASTER} (ord, type, name, tbl_name, sql) "
                "VALUES ($1, $2, $3, $4, $5)",
                [(i, *r) for i, r in enumerate(rows)],
            )

    @property
    def schema(self) -> pg_sql.Schema:
        if self._schema is None:
            pk, columns, uniques = {}, {}, {}
            for (t,) in self.shadow.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                info = self.shadow.execute(f'PRAGMA table_info("{t}")').fetchall()
                columns[t] = [r[1] for r in info]
                pks = [r for r in info if r[5]]
                pk[t] = pks[0][1] if len(pks) == 1 and pks[0][2].upper() == "INTEGER" else ""
                keys = []
                if pks:
                    keys.append(tuple(r[1] for r in sorted(pks, key=lambda r: r[5])))
                for idx in self.shadow.execute(f'PRAGMA index_list("{t}")').fetchall():
                    if idx[2] and not idx[4]:  # unique, not partial
                        cols = tuple(
                            r[2] for r in self.shadow.execute(f'PRAGMA index_info("{idx[1]}")')
                        )
                        if cols not in keys:
                            keys.append(cols)
                uniques[t] = keys
            self._schema = pg_sql.Schema(pk, columns, uniques)
        return self._schema

    # -- the sqlite3.Connection API -----------------------------------------------------
    def cursor(self) -> PgCursor:
        return PgCursor(self)

    def execute(self, sql: str, params=()):
        return self.cursor().execute(sql, params)

    def executemany(self, sql: str, seq):
        return self.cursor().executemany(sql, seq)

    def executescript(self, script: str):
        return self.cursor().executescript(script)

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def commit(self) -> None:
        if self.in_transaction:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()
        self.shadow.close()

    def iterdump(self):
        """Every row of every table as an INSERT line (sorted, like SQLite's dump of the
        data): enough to tell whether anything changed, not a restorable dump (pg_dump is)."""
        names = [
            r[0]
            for r in self.shadow.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        for t in names:
            for row in self.raw.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall():
                yield f'INSERT INTO "{t}" VALUES{tuple(convert(v) for v in row)!r};'

    def create_function(self, name, narg, fn, **_kw) -> None:
        """SQL functions written in Python do not exist on a server: the ones the schema
        needs are created in SQL (``pg_sql.FUNCTIONS_SQL``); callers that chain rows in
        Python take the PostgreSQL path (``audit.insert_sealed``)."""

    def interrupt(self) -> None:
        self.raw.cancel()

    # -- statements ---------------------------------------------------------------
    def _run(self, cur: PgCursor, sql: str, params) -> None:
        special = self._special(cur, sql, params)
        if special:
            return
        t = pg_sql.statement(sql, self.schema)
        args = _bind(t.params, params)
        try:
            cur._cur.execute(t.sql, args)
        except Exception as exc:
            if is_pg_error(exc):
                err = to_sqlite_error(exc)
                err.add_note(f"PostgreSQL statement: {t.sql}")
                raise err from exc
            raise
        cur._took(cur._cur)
        if t.explicit_key:
            self._bump(t.explicit_key)
        if t.returning:
            row = cur._cur.fetchone() if cur._cur.description else None
            if row is not None:
                cur.lastrowid = row[0]
            cur.description = None
        if cur.rowcount and cur.rowcount > 0:
            self.total_changes += cur.rowcount

    def _run_many(self, cur: PgCursor, sql: str, seq) -> None:
        t = pg_sql.statement(sql, self.schema)
        text = t.sql
        if t.returning:
            text = text[: text.rfind(" RETURNING ")]
        rows = [_bind(t.params, p) for p in seq]
        if not rows:
            cur.rowcount = 0
            return
        copy = _PLAIN_INSERT.match(text) if len(rows) >= COPY_MIN else None
        if copy is not None and _in_order(copy.group("params")):
            from .pg_triggers import copy_rows

            table = copy.group("table")
            cols = [c.strip().strip('"') for c in (copy.group("cols") or "").split(",") if c]
            if not cols:
                cols = self._columns(table)[: len(rows[0])]
            copy_rows(self, table, cols, rows)
            cur.rowcount = len(rows)
            cur.description = None
            if t.explicit_key:
                self._bump(t.explicit_key)
            return
        try:
            cur._cur.executemany(text, rows)
        except Exception as exc:
            if is_pg_error(exc):
                raise to_sqlite_error(exc) from exc
            raise
        cur.rowcount = cur._cur.rowcount
        cur.description = None
        self.total_changes += max(cur.rowcount, 0)
        if t.explicit_key:
            self._bump(t.explicit_key)

    def _columns(self, table: str) -> list[str]:
        """A table's columns in order (a temp table's own, without its ``rowid``)."""
        rows = self.raw.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            (table,),
        ).fetchall()
        return [r[0] for r in rows if r[0] != "rowid" or not table.startswith("pg_temp.")]

    def _bump(self, table: str) -> None:
        """After rows written with their own integer keys: the table's sequence past them
        (SQLite's next rowid is max + 1)."""
        if table == "audit_log":
            return  # numbered by max + 1 in its trigger
        pk = self.schema.pk.get(table)
        if pk:
            self.raw.execute(
                f"SELECT setval('{table}_{pk}_mzseq', m) FROM (SELECT max(\"{pk}\") AS m "
                f'FROM "{table}") x WHERE m > coalesce(pg_sequence_last_value('
                f"'{table}_{pk}_mzseq'), 0)"
            )

    def _lock_writers(self) -> None:
        """The writers' advisory lock, waited for up to ``lock_timeout``; a timeout is
        SQLite's "database is locked" (StoreError busy), the transaction rolled back."""
        try:
            self.raw.execute(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
        except Exception as exc:
            if not is_pg_error(exc):
                raise
            self.raw.execute("ROLLBACK")
            raise to_sqlite_error(exc) from exc

    def _special(self, cur: PgCursor, sql: str, params) -> bool:
        """PRAGMAs, the catalogue, transactions and DDL; True when handled."""
        head = sql.lstrip()[:40].upper()
        if head.startswith("PRAGMA"):
            self._pragma(cur, sql)
            return True
        if "SQLITE_MASTER" in sql.upper() or "SQLITE_SCHEMA" in sql.upper():
            shadow = self.shadow.execute(sql, params)
            _adopt_sqlite_cursor(cur, shadow)
            return True
        if head.startswith("BEGIN"):
            self.raw.execute("BEGIN")
            if "IMMEDIATE" in head or "EXCLUSIVE" in head:
                self._lock_writers()
            _empty(cur)
            return True
        if head.startswith(("COMMIT", "END")):
            self._outer_savepoint = ""
            self.commit()
            _empty(cur)
            return True
        if head.startswith("SAVEPOINT") and not self.in_transaction:
            # SQLite: a SAVEPOINT outside a transaction begins one, its RELEASE commits
            self.raw.execute("BEGIN")
            self._lock_writers()
            self._outer_savepoint = sql.split()[1].lower()
            self.raw.execute(sql)
            _empty(cur)
            return True
        if head.startswith("RELEASE") and self._outer_savepoint:
            name = sql.split()[-1].lower()
            self.raw.execute(sql)
            if name == self._outer_savepoint:
                self._outer_savepoint = ""
                self.commit()
            _empty(cur)
            return True
        if head.startswith("ROLLBACK") and "TO" not in head.split():
            self._outer_savepoint = ""
            self.rollback()
            _empty(cur)
            return True
        if re.match(r"^\s*(CREATE|DROP|ALTER)\b", sql, re.IGNORECASE):
            self.ddl(sql)
            _empty(cur)
            return True
        if re.match(r"^\s*(ANALYZE|VACUUM|REINDEX)\b", sql, re.IGNORECASE):
            if self.in_transaction or not head.startswith("VACUUM"):
                self.raw.execute("ANALYZE" if head.startswith("ANALYZE") else "SELECT 1")
            _empty(cur)
            return True
        return False

    # -- PRAGMA ---------------------------------------------------------------------
    _SHADOW_PRAGMAS = {
        "table_info",
        "table_xinfo",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
    }

    def _pragma(self, cur: PgCursor, sql: str) -> None:
        m = re.match(
            r"^\s*PRAGMA\s+(?:\w+\.)?(\w+)\s*(?:=\s*(.+?)|\((.*)\))?\s*;?\s*$", sql, re.I | re.S
        )
        if not m:
            raise sqlite3.OperationalError(f"PRAGMA not understood on PostgreSQL: {sql}")
        name, value, arg = m.group(1).lower(), m.group(2), m.group(3)
        if name in self._SHADOW_PRAGMAS:
            _adopt_sqlite_cursor(cur, self.shadow.execute(sql))
            return
        if name in ("user_version", "application_id"):
            if value is not None:
                self.raw.execute(
                    f"INSERT INTO {META} (key, value) VALUES ($1, $2) ON CONFLICT (key) "
                    "DO UPDATE SET value = EXCLUDED.value",
                    (name, str(int(value))),
                )
                _empty(cur)
                return
            row = self.raw.execute(f"SELECT value FROM {META} WHERE key = $1", (name,)).fetchone()
            _rows(cur, (name,), [(int(row[0]) if row else 0,)])
            return
        if name in ("integrity_check", "quick_check"):
            _rows(cur, (name,), [("ok",)])
            return
        if name == "foreign_key_check":
            _rows(cur, ("table", "rowid", "parent", "fkid"), [])
            return
        if name == "journal_mode":
            _rows(cur, (name,), [("wal",)])
            return
        if name == "data_version":
            _rows(cur, (name,), [(1,)])
            return
        if name in ("page_count", "freelist_count", "page_size"):
            size = self._scalar("SELECT pg_database_size(current_database())")
            _rows(cur, (name,), [(1 if name != "page_count" else int(size) // 4096,)])
            return
        # foreign_keys, busy_timeout, synchronous, cache_size, temp_store, wal_* ...: the
        # server's business; reads give 0, writes do nothing
        if value is not None or arg is not None:
            _empty(cur)
            return
        _rows(cur, (name,), [(0,)])

    # -- DDL --------------------------------------------------------------------------
    def ddl(self, sql: str) -> None:
        """Run one CREATE/DROP/ALTER: on the shadow (SQLite's text kept), then translated."""
        text = sql.strip().rstrip(";")
        up = text.upper()
        temp = bool(re.match(r"^\s*CREATE\s+TEMP(ORARY)?\b", up)) or bool(
            re.search(r"\bTEMP\.", up)
        )
        stmts: list[str]
        if up.startswith("CREATE") and re.match(r"^CREATE\s+(TEMP\w*\s+)?TABLE\b", up):
            pg_text, _tmp, name, pk = pg_ddl.create_table(text)
            stmts = [pg_text]
            if pk and not temp and name == "audit_log":
                stmts = [
                    pg_text,
                    f'CREATE TRIGGER mz_rowid_{name} BEFORE INSERT ON "{name}" FOR EACH ROW '
                    f'WHEN (NEW."{pk}" IS NULL) EXECUTE FUNCTION mz_audit_seq()',
                ]
            elif pk and not temp:
                seq = f"{name}_{pk}_mzseq"
                stmts = [
                    f"CREATE SEQUENCE IF NOT EXISTS {seq}",
                    pg_text,
                    f'ALTER TABLE "{name}" ALTER COLUMN "{pk}" SET DEFAULT nextval(\'{seq}\')',
                    f'ALTER SEQUENCE {seq} OWNED BY "{name}"."{pk}"',
                    # an explicit NULL key gets the next number, as in SQLite; explicit
                    # numbers move the sequence after their statement (_bump)
                    f'CREATE TRIGGER mz_rowid_{name} BEFORE INSERT ON "{name}" FOR EACH ROW '
                    f"WHEN (NEW.\"{pk}\" IS NULL) EXECUTE FUNCTION mz_rowid('{seq}', '{pk}')",
                ]
        elif re.match(r"^CREATE\s+(UNIQUE\s+)?INDEX\b", up):
            stmts = [pg_ddl.create_index(text)]
        elif re.match(r"^CREATE\s+(TEMP\w*\s+)?TRIGGER\b", up):
            stmts = self._trigger(text)
        elif re.match(r"^CREATE\s+(TEMP\w*\s+)?VIEW\b", up):
            stmts = [pg_sql.expression(text)]
        elif re.match(r"^DROP\s+TRIGGER\b", up):
            m = re.match(r"^DROP\s+TRIGGER\s+(IF\s+EXISTS\s+)?(\w+)", text, re.I)
            assert m
            name = m.group(2)
            row = self.shadow.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
            ).fetchone()
            stmts = [f"DROP TRIGGER IF EXISTS {name} ON {row[0]}"] if row else []
        elif re.match(r"^DROP\s+(TABLE|INDEX|VIEW)\b", up):
            stmts = [re.sub(r"\btemp\.", "pg_temp.", text, flags=re.I)]
        elif re.match(r"^ALTER\s+TABLE\b", up):
            m = re.match(r"^ALTER\s+TABLE\s+(\w+)\s+ADD\s+(?:COLUMN\s+)?(.*)$", text, re.I | re.S)
            if m:
                col = pg_ddl.create_table(f"CREATE TABLE x ({m.group(2)})")[0]
                inner = col[col.index("(") + 1 : col.rindex(")")].strip()
                stmts = [f'ALTER TABLE "{m.group(1)}" ADD COLUMN {inner}']
            else:
                stmts = [pg_sql.expression(text)]
        else:
            raise sqlite3.OperationalError(f"DDL not supported on PostgreSQL: {text[:80]}")
        if not temp:
            self.shadow.execute(text)
            if not up.startswith(("CREATE TRIGGER", "DROP TRIGGER")):
                self._schema = None
        if self._bulk_ddl:
            self._pending_ddl.extend(stmts)
            return
        try:
            for s in stmts:
                self.raw.execute(s)
        except Exception as exc:
            if is_pg_error(exc):
                raise to_sqlite_error(exc) from exc
            raise
        if not temp and not self._bulk_ddl:
            self._save_shadow()

    def _trigger(self, text: str) -> list[str]:
        tr = pg_ddl.parse_trigger(text)
        m = re.match(r"^audit_(\w+)_(insert|update|delete)$", tr.name)
        if m and m.group(1) == tr.table and "INSERT INTO audit_log" in text:
            return self._audit_trigger(tr, text, m.group(2))
        return pg_ddl.create_trigger(text, self.schema)

    def insert_rows(self, table: str, cols: list[str], rows: list, audit_new: str | None) -> None:
        """``bulk.insert_many`` on PostgreSQL (``pg_triggers.insert_rows``)."""
        from .pg_triggers import insert_rows

        insert_rows(self, table, cols, rows, audit_new)

    def _audit_trigger(self, tr: pg_ddl.Trigger, text: str, action: str) -> list[str]:
        from .pg_triggers import audit_trigger

        return audit_trigger(self, tr, text, action)


# an executemany of a plain INSERT (parameters only, no ON CONFLICT, no RETURNING) goes by
# COPY from this many rows on: the same rows and the same row triggers, one round trip
COPY_MIN = 50
_PLAIN_INSERT = re.compile(
    r'^INSERT INTO (?P<table>[\w."]+)\s*(?:\((?P<cols>[\w\s,"]+)\))?\s*VALUES\s*'
    r"\((?P<params>\s*\$\d+(?:\s*,\s*\$\d+)*\s*)\)$"
)


def _in_order(params: str) -> bool:
    nums = [int(p.strip()[1:]) for p in params.split(",")]
    return nums == list(range(1, len(nums) + 1))


def _bind(order: tuple | None, params):
    if order is None:
        return None
    if isinstance(params, dict):
        return [param(params[k]) for k in order]
    params = tuple(params)
    return [param(params[k]) for k in order]


def _empty(cur: PgCursor) -> None:
    cur.description = None
    cur.rowcount = -1
    cur._rows = None


class _ListCursor:
    def __init__(self, rows):
        self._it = iter(rows)

    def fetchone(self):
        return next(self._it, None)

    def fetchall(self):
        return list(self._it)

    def fetchmany(self, n):
        out = []
        for _ in range(n):
            r = next(self._it, None)
            if r is None:
                break
            out.append(r)
        return out

    def close(self):
        pass


def _rows(cur: PgCursor, names: tuple[str, ...], rows: list) -> None:
    cur._cur = _ListCursor(rows)
    cur.description = tuple((n, None, None, None, None, None, None) for n in names)
    cur._names = names
    cur._fix = False
    cur.rowcount = -1


def _adopt_sqlite_cursor(cur: PgCursor, shadow: sqlite3.Cursor) -> None:
    names = tuple(d[0] for d in shadow.description) if shadow.description else ()
    rows = shadow.fetchall() if shadow.description else []
    if shadow.description:
        _rows(cur, names, rows)
    else:
        _empty(cur)


def connect(url: str) -> PgConnection:
    return PgConnection(url)


def create_schema(conn: PgConnection, version: int) -> None:
    """Make an empty database an mzdesk one (``pg_schema.create_schema``)."""
    from .pg_schema import create_schema as create

    create(conn, version)
