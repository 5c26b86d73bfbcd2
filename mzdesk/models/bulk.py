"""Bulk inserts that keep every trigger's effect but not its per-row cost.

mzdesk's audited and synced tables carry AFTER INSERT triggers (the audit trail
in :mod:`mzdesk.models.audit`, the sync change log in
:mod:`mzdesk.sync.changelog`).  Fired per row they cost, for a bulk import, more
than the rows themselves: each row runs the trigger programs, and each statement
that fires triggers opens a *statement journal*.

:func:`insert_many` therefore, inside a transaction,

1. stages the rows in an untyped temp table, takes the table's INSERT triggers
   off (inside a savepoint) and moves the rows with one ``INSERT … SELECT``
   (same rowids in the same order as ``executemany`` would give),
2. *replays* each trigger once for all new rows: a trigger of the shape
   ``BEGIN INSERT INTO x (cols) VALUES (exprs); END`` becomes
   ``INSERT INTO x (cols) SELECT exprs FROM table AS NEW WHERE NEW.rowid > ?
   ORDER BY NEW.rowid`` — the trigger's own SQL, read from the schema, so the
   audit entry and change-log row of every record are exactly what the row
   trigger would have written, in the same order,
3. puts the triggers back, byte for byte.

When the rows at least double the table (a first load: a county receiving a
township's full snapshot, a roster into an empty database), the table's plain
(non-UNIQUE) indexes are dropped before the move and created again after it,
from their own SQL: building an index from sorted keys is cheaper than inserting
every key at a random place (measured on the 100k sync benchmark,
docs/batch-format.md).  UNIQUE indexes stay, so every constraint is checked
row by row as before.

All of it is one savepoint in the caller's transaction: a crash or an error at
any step rolls back the rows, the replayed entries *and* the dropped triggers
together; no other connection ever sees the table without its triggers
(SQLite's write lock is held from the first step).  When anything does not fit — no transaction, an
INSERT trigger of another shape, explicit ids at or below the current maximum —
the rows are moved the same way while the triggers fire per row (one
statement journal for the lot, not one per row as with ``executemany``).
"""

from __future__ import annotations

import contextlib
import gc
import re
import sqlite3
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from . import audit
from .errors import translate_sqlite_error

STAGE_MIN = 64  # below this many rows the staging table costs more than it saves

_SIMPLE_INSERT_TRIGGER = re.compile(
    r"^CREATE TRIGGER (?P<name>\w+) AFTER INSERT ON (?P<table>\w+) BEGIN "
    r"(?P<head>INSERT (?:OR (?:REPLACE|IGNORE) )?INTO (?P<target>\w+) \((?P<cols>[\w, ]+)\)) "
    r"VALUES \((?P<exprs>.*)\); END$",
    re.DOTALL,
)


_Replay = Callable[[sqlite3.Connection, int, "str | None"], None]


def _replays(conn: sqlite3.Connection, table: str) -> list[tuple[str, str, _Replay]] | None:
    """(trigger name, its CREATE SQL, replay) of every INSERT trigger on ``table``; None when
    one of them is not of the simple shape.  A replay is called with the rowid above which
    the new rows lie."""
    if getattr(conn, "dialect", "sqlite") != "sqlite":
        return None  # PostgreSQL (models/pg.py): its triggers fire per row, in plpgsql
    out: list[tuple[str, str, _Replay]] = []
    for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name",
        (table,),
    ):
        if not re.search(r"\bINSERT\s+ON\b", sql.split(" BEGIN ", 1)[0], re.IGNORECASE):
            continue
        m = _SIMPLE_INSERT_TRIGGER.match(sql)
        if m is None or m["table"] != table:
            return None
        select = f"SELECT {m['exprs']} FROM {table} AS NEW WHERE NEW.rowid > ? ORDER BY NEW.rowid"
        if m["target"] == "audit_log" and m["head"].startswith("INSERT INTO"):
            # audit entries are written chained (no sealing UPDATE of every entry afterwards)
            head, insert, _snapshot = m["exprs"].rpartition(audit.INSERT_BEFORE_NEW)
            by_ref = (
                (
                    f"SELECT {head}{insert}? FROM {table} AS NEW WHERE NEW.rowid > ? "
                    "ORDER BY NEW.rowid"
                )
                if insert
                else None
            )
            replay = partial(_audit_replay, m["cols"], select, by_ref)
        else:
            replay = partial(_plain_replay, f"{m['head']} {select}")
        out.append((name, sql, replay))
    return out


