"""Tampering by someone with the file (issue 20, item 4): raw ``sqlite3`` edits on a real
database, then a login or a write, then ``mzdesk audit verify`` in a subprocess.  Each kind
is reported with its own code; before, each one said 审计记录完整."""

from __future__ import annotations

import json
import sqlite3

import pytest

from mzdesk.models import audit, auth
from mzdesk.models.demo import generate_demo
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from tests.cli.test_cli import mz

ADMIN = ("admin", "admin-pass-1")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "mz.sqlite"
    store = Store.open(path, operator="tester")
    init_site(store, "341623101", "青山镇", "township")
    generate_demo(store, 8, seed=5)
    auth.add_operator(store, *ADMIN, "admin")
    store.operator = "admin"
    auth.add_operator(store, "viewer", "viewer-pass-1", "readonly")
    auth.add_operator(store, "clerk", "clerk-pass-1", "clerk")
    store.close()
    return path


def raw(path, *sql: str) -> None:
    """Statements run by a plain sqlite3 session, as an attacker with the file would."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for s in sql:
            conn.execute(s)
    finally:
        conn.close()


def trigger(path, name: str) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
    finally:
        conn.close()


def login(path, name="clerk", password="clerk-pass-1") -> None:
    """Any login (a real open and login, which writes last_login_at)."""
    store = Store.open(path)
    try:
        auth.login(store, name, password)
    finally:
        store.close()


def as_user(account, *args: str):
    """``python -m mzdesk ARGS`` logged in as ``account`` (name, password)."""
    import os

    os.environ["MZDESK_OPERATOR"], os.environ["MZDESK_PASSWORD"] = account
    try:
        proc = mz(*args, ok=False)
    finally:
        del os.environ["MZDESK_OPERATOR"], os.environ["MZDESK_PASSWORD"]
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def verify(path, account=ADMIN) -> tuple[int, dict]:
    proc = as_user(account, "audit", "verify", "--json", "--db", str(path))
    return proc.returncode, json.loads(proc.stdout)


def codes(report: dict) -> set[str]:
    return {p["code"] for p in report["problems"]}


def test_an_untouched_file_verifies(db):
    login(db)
    code, report = verify(db)
    assert code == 0 and report["ok"] and report["problems"] == []


def test_a_raw_edit_is_not_sealed_by_the_next_login(db):
    raw(db, "UPDATE members SET name = '李鬼' WHERE id = 1")
    login(db)  # wrote last_login_at: that write used to seal the pending entry
    code, report = verify(db)
    assert code == 1 and codes(report) == {"audit_unsealed"}
    assert "members" in report["problems"][0]["message"]
    check = as_user(ADMIN, "check", "--json", "--db", str(db))
    assert check.returncode == 1
    assert {p["code"] for p in json.loads(check.stdout)["audit"]} == {"audit_unsealed"}


def test_a_raw_edit_on_a_field_laptop_is_not_sealed_by_its_export(tmp_path):
    from tests.sync.sites import link, make_site

    t = make_site(tmp_path, "341623101", "青山镇", "township")
    f = make_site(tmp_path, "341623101001", "青山镇入户终端", "field")
    generate_demo(t.store, 4, seed=2)
    villages = [r[0] for r in t.store.conn.execute("SELECT DISTINCT village FROM households")]
    link(t, f, villages=villages)
    f.import_(t.export(f))
    path = f.store.path
    f.store.close()
    raw(path, "UPDATE enrolments SET monthly_fen = 9999900 WHERE id = 1")
    f.store = Store.open(path)
    f.export(t)  # the next normal export: it used to seal the edit under the row's updated_by
    f.store.close()
    t.store.close()
    code = mz("audit", "verify", "--json", "--db", path, ok=False)
    report = json.loads(code.stdout)
    assert code.returncode == 1 and codes(report) == {"audit_unsealed"}
    assert "enrolments" in report["problems"][0]["message"]


def test_raising_a_role_behind_a_dropped_trigger_is_seen_against_the_chain(db):
    sql = trigger(db, "audit_operators_update")
    raw(
        db,
        "DROP TRIGGER audit_operators_update",
        "UPDATE operators SET role = 'admin' WHERE name = 'viewer'",
        sql,  # put back as it was: the trigger check alone would see nothing
    )
    login(db)
    code, report = verify(db)
    assert code == 1 and codes(report) == {"audit_account_mismatch"}
    assert (
        "viewer" in report["problems"][0]["message"] and "角色" in report["problems"][0]["message"]
    )


def test_raising_a_role_with_the_triggers_in_place_is_an_unsealed_entry(db):
    raw(db, "UPDATE operators SET role = 'admin' WHERE name = 'viewer'")
    login(db)
    code, report = verify(db)
    assert code == 1 and codes(report) == {"audit_unsealed"}
    assert "operators" in report["problems"][0]["message"]


def test_a_password_hash_copied_onto_another_account_is_seen(db):
    sql = trigger(db, "audit_operators_update")
    raw(
        db,
        "DROP TRIGGER audit_operators_update",
        "UPDATE operators SET pw_hash = (SELECT pw_hash FROM operators WHERE name = 'clerk') "
        "WHERE name = 'admin'",
        sql,
    )
    login(db, "admin", "clerk-pass-1")  # clerk's password now opens the admin account
    code, report = verify(db, ("admin", "clerk-pass-1"))
    assert code == 1 and codes(report) == {"audit_account_mismatch"}
    assert (
        "admin" in report["problems"][0]["message"] and "密码" in report["problems"][0]["message"]
    )


def test_an_old_entry_edited_with_its_hash_nulled_is_reported(db):
    guard = trigger(db, "audit_log_seal_only")
    raw(
        db,
        "DROP TRIGGER audit_log_seal_only",
        'UPDATE audit_log SET new = \'{"name": "李鬼"}\', hash = NULL WHERE seq = 5',
        "UPDATE audit_log SET hash = NULL WHERE seq > 5",  # so that sealing redoes the chain
        guard,
    )
    login(db)
    code, report = verify(db)
    assert code == 1 and codes(report) == {"audit_unsealed"}
    assert report["problems"][0]["seq"] == 5


def test_a_trigger_dropped_before_an_edit_is_reported_by_verify_and_check(db):
    raw(db, "DROP TRIGGER audit_members_update", "UPDATE members SET name = '李鬼' WHERE id = 1")
    login(db)
    code, report = verify(db)
    assert code == 1 and codes(report) == {"audit_trigger_missing"}
    assert "audit_members_update" in report["problems"][0]["message"]
    check = as_user(ADMIN, "check", "--json", "--db", str(db))
    assert check.returncode == 1
    assert {p["code"] for p in json.loads(check.stdout)["audit"]} == {"audit_trigger_missing"}


def test_an_altered_trigger_is_reported(db):
    raw(
        db,
        "DROP TRIGGER audit_members_update",
        "CREATE TRIGGER audit_members_update AFTER UPDATE ON members WHEN 0 BEGIN SELECT 1; END",
        "UPDATE members SET name = '李鬼' WHERE id = 1",
    )
    code, report = verify(db)  # read-only: nothing recorded, the live check sees it
    assert code == 1 and codes(report) == {"audit_trigger_altered"}
    login(db)  # the open records it and restores the trigger
    assert "WHEN 0" not in trigger(db, "audit_members_update")
    code, report = verify(db)
    assert code == 1 and codes(report) == {"audit_trigger_altered"}


def test_a_chain_recomputed_with_the_programs_own_function_breaks_a_signed_checkpoint(tmp_path):
    from tests.sync.sites import link, make_site

    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    generate_demo(t.store, 4, seed=2)
    link(t, c)
    c.import_(t.export(c))  # the export signs the head
    path = t.store.path
    t.store.close()
    c.store.close()
    recompute(path, "UPDATE audit_log SET operator = 'nobody' WHERE seq = 3")
    code = mz("audit", "verify", "--json", "--db", path, ok=False)
    report = json.loads(code.stdout)
    assert code.returncode == 1 and codes(report) == {"checkpoint_mismatch"}


def recompute(path, *edits: str) -> None:
    """Edit entries, then recompute every hash with mzdesk's own function (the chain has
    no secret), guards dropped and put back."""
    guard = trigger(path, "audit_log_seal_only")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER audit_log_seal_only")
        for e in edits:
            conn.execute(e)
        prev = audit.GENESIS
        rows = conn.execute(
            "SELECT seq, at, operator, tbl, record_id, record_uid, household_id, action, field, "
            "old, new FROM audit_log ORDER BY seq"
        ).fetchall()
        conn.execute("BEGIN")
        for row in rows:
            prev = audit.entry_hash(prev, row)
            conn.execute("UPDATE audit_log SET hash = ? WHERE seq = ?", (prev, row[0]))
        conn.execute("COMMIT")
        conn.execute(guard)
    finally:
        conn.close()


def test_a_finding_deleted_behind_mzdesks_back_is_still_reported(db):
    raw(db, "UPDATE members SET name = '李鬼' WHERE id = 1")
    login(db)  # recorded
    guard = trigger(db, "audit_findings_no_delete")
    audited = trigger(db, "audit_audit_findings_delete")
    raw(
        db,
        "DROP TRIGGER audit_findings_no_delete",
        "DROP TRIGGER audit_audit_findings_delete",
        "DELETE FROM audit_findings",
        guard,
        audited,
    )
    code, report = verify(db)  # the chain holds each finding's own entry
    assert code == 1 and codes(report) == {"audit_unsealed"}
