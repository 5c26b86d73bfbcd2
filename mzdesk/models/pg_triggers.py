"""PostgreSQL triggers that cannot be translated line by line, and bulk inserts.

* :func:`audit_trigger`: ``audit.trigger_sql``'s audit trigger as plpgsql written for its
  table (SQLite's builds its JSON with ``NULLIF(integer, '')``, which PostgreSQL's types
  refuse); the logged columns are read from the SQLite text, so both say the same.
* :func:`insert_rows`: ``bulk.insert_many`` on PostgreSQL, the rows by ``COPY`` with the
  INSERT triggers replayed once for all of them, as ``bulk`` does on SQLite; the replayed
  audit entries are chained by the server as they are written (:data:`CHAIN_SQL`), so the
  commit's seal has nothing to read back, hash and update for them.
"""

from __future__ import annotations

import re

from . import pg_ddl
from .pg import PgConnection
from .pg_values import is_pg_error, to_sqlite_error

# The audit chain step of ``audit.text_hash`` (sha256 of the previous hash, a unit separator
# and ``audit.entry_text``), as a running aggregate: ``mz_chain(prev, entry) OVER (ORDER BY
# seq)`` gives each entry's hash, the first chained to ``prev``.  ``entry`` is the entry's
# fields as bytes (a PostgreSQL text cannot hold ``entry_text``'s NUL for a NULL field).
CHAIN_SQL = [
    "CREATE OR REPLACE FUNCTION mz_chain_step(state text, prev text, entry bytea) "
    "RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN encode(sha256("
    "convert_to(coalesce(state, prev), 'UTF8') || '\\x1f'::bytea || entry), 'hex'); END $$",
    "CREATE OR REPLACE AGGREGATE mz_chain(text, bytea) (SFUNC = mz_chain_step, STYPE = text)",
]
_AUDIT_FIELDS = (
    "seq, at, operator, tbl, record_id, record_uid, household_id, action, field, old, new"
)


def chained_sql(replay: str) -> str | None:
    """The audit replay statement (``audit_trigger(replay=True)``) writing each entry with
    its hash: ``$4`` is the hash of the entry before ``$3 + 1`` (the chain's head)."""
    head, sep, select = replay.partition(" SELECT ")
    if not sep or not head.endswith(f"({_AUDIT_FIELDS})"):
        return None
    cols = _AUDIT_FIELDS.split(", ")
    entry = " || '\\x1f'::bytea || ".join(
        f"coalesce(convert_to(e.{c}::text, 'UTF8'), '\\x00'::bytea)" for c in cols
    )
    # a NULL the trigger writes for a table without households is text in a derived table:
    # the integer columns are cast back (PostgreSQL refuses text into bigint)
    fields = ", ".join(
        f"e.{c}::bigint" if c in ("seq", "record_id", "household_id") else f"e.{c}" for c in cols
    )
    return (
        f"{head[:-1]}, hash) SELECT {fields}, mz_chain($4, {entry}) OVER (ORDER BY e.seq) "
        f"FROM (SELECT {select}) AS e ({_AUDIT_FIELDS}) ORDER BY e.seq"
    )


def _can_chain(conn: PgConnection) -> bool:
    """Whether this database has :data:`CHAIN_SQL` (made by an mzdesk that has it)."""
    ok = conn._chain_ok
    if ok is None:
        row = conn.raw.execute(
            "SELECT to_regprocedure('mz_chain_step(text, text, bytea)') IS NOT NULL"
        ).fetchone()
        ok = conn._chain_ok = bool(row and row[0])
    return ok


def _chain_head(conn: PgConnection) -> tuple[int, str]:
    """(seq, hash) of the last audit entry, every entry sealed first (the chain's head)."""
    from .audit import GENESIS, seal

    seal(conn)  # type: ignore[arg-type]  # the sqlite3 API subset seal uses
    row = conn.raw.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def insert_rows(
    conn: PgConnection, table: str, cols: list[str], rows: list, audit_new: str | None
) -> None:
    """``bulk.insert_many`` on PostgreSQL: the rows in one pipelined ``executemany`` with
    the table's INSERT triggers off, then each trigger replayed once for all of them (the
    audit entries in key order, then the change log), as ``bulk`` does on SQLite.  The
    triggers go back on before returning; on an error the transaction's rollback puts
    them back.  Outside a transaction, with explicit keys or an unknown trigger, the
    triggers fire per row."""
    insert = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    pk = conn.schema.pk.get(table, "")
    triggers = conn.shadow.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name",
        (table,),
    ).fetchall()
    inserts = [
        (n, sql)
        for n, sql in triggers
        if re.search(r"\bINSERT\s+ON\b", sql.split(" BEGIN ", 1)[0], re.IGNORECASE)
    ]
    replays = []
    for name, sql in inserts:
        if name == f"audit_{table}_insert" and "INSERT INTO audit_log" in sql:
            tr = pg_ddl.parse_trigger(sql)
            replays.append((name, audit_trigger(conn, tr, sql, "insert", replay=True)[0]))
            continue
        m = re.match(
            r"^CREATE TRIGGER \w+ AFTER INSERT ON \w+ BEGIN (INSERT (?:OR (?:REPLACE|IGNORE) )?"
            r"INTO \w+ \([\w, ]+\)) VALUES \((.*)\); END$",
            sql,
            re.DOTALL,
        )
        if m is None or "rowid" in m.group(2).lower():
            replays = []
            break
        sel = f'{m.group(1)} SELECT {m.group(2)} FROM {table} AS NEW WHERE NEW."{pk}" > ?2 ORDER BY NEW."{pk}"'
        replays.append((name, sel))
    if not (replays and pk and pk not in cols and conn.in_transaction and len(rows) > 1):
        conn.executemany(insert, rows)
        return
    top = conn._scalar(f'SELECT coalesce(max("{pk}"), 0) FROM "{table}"')
    names = [n for n, _ in replays]
    conn.raw.execute(f'ALTER TABLE "{table}" ' + ", ".join(f"DISABLE TRIGGER {n}" for n in names))
    copy_rows(conn, table, cols, rows)
    for name, sql in replays:
        if name.startswith("audit_"):
            chained = chained_sql(sql) if _can_chain(conn) else None
            with conn.raw.cursor() as c:
                if chained is not None:
                    last, head = _chain_head(conn)
                    c.execute(chained, (audit_new, top, last, head))
                    continue
                row = conn.raw.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()
                c.execute(sql, (audit_new, top, row[0] if row else 0))
        else:
            conn.execute(sql.replace("?2", "?"), (top,))
    conn.raw.execute(f'ALTER TABLE "{table}" ' + ", ".join(f"ENABLE TRIGGER {n}" for n in names))