def _no_step(fraction: float) -> None:
    pass


DEFER_MIN = 5000  # fewer new rows than this: keeping the indexes is as cheap


def deferrable_indexes(conn: sqlite3.Connection, table: str, adding: int) -> list[tuple[str, str]]:
    """(name, CREATE SQL) of the plain indexes of ``table`` worth rebuilding after adding
    ``adding`` rows: none unless the rows at least double the table.  UNIQUE indexes and
    those behind constraints (no SQL) are never listed."""
    if adding < DEFER_MIN:
        return []
    have = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if adding < have:
        return []
    return [
        (name, sql)
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY name",
            (table,),
        )
        if not re.match(r"CREATE\s+UNIQUE\b", sql, re.IGNORECASE)
    ]


def _plain_replay(sql: str, conn: sqlite3.Connection, top: int, audit_new: str | None) -> None:
    conn.execute(sql, (top,))


def _audit_replay(
    cols: str,
    select: str,
    by_ref: str | None,
    conn: sqlite3.Connection,
    top: int,
    audit_new: str | None,
) -> None:
    if audit_new is not None and by_ref is not None:
        audit.insert_sealed(conn, cols, by_ref, (audit_new, top))
    else:
        audit.insert_sealed(conn, cols, select, (top,))


def insert_many(
    conn: sqlite3.Connection,
    table: str,
    cols: list[str] | tuple[str, ...],
    rows: list[tuple],
    audit_new: str | None = None,
    step=None,
) -> None:
    """``INSERT INTO table (cols)`` every row, in order: same rowids, same trigger effects
    (every row's audit entry and change-log row) as ``executemany``, far cheaper in bulk.
    All or nothing: on an error no row and no trigger effect is left behind.

    ``audit_new``: the rows' content is kept elsewhere, verbatim and sealed (a sync
    batch, see mzdesk.sync.applier); each row's audit entry then names that source
    (this text as its ``new``) instead of repeating the row as a JSON snapshot.  Only
    where the audit trigger is replayed; should it fire per row, it writes its snapshot.

    ``step(fraction)``, if given, is called between the phases (staged, moved, audited and
    logged); it may raise (a cancel), which undoes everything like any other error."""
    insert = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    if not rows:
        return
    if getattr(conn, "dialect", "sqlite") != "sqlite":
        # PostgreSQL (models/pg.py): a pipelined executemany, the INSERT triggers replayed
        # once for all rows there (or firing per row when they cannot be)
        pg_conn: Any = conn
        pg_conn.insert_rows(table, list(cols), rows, audit_new if conn.in_transaction else None)
        if step is not None:
            step(0.7)
        return
    if len(rows) < STAGE_MIN and (audit_new is None or not conn.in_transaction):
        conn.executemany(insert, rows)
        return
    # stage the rows in an untyped temp table (values reach the table exactly as bound) and
    # move them with ONE statement: a plain executemany is no faster even with the triggers
    # off, and with triggers firing per row it would pay a statement journal per row
    stage = f"temp.mz_stage_{table}"
    names = ", ".join(f"c{i}" for i in range(len(cols)))
    conn.execute(f"DROP TABLE IF EXISTS {stage}")
    conn.execute(f"CREATE TABLE {stage} ({names})")
    try:
        conn.executemany(f"INSERT INTO {stage} VALUES ({', '.join('?' * len(cols))})", rows)
        step = step or _no_step
        step(0.3)
        ids = None
        if "id" in cols:
            k = list(cols).index("id")
            ids = min((r[k] for r in rows), key=lambda v: (v is not None, v or 0))
        insert_select(
            conn,
            table,
            cols,
            f"SELECT {names} FROM {stage} ORDER BY rowid",
            (),
            len(rows),
            audit_new,
            step,
            min_id=ids,
        )
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {stage}")


