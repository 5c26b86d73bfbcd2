"""The bulk write path (bulk.insert_many with replayed triggers, set-based seal): same rows,
same audit, same change log, triggers intact whatever happens."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mzdesk.models import audit, bulk
from mzdesk.models.store import Store, new_uid
from tests.helpers import household, make_id

COLS = (
    "uid",
    "village",
    "head_name",
    "address",
    "phone",
    "housing_area_m2",
    "rev",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
)


def _rows(n: int, start: int = 0) -> list[tuple]:
    # an int into TEXT, text into INTEGER, NULL: column affinity as with a direct insert
    return [
        (
            new_uid(),
            "红旗村",
            f"户主{i}",
            f"{i}号",
            13900000000 + i,
            "85" if i % 2 else None,
            1,
            "2026-01-01 00:00:00",
            "2026-01-01 00:00:00",
            "bulk",
            "bulk",
        )
        for i in range(start, start + n)
    ]


def _snapshot(conn: sqlite3.Connection):
    hh = conn.execute(
        f"SELECT id, {', '.join(COLS)}, typeof(phone), typeof(housing_area_m2) FROM households "
        "ORDER BY id"
    ).fetchall()
    log = conn.execute(
        "SELECT operator, tbl, record_id, record_uid, household_id, action, field, old, new "
        "FROM audit_log WHERE tbl = 'households' ORDER BY seq"
    ).fetchall()
    changes = conn.execute(
        "SELECT tbl, uid, op FROM sync_changes WHERE tbl = 'households' ORDER BY seq"
    ).fetchall()
    return hh, log, changes


def _triggers(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    ).fetchall()


def _indexes(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    ).fetchall()


@pytest.mark.parametrize(
    "n, with_ids, defer",
    [
        (10, False, False),
        (300, False, False),
        (300, True, False),
        (300, False, True),
        (300, True, True),
    ],
)  # below and above the staging threshold; explicit ids (as the registry writes them); a
# first load that rebuilds the plain indexes afterwards
def test_insert_many_equals_executemany(tmp_path, monkeypatch, n, with_ids, defer):
    if defer:
        monkeypatch.setattr(bulk, "DEFER_MIN", 100)
    rows = _rows(n)
    cols = COLS
    if with_ids:
        cols = ("id", *COLS)
        rows = [(1000 + i, *r) for i, r in enumerate(rows)]
    results = []
    for how in ("executemany", "insert_many"):
        s = Store.open(tmp_path / f"{how}.sqlite", operator="bulk")
        with s.transaction():
            if how == "executemany":
                s.conn.executemany(
                    f"INSERT INTO households ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    rows,
                )
            else:
                before, indexes = _triggers(s.conn), _indexes(s.conn)
                assert bool(bulk.deferrable_indexes(s.conn, "households", n)) == defer
                bulk.insert_many(s.conn, "households", cols, rows)
                assert _triggers(s.conn) == before
                assert _indexes(s.conn) == indexes
        assert audit.verify(s.conn).ok
        assert s.scalar("SELECT count(*) FROM audit_log WHERE hash IS NULL") == 0
        assert s.conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]  # indexes = rows
        results.append(_snapshot(s.conn))
        assert not s.conn.execute(
            "SELECT name FROM sqlite_temp_master WHERE name LIKE 'mz_%'"
        ).fetchall()
        s.close()
    assert results[0] == results[1]
    hh, log, changes = results[1]
    assert len(hh) == len(log) == len(changes) == n
    assert {r[-2] for r in hh} == {"text"} and {r[-1] for r in hh} == {"integer", "null"}


def test_a_failing_bulk_insert_changes_nothing(store):
    rows = _rows(100)
    rows.append(rows[0])  # duplicate uid: the whole statement fails
    before = store.scalar("SELECT count(*) FROM audit_log")
    triggers = _triggers(store.conn)
    with pytest.raises(sqlite3.IntegrityError), store.transaction():
        bulk.insert_many(store.conn, "households", COLS, rows)
    assert _triggers(store.conn) == triggers
    assert store.scalar("SELECT count(*) FROM households") == 0
    assert store.scalar("SELECT count(*) FROM audit_log") == before
    assert audit.verify(store.conn).ok


def test_plain_indexes_are_rebuilt_only_when_the_rows_at_least_double_the_table(store, monkeypatch):
    monkeypatch.setattr(bulk, "DEFER_MIN", 100)
    deferred = bulk.deferrable_indexes(store.conn, "households", 100)
    assert deferred and all("UNIQUE" not in sql.upper() for _n, sql in deferred)
    with store.transaction():
        bulk.insert_many(store.conn, "households", COLS, _rows(150))
    assert bulk.deferrable_indexes(store.conn, "households", 149) == []
    assert bulk.deferrable_indexes(store.conn, "households", 150) == deferred
    assert bulk.deferrable_indexes(store.conn, "households", 99) == []  # below DEFER_MIN
    # UNIQUE indexes stay in place: a duplicate is refused row by row, as before
    assert all(
        "UNIQUE" not in sql.upper()
        for _n, sql in bulk.deferrable_indexes(store.conn, "members", 10**6)
    )


def test_a_failing_first_load_puts_every_index_back(store, monkeypatch):
    monkeypatch.setattr(bulk, "DEFER_MIN", 10)
    rows = _rows(100)
    rows.append(rows[0])  # duplicate uid: the whole statement fails
    indexes, triggers = _indexes(store.conn), _triggers(store.conn)
    with pytest.raises(sqlite3.IntegrityError), store.transaction():
        bulk.insert_many(store.conn, "households", COLS, rows)
    assert _indexes(store.conn) == indexes and _triggers(store.conn) == triggers
    assert store.scalar("SELECT count(*) FROM households") == 0
    assert store.conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_large_seal_continues_the_chain_and_tampering_is_still_found(store, registry):
    registry.save(household("红旗村", ("张三", "户主", make_id("19800101", 1))))
    head_before = audit.verify(store.conn)
    with store.transaction():
        bulk.insert_many(store.conn, "households", COLS, _rows(500, 10))
    res = audit.verify(store.conn)
    assert res.ok and res.checked == head_before.checked + 500
    store.close()
    conn = sqlite3.connect(store.path)
    conn.execute("DROP TRIGGER audit_log_seal_only")
    conn.execute("UPDATE audit_log SET new = '{}' WHERE seq = (SELECT max(seq) - 7 FROM audit_log)")
    conn.commit()
    res = audit.verify(conn)
    conn.close()
    assert not res.ok and "被改动" in res.problem


def test_replay_fires_for_every_row_even_when_triggers_are_left_on(store):
    """The fallbacks (ids below the maximum; a trigger of another shape) still log every row."""
    with store.transaction():
        bulk.insert_many(store.conn, "households", COLS, _rows(100))
    low = [(5000 - i, *r) for i, r in enumerate(_rows(100, 200))]  # descending explicit ids
    with store.transaction():
        bulk.insert_many(store.conn, "households", ("id", *COLS), low)
    store.conn.execute(
        "CREATE TRIGGER zz_note AFTER INSERT ON households WHEN NEW.village = '红旗村' "
        "BEGIN UPDATE households SET address = address WHERE id = NEW.id; END"
    )
    with store.transaction():
        bulk.insert_many(store.conn, "households", COLS, _rows(100, 400))
    n = store.scalar("SELECT count(*) FROM households")
    assert n == 300
    assert (
        store.scalar(
            "SELECT count(*) FROM audit_log WHERE tbl = 'households' AND action = 'insert'"
        )
        == n
    )
    assert store.scalar("SELECT count(*) FROM sync_changes WHERE tbl = 'households'") == n
    assert audit.verify(store.conn).ok


def test_replay_sql_is_the_trigger_sql(store):
    replays = bulk._replays(store.conn, "households")
    assert {name for name, _sql, _r in replays} == {
        "audit_households_insert",
        "sync_log_households_ins",
    }
    for name, sql, replay in replays:
        exprs = sql.split(" VALUES (", 1)[1].rsplit("); END", 1)[0]
        select = replay.args[1] if name.startswith("audit_") else replay.args[0]
        assert exprs in select and "FROM households AS NEW WHERE NEW.rowid > ?" in select


def test_rows_kept_elsewhere_are_audited_by_reference(store):
    """With ``audit_new`` (a sync batch holds the rows) every row still gets its own chained
    entry, with that reference instead of a snapshot; the rest as with executemany."""
    ref = audit.sync_source("341623101", 7, "ab" * 32)
    with store.transaction():
        bulk.insert_many(store.conn, "households", COLS, _rows(10), audit_new=ref)  # small, too
        bulk.insert_many(store.conn, "households", COLS, _rows(300, 10), audit_new=ref)
    entries = store.conn.execute(
        "SELECT record_id, record_uid, action, field, old, new FROM audit_log "
        "WHERE tbl = 'households' ORDER BY seq"
    ).fetchall()
    rows = store.conn.execute("SELECT id, uid FROM households ORDER BY id").fetchall()
    assert [(e[0], e[1]) for e in entries] == rows and len(rows) == 310
    assert {e[2:] for e in entries} == {("insert", "", None, ref)}
    assert audit.verify(store.conn).ok
    [shown] = {c.new for c in audit.history(store.conn, table="households")}
    assert shown.startswith("随站点 341623101 第 7 批同步新增") and "abababababab" in shown


def test_sealed_audit_insert_continues_the_chain_after_unsealed_entries(store):
    cols = "at, operator, tbl, record_id, record_uid, household_id, action, field, old, new"
    with store.transaction():
        store.conn.executemany(  # trigger-written entries, unsealed until the seal
            f"INSERT INTO households ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})",
            _rows(5),
        )
        n = audit.insert_sealed(store.conn, cols, f"SELECT {cols} FROM audit_log ORDER BY seq DESC")
        assert n == store.scalar("SELECT count(*) FROM audit_log") // 2
        assert store.scalar("SELECT count(*) FROM audit_log WHERE hash IS NULL") == 0
    res = audit.verify(store.conn)
    assert res.ok and res.checked == 2 * n
    with pytest.raises(ValueError), store.transaction():
        audit.insert_sealed(store.conn, "operator, at", "SELECT 'x', 'y'")


def test_gc_paused_nests_restores_and_survives_errors():
    """Bulk work pauses the cyclic collector; it is back afterwards, even after an error,
    and stays off if it was off before."""
    import gc

    from mzdesk.models.bulk import gc_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with gc_paused():
            assert not gc.isenabled()
            with gc_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()  # the outer holder still holds
            raise RuntimeError("halfway")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


_AUDIT_VALUE = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(st.characters(exclude_categories=("Cs",))),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_AUDIT_VALUE, min_size=1, max_size=11),
    st.text("0123456789abcdef", min_size=64, max_size=64),
)
def test_the_entry_text_sqlite_builds_is_the_one_python_hashes(values, prev):
    """insert_sealed lets SQLite build each entry's text: for TEXT, INTEGER and NULL (NUL
    and separator characters included) it hashes to exactly what entry_hash gives."""
    conn = sqlite3.connect(":memory:")
    names = [f"c{i}" for i in range(len(values))]
    conn.execute(f"CREATE TABLE t ({', '.join(names)})")
    conn.execute(f"INSERT INTO t VALUES ({', '.join('?' * len(values))})", values)
    (text,) = conn.execute(f"SELECT {audit.entry_text_sql(names)} FROM t").fetchone()
    via_sql = hashlib.sha256(f"{prev}\x1f{text}".encode()).hexdigest()
    assert via_sql == audit.entry_hash(prev, tuple(values))


def test_sealed_insert_with_a_real_value_takes_python_and_still_verifies(store):
    """A REAL among the values: SQLite writes it differently than Python's str, so the
    chain is computed from the values themselves; a REAL bound for a TEXT column is hashed
    as the text audit_log stores.  verify agrees either way."""
    cols = "at, operator, tbl, record_id, record_uid, household_id, action, field, old, new"
    for household_id in ("1.5", "NULL"):  # a REAL left by INTEGER affinity: Python's chain
        with store.transaction():
            n = audit.insert_sealed(
                store.conn,
                cols,
                f"SELECT '2026-11-23 10:00:00', 'op', 'households', 1, 'u1', {household_id}, "
                "'update', 'x', 1e16, 0.1 UNION ALL SELECT '2026-11-23 10:00:00', 'op', "
                "'households', 2, 'u2', NULL, 'insert', '', NULL, 'a' || char(0) || char(31) || 'b'",
            )
        assert n == 2
    assert store.scalar("SELECT old FROM audit_log WHERE field = 'x' LIMIT 1") == "1.0e+16"
    assert (
        store.scalar(
            "SELECT typeof(household_id) FROM audit_log WHERE field = 'x' ORDER BY seq LIMIT 1"
        )
        == "real"
    )
    assert audit.verify(store.conn).ok


@pytest.mark.parametrize("stop_at", [0.3, 0.45, 0.7])
def test_a_step_that_cancels_between_phases_undoes_everything(store, stop_at):
    """The progress hook runs between the phases (staged, moved, audited); a cancel raised
    there leaves no row, no audit entry, no change-log row and every trigger and index."""
    before = (
        _triggers(store.conn),
        _indexes(store.conn),
        store.scalar("SELECT count(*) FROM audit_log"),
        store.scalar("SELECT count(*) FROM sync_changes"),
    )
    seen = []

    def step(fraction):
        seen.append(fraction)
        if fraction >= stop_at:
            raise KeyboardInterrupt  # what a cancel looks like to insert_many: any exception

    with pytest.raises(KeyboardInterrupt), store.transaction():
        bulk.insert_many(store.conn, "households", COLS, _rows(6000), step=step)
    assert seen == sorted(seen) and seen[-1] == stop_at
    assert store.scalar("SELECT count(*) FROM households") == 0
    assert (
        _triggers(store.conn),
        _indexes(store.conn),
        store.scalar("SELECT count(*) FROM audit_log"),
        store.scalar("SELECT count(*) FROM sync_changes"),
    ) == before
    assert audit.verify(store.conn).ok