def copy_rows(conn: PgConnection, table: str, cols: list[str], rows: list) -> None:
    """``COPY … FROM STDIN`` of Python rows (what an INSERT per row costs, without the
    per-statement round trips)."""
    names = ", ".join(f'"{c}"' for c in cols)
    target = ".".join(f'"{part.strip(chr(34))}"' for part in table.split("."))
    import psycopg
    from psycopg.adapt import PyFormat

    try:
        with conn.raw.cursor() as cur:
            # COPY's text needs no parameter types: psycopg's own (C) number dumpers instead
            # of the connection's untyped ones (pg._text_params), a Python call per value
            for t in (int, float):
                cur.adapters.register_dumper(t, psycopg.adapters.get_dumper(t, PyFormat.TEXT))
            with cur.copy(f"COPY {target} ({names}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)  # a bool as 1/0: pg._text_params
    except Exception as exc:
        if is_pg_error(exc):
            raise to_sqlite_error(exc) from exc
        raise
    conn.total_changes += len(rows)


def audit_trigger(
    conn: PgConnection, tr: pg_ddl.Trigger, text: str, action: str, replay: bool | None = None
) -> list[str]:
    """``audit.trigger_sql``'s trigger as plpgsql written for its table: the logged
    columns are read from the SQLite text, so both say the same.  SQLite's version
    builds its JSON with ``NULLIF(integer, '')``, which PostgreSQL's types refuse."""
    if action == "update":
        logged = re.findall(r"SELECT '(\w+)' AS f", text)
    else:
        logged = re.findall(r"'(\w+)', NULLIF\(", text)
    secret = set(re.findall(r"'\*\*\*' \|\| substr\((?:NEW|OLD)\.(\w+)", text))
    cols = set(conn.schema.columns.get(tr.table, []))
    pk = conn.schema.pk.get(tr.table, "") or "id"
    row = "OLD" if action == "delete" else "NEW"
    hh = (
        f"{row}.id"
        if tr.table == "households"
        else (f"{row}.household_id" if "household_id" in cols else "NULL")
    )
    uid = f"{row}.uid" if "uid" in cols else "NULL"
    who = f"coalesce({row}.updated_by, '')" if "updated_by" in cols else "''"

    def value(r: str, c: str) -> str:  # the column as audit_log's TEXT holds it
        v = f'{r}."{c}"::text'
        return f"'***' || right({v}, 16)" if c in secret else v

    head = (
        "INSERT INTO audit_log (at, operator, tbl, record_id, record_uid, household_id, "
        "action, field, old, new) "
    )
    stamp = "to_char(localtimestamp(0), 'YYYY-MM-DD HH24:MI:SS')"
    common = f"{stamp}, {who}, '{tr.table}', {row}.\"{pk}\", {uid}, {hh}"
    if action == "update":
        pairs = ", ".join(f"('{c}', {value('OLD', c)}, {value('NEW', c)})" for c in logged)
        body = (
            f"{head}SELECT {common}, 'update', v.f, v.o, v.n FROM (VALUES {pairs}) "
            "AS v (f, o, n) WHERE v.o IS DISTINCT FROM v.n;"
        )
    else:
        parts = []
        for c in logged:
            raw = f'{row}."{c}"'
            js = (
                f"to_json('***' || right({raw}::text, 16))::text"
                if c in secret
                else f"to_json({raw})::text"
            )
            parts.append(
                f"CASE WHEN {raw} IS NULL OR {raw}::text = '' THEN NULL ELSE '\"{c}\":' || {js} END"
            )
        snap = "'{' || concat_ws(',', " + ", ".join(parts) + ") || '}'"
        old, new = ("NULL", snap) if action == "insert" else (snap, "NULL")
        if replay is not None:
            # one statement for all rows above $2: $1 instead of the snapshot when given
            # numbered here ($3: the last number), so that no row trigger runs per entry
            new = f"coalesce($1, {new})"
            return [
                head.replace("(at,", "(seq, at,")
                + f'SELECT $3 + row_number() OVER (ORDER BY NEW."{pk}"), {common}, '
                f"'{action}', '', {old}, {new} FROM {tr.table} AS NEW "
                f'WHERE NEW."{pk}" > $2 ORDER BY NEW."{pk}"'
            ]
        body = f"{head}VALUES ({common}, '{action}', '', {old}, {new});"
    fn = f"mzt_{tr.name}"
    return [
        f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $mz$\n"
        f"BEGIN\n  {body}\n  RETURN NULL;\nEND $mz$",
        f"CREATE TRIGGER {tr.name} AFTER {action.upper()} ON {tr.table} FOR EACH ROW "
        f"EXECUTE FUNCTION {fn}()",
    ]