def insert_select(
    conn: sqlite3.Connection,
    table: str,
    cols: list[str] | tuple[str, ...],
    select: str,
    params=(),
    count: int = 0,
    audit_new: str | None = None,
    step=None,
    min_id=0,
) -> None:
    """``INSERT INTO table (cols) <select>``, the triggers replayed once for all new rows
    (see :func:`insert_many`, which stages Python rows and calls this).  ``count``: about how
    many rows ``select`` gives (whether the indexes are worth rebuilding).  ``min_id``: when
    ``cols`` include ``id``, the smallest one given (None for a NULL among them): rows at or
    below the table's maximum could not be found by a replay, so the triggers then fire
    per row.  The caller must keep the order of ``select`` stable (ORDER BY).  ``step`` is
    called with 0.45 (moved) and 0.7 (audited and logged), as by :func:`insert_many`."""
    step = step or _no_step
    move = f"INSERT INTO {table} ({', '.join(cols)}) {select}"
    if not conn.in_transaction:
        conn.execute(
            move, params
        )  # no transaction: nothing may be taken off, triggers fire per row
        return
    top = conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()[0]
    replays = _replays(conn, table)
    if replays and "id" in cols and (min_id is None or min_id <= top):
        replays = None  # rows would land below the maximum: the replay could not find them
    deferred = deferrable_indexes(conn, table, count)
    conn.execute("SAVEPOINT mz_bulk")
    try:
        for name, _sql in deferred:
            conn.execute(f"DROP INDEX {name}")
        for name, _sql, _replay in replays or ():
            conn.execute(f"DROP TRIGGER {name}")
        # without replays (none, or not replayable) the triggers fire per row
        conn.execute(move, params)
        step(0.45)
        for _name, _sql, replay in replays or ():
            replay(conn, top, audit_new)
        step(0.7)
        for _name, sql, _replay in replays or ():
            conn.execute(sql)
        for _name, sql in deferred:
            conn.execute(sql)  # one sort per index instead of a random insert per row
    except BaseException as exc:
        _undo_savepoint(conn, exc)
        clear = translate_sqlite_error(exc)  # a full disk says so, whatever step it hit
        if clear is not None:
            raise clear from exc
        raise
    conn.execute("RELEASE mz_bulk")


def _undo_savepoint(conn: sqlite3.Connection, exc: BaseException) -> None:
    """Roll back to ``mz_bulk``: the rows, the entries and the dropped triggers.  After some
    errors (SQLITE_FULL in a statement without a statement journal, such as CREATE INDEX, or an
    I/O error) SQLite has already rolled back the whole transaction and the savepoint is gone:
    then there is nothing left to undo, and a ROLLBACK TO would fail with "no such savepoint"
    and hide the error that says what happened."""
    if not conn.in_transaction:
        return
    try:
        conn.execute("ROLLBACK TO mz_bulk")
        conn.execute("RELEASE mz_bulk")
    except sqlite3.Error as undo_error:
        # the caller rolls back the whole transaction on the way out; keep the first error
        exc.add_note(f"rollback to savepoint mz_bulk failed: {undo_error}")


@contextlib.contextmanager
def indexes_deferred(conn: sqlite3.Connection, table: str, adding: int):
    """The plain indexes of ``table`` off while a caller adds about ``adding`` rows in several
    statements (a batch applied in chunks), built again at the end: what
    :func:`insert_select` does for one statement.  Inside a transaction only; on an error
    nothing is rebuilt: the caller's rollback brings the indexes back with everything else."""
    if not conn.in_transaction:
        raise RuntimeError("indexes_deferred needs a transaction")
    deferred = deferrable_indexes(conn, table, adding)
    for name, _sql in deferred:
        conn.execute(f"DROP INDEX {name}")
    yield
    for _name, sql in deferred:
        conn.execute(sql)


_gc_lock = threading.Lock()
_gc_state = {"holds": 0, "was_enabled": False}


@contextlib.contextmanager
def gc_paused():
    """No cyclic garbage collection meanwhile: a batch or roster of 100k households makes
    millions of dicts and tuples, none of them in a cycle, and every collection of the
    oldest generation walks all of them again (measured: parsing the 100k sync batch
    8.4 s with collections, 6.7 s without).  Reference counting still frees everything.
    Nested and concurrent holders are counted; the collector is back (if it was on) after
    the last one leaves."""
    with _gc_lock:
        if _gc_state["holds"] == 0:
            _gc_state["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_state["holds"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_state["holds"] -= 1
            if _gc_state["holds"] == 0 and _gc_state["was_enabled"]:
                gc.enable()
