"""The audit trail: every change recorded by triggers, hash-chained, tamper-evident."""

from __future__ import annotations

import json

import pytest

from mzdesk.models import audit, auth
from mzdesk.models.store import Store
from tests.helpers import household, make_id


def _saved(registry):
    return registry.save(
        household(
            "红旗村",
            ("张三", "户主", make_id("19800101", 1)),
            ("李四", "配偶", make_id("19820202", 2)),
        )
    )


def test_every_change_records_operator_record_field_old_and_new(store, registry):
    h = _saved(registry)
    store.operator = "clerk-wang"
    h.address = "红旗村3号"
    h.members[1].name = "李四妹"
    registry.save(h)
    changes = audit.history(store.conn, household_id=h.id)
    assert {
        (c.operator, c.table, c.field, c.old, c.new) for c in changes if c.action == "update"
    } == {
        ("clerk-wang", "households", "address", "", "红旗村3号"),
        ("clerk-wang", "members", "name", "李四", "李四妹"),
    }
    inserts = [c for c in changes if c.action == "insert"]
    assert len(inserts) == 3 and all(c.operator == "tester" for c in inserts)
    # the registry's free-and-reset of ID numbers nets out; masked when shown
    assert not any(c.field == "id_number" for c in changes)
    member = next(c for c in inserts if c.table == "members" and "张三" in c.new)
    assert json.loads(member.new)["id_number"] == "341623********001X"


def test_soft_delete_and_per_operator_filter(store, registry):
    h = _saved(registry)
    store.operator = "admin"
    registry.delete(h.id, "迁出")
    mine = audit.history(store.conn, operator="admin")
    assert {(c.table, c.field, c.new) for c in mine if c.field == "status"} == {
        ("households", "status", "deleted"),
        ("members", "status", "deleted"),
    }
    assert all(c.operator == "admin" for c in mine)


def test_chain_verifies_and_the_log_is_append_only(store, registry):
    _saved(registry)
    result = audit.verify(store.conn)
    assert result.ok and result.checked >= 4 and len(result.head) == 64
    with pytest.raises(Exception, match="append-only"):
        store.conn.execute("DELETE FROM audit_log WHERE seq = 1")
    with pytest.raises(Exception, match="append-only"):
        store.conn.execute("UPDATE audit_log SET new = 'x' WHERE seq = 2")


def _behind_the_back(path, *sql):
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute("DROP TRIGGER audit_log_seal_only")
    for s in sql:
        conn.execute(s)
    conn.close()


def test_an_edited_entry_is_named(store, registry):
    h = _saved(registry)
    h.address = "红旗村3号"
    registry.save(h)
    seq = store.scalar("SELECT seq FROM audit_log WHERE field = 'address'")
    store.close()
    _behind_the_back(store.path, f"UPDATE audit_log SET new = '别处' WHERE seq = {seq}")
    result = audit.verify(Store.open(store.path).conn)
    assert not result.ok and result.broken_seq == seq
    assert f"第{seq}条被改动" in result.message()


def test_a_removed_entry_is_named(store, registry):
    _saved(registry)
    store.close()
    _behind_the_back(store.path, "DELETE FROM audit_log WHERE seq = 2")
    result = audit.verify(Store.open(store.path).conn)
    assert not result.ok and result.broken_seq == 2 and "已被删除" in result.message()


def test_a_removed_tail_is_named(store, registry):
    _saved(registry)
    last = store.scalar("SELECT max(seq) FROM audit_log")
    store.close()
    _behind_the_back(store.path, f"DELETE FROM audit_log WHERE seq = {last}")
    result = audit.verify(Store.open(store.path).conn)
    assert not result.ok and result.broken_seq == last


def test_raw_writes_are_audited_and_recorded_as_tampering_at_the_next_open(store, registry):
    import sqlite3

    from mzdesk.models import audit_guard

    h = _saved(registry)
    store.close()
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("UPDATE households SET address = '偷改' WHERE id = ?", (h.id,))
    conn.close()
    readonly = Store.open(store.path, readonly=True)
    result = audit.verify(readonly.conn)
    assert not result.ok and "未封存" in result.message()
    readonly.close()
    s = Store.open(store.path)  # the open records the finding, then seals
    _chain, problems = audit_guard.problems(s.conn)
    assert [p.code for p in problems] == ["audit_unsealed"]
    assert "households" in problems[0].message
    raw = [c for c in audit.history(s.conn, household_id=h.id) if c.field == "address"]
    assert raw[0].new == "偷改"


def test_bulk_create_is_audited_and_sealed_in_one_pass(store, registry):
    hs = [
        household("红旗村", ("户主" + str(i), "户主", make_id("19700101", i)))
        for i in range(1, 200)
    ]
    registry.bulk_create(hs)
    assert store.scalar("SELECT count(*) FROM audit_log WHERE tbl = 'households'") == 199
    assert store.scalar("SELECT count(*) FROM audit_log WHERE hash IS NULL") == 0
    assert audit.verify(store.conn).ok


def test_a_new_column_is_audited_without_touching_the_audit_module(store, registry):
    h = _saved(registry)
    store.conn.execute("ALTER TABLE households ADD COLUMN hobby TEXT NOT NULL DEFAULT ''")
    store.close()
    s = Store.open(store.path)  # refreshes the triggers from the live columns
    with s.transaction():
        s.conn.execute("UPDATE households SET hobby = '养蜂' WHERE id = ?", (h.id,))
    assert [c.new for c in audit.history(s.conn, household_id=h.id) if c.field == "hobby"] == [
        "养蜂"
    ]


def test_password_changes_are_audited_without_the_hash(store):
    auth.add_operator(store, "admin", "admin-pass-1", "admin")
    store.operator = "admin"
    auth.set_password(store, "admin", "admin-pass-2")
    rows = [c for c in audit.history(store.conn, table="operators") if c.field == "pw_hash"]
    assert rows and rows[0].old == "***" and rows[0].new == "***"
    assert "scrypt" not in json.dumps([c.as_dict() for c in audit.history(store.conn)])


def test_entries_left_unsealed_before_an_upgrade_are_recorded_by_it(tmp_path):
    """An older file with a raw edit pending: the upgrade's own commits do not adopt it
    silently; the finding is written once the findings table exists."""
    import shutil
    import sqlite3
    from pathlib import Path

    from mzdesk.models import audit_guard

    path = tmp_path / "old.sqlite"
    shutil.copy(Path(__file__).parents[1] / "fixtures" / "schema_v14.sqlite", path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "INSERT INTO audit_log (at, operator, tbl, record_id, action, field, old, new) "
        "VALUES ('2026-01-01 00:00:00', 'x', 'members', 1, 'update', 'name', '张三', '李鬼')"
    )
    conn.close()
    s = Store.open(path)
    _chain, problems = audit_guard.problems(s.conn)
    assert [p.code for p in problems] == ["audit_unsealed"]
    s.close()
