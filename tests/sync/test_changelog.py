"""The change log covers every table that matters, and sees every write path."""

from __future__ import annotations

import sqlite3

import pytest

from mzdesk.models.registry import Registry
from mzdesk.sync import changelog
from mzdesk.sync.batch import record_line
from tests.helpers import household, make_id


def tables_with_uid(conn) -> set[str]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t for t in names if "uid" in [c[1] for c in conn.execute(f"PRAGMA table_info({t})")]}


def test_every_table_with_a_uid_is_synced_or_declared_local(store):
    """Adding a table with a uid?  Register it in changelog.SYNCED_TABLES (or LOCAL_TABLES)."""
    missing = (
        tables_with_uid(store.conn) - set(changelog.SYNCED_TABLES) - set(changelog.LOCAL_TABLES)
    )
    assert not missing, (
        f"add to mzdesk/sync/changelog.py SYNCED_TABLES or LOCAL_TABLES: {sorted(missing)}"
    )


def test_parents_come_before_children(store):
    order = {t: i for i, t in enumerate(changelog.SYNCED_TABLES)}
    for t in changelog.synced_tables(store.conn):
        for parent in {r[2] for r in store.conn.execute(f"PRAGMA foreign_key_list({t})")}:
            assert order[parent] < order[t], (parent, t)


def test_every_write_is_logged_once_per_record(store):
    h = Registry(store).save(household("红旗村", ("张三", "户主", make_id("19700101", 1))))
    before = changelog.log_position(store.conn)
    with store.transaction():  # a raw session write, not through any service
        store.conn.execute("UPDATE households SET phone = '13900000000' WHERE id = ?", (h.id,))
    rows = store.conn.execute(
        "SELECT tbl, uid, op, seq FROM sync_changes WHERE tbl = 'households'"
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [("households", h.uid, "upsert")] and rows[0][
        3
    ] > before
    Registry(store).delete(h.id, "迁出")  # soft delete: travels as an update
    assert store.scalar("SELECT op FROM sync_changes WHERE uid = ?", (h.uid,)) == "upsert"


def test_a_newly_registered_table_is_covered_and_its_rows_queued(store, monkeypatch):
    store.conn.execute(
        "CREATE TABLE later_things (id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, x TEXT)"
    )
    store.conn.execute("INSERT INTO later_things (uid, x) VALUES ('u1', 'a')")
    monkeypatch.setattr(changelog, "SYNCED_TABLES", (*changelog.SYNCED_TABLES, "later_things"))
    with store.transaction():
        assert changelog.ensure_triggers(store.conn) == ["later_things"]
    assert store.scalar("SELECT count(*) FROM sync_changes WHERE tbl = 'later_things'") == 1
    store.conn.execute("INSERT INTO later_things (uid, x) VALUES ('u2', 'b')")
    assert store.scalar("SELECT count(*) FROM sync_changes WHERE tbl = 'later_things'") == 2


def test_sqlite_encoding_equals_python_canonical_json(store):
    """Rows are encoded by SQLite's json_object on export and by Python on import: same text."""
    tricky = "".join(chr(i) for i in range(32)) + '"\\/ 中文😀\u2028\x7f'
    h = Registry(store).save(
        household("红旗村", ("张三", "户主", make_id("19700101", 1)), notes=tricky)
    )
    codec = changelog.TableCodec.load(store.conn, "households")
    sql = changelog.select_sql(codec, ("id", None))
    _, uid, _, by_sqlite, _ = store.conn.execute(sql + " WHERE t.id = ?", (h.id,)).fetchone()
    row = dict(
        zip(
            [d[0] for d in store.conn.execute("SELECT * FROM households").description],
            store.conn.execute("SELECT * FROM households WHERE id = ?", (h.id,)).fetchone(),
            strict=True,
        )
    )
    assert codec.encode(row, {})[2] == by_sqlite and uid == h.uid


def test_sqlite_built_lines_equal_record_line(store):
    """The export takes each record's line from SQLite as bytes: the same line record_line
    writes, and its row part the same canonical JSON Python encodes."""
    tricky = "".join(chr(i) for i in range(32)) + '"\\/ 中文😀\u2028\x7f'
    h = Registry(store).save(
        household("红旗村", ("张三", "户主", make_id("19700101", 1)), notes=tricky)
    )
    codec = changelog.TableCodec.load(store.conn, "households")
    _, uid, meta, content, _ = store.conn.execute(
        changelog.select_sql(codec, ("id", None)) + " WHERE t.id = ?", (h.id,)
    ).fetchone()
    uid2, head, body, hid = store.conn.execute(
        changelog.line_sql(codec, ("id", None)) + " WHERE t.id = ?", (h.id,)
    ).fetchone()
    assert (uid2, hid) == (uid, h.id) and isinstance(head, bytes) and isinstance(body, bytes)
    assert head + body + b"}\n" == record_line(uid, "upsert", meta, content).encode("utf-8")
    assert body.decode("utf-8") == content


def test_packed_hashes_split_back_into_uid_and_hash_for_any_uid():
    """sync_base and sync_pending are written from packed_hashes through UID_SQL/HASH_SQL:
    uids of any length and content (a peer's, an old format's) come back as they went in,
    and a hash of another width is refused rather than shifting every uid."""
    uids = ["0123456789abcdef0123456789abcdef", "u", "村-甲\x1f'\"", "a" * 70]
    hashes = [changelog.content_hash(u) for u in uids]
    conn = sqlite3.connect(":memory:")
    got = conn.execute(
        f"SELECT {changelog.UID_SQL}, {changelog.HASH_SQL} FROM json_each(?) ORDER BY key",
        (changelog.packed_hashes(uids, hashes),),
    ).fetchall()
    assert got == list(zip(uids, hashes, strict=True))
    with pytest.raises(ValueError):
        changelog.packed_hashes(["u"], ["abc"])
