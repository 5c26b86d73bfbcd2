"""Issue 20, "Roles that hold nowhere else": each attack, as the issue tried it.

The accounts log in as the CLI does (``MZDESK_OPERATOR``/``MZDESK_PASSWORD``) on a copy of
the prepared township of the role matrix (site keys, the county and a field laptop
trusted, one account per role).  Before the fix, each of these succeeded.
"""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from mzdesk.models import auth
from mzdesk.models.auth import PermissionDenied
from mzdesk.models.store import Store
from mzdesk.sync.keys import get_trusted, key_file
from tests.admin.test_roles_matrix import ACCOUNTS, SAMPLE_XLSX, township  # noqa: F401
from tests.cli.test_hostile_args import _run_in_process

COUNTY = "341623"
FIELD_SITE = "341623101001"


@pytest.fixture
def site(township, tmp_path, monkeypatch):  # noqa: F811
    """A fresh copy of the township; ``site.run(role, *argv)`` runs a command as ``role``."""
    work = tmp_path / "w"
    shutil.copytree(township["tpl"], work)
    db = work / township["db_name"]
    monkeypatch.delenv("MZDESK_DB_KEY", raising=False)
    monkeypatch.delenv("MZDESK_KEY_PASSPHRASE", raising=False)

    class Site:
        path = db
        base = township["base"]

        def run(self, role: str, *argv: str) -> tuple[int, str, str]:
            name, password = ACCOUNTS[role]
            monkeypatch.setenv(auth.ENV_OPERATOR, name)
            monkeypatch.setenv(auth.ENV_PASSWORD, password)
            return _run_in_process([*argv, "--db", str(db)])

        def store(self, role: str) -> Store:
            s = Store.open(db, create=False)
            auth.login(s, *ACCOUNTS[role])
            return s

    return Site()


def denied(result: tuple[int, str, str]) -> bool:
    code, _out, err = result
    return code != 0 and "[permission_denied]" in err


def test_readonly_cannot_write_the_site_secret_key(site, tmp_path):
    out = tmp_path / "identity.txt"
    assert denied(site.run("readonly", "keys", "export-identity", "--out", str(out)))
    assert not out.exists()
    assert site.run("admin", "keys", "export-identity", "--out", str(out))[0] == 0
    assert "AGE-SECRET-KEY" in out.read_text()


def test_readonly_cannot_export_a_full_snapshot(site, tmp_path):
    out = tmp_path / "full.age"
    assert denied(
        site.run("readonly", "sync", "export", "--to", COUNTY, "--out", str(out), "--full")
    )
    assert not out.exists()
    # nor can a field laptop account: a full snapshot is everyone's data (data.export)
    assert denied(site.run("field", "sync", "export", "--to", COUNTY, "--out", str(out), "--full"))
    assert site.run("clerk", "sync", "export", "--to", COUNTY, "--out", str(out), "--full")[0] == 0
    assert out.stat().st_size > 0


def test_readonly_cannot_import_a_batch_or_resolve_a_conflict(site, tmp_path):
    from mzdesk.sync.apply import import_batch
    from mzdesk.sync.conflicts import resolve_conflict
    from mzdesk.sync.keys import load_keys

    batch = tmp_path / "b.age"
    batch.write_bytes(b"not even a batch")
    assert denied(site.run("readonly", "sync", "import", str(batch)))
    assert denied(site.run("readonly", "sync", "resolve", "1", "--keep", "remote"))
    store = site.store("readonly")
    try:
        with pytest.raises(PermissionDenied):
            import_batch(store, load_keys(store), batch.read_bytes(), batch.name)
        with pytest.raises(PermissionDenied):
            resolve_conflict(store, 1, {"bank_account": "remote"})
    finally:
        store.close()


def test_readonly_cannot_replace_keys_trust_or_assign(site):
    before = key_file_text(site)
    assert denied(site.run("readonly", "keys", "init", "--force"))
    assert key_file_text(site) == before
    public = str(site.base / f"{COUNTY}.json")
    assert denied(site.run("readonly", "keys", "trust", public))
    assert denied(site.run("readonly", "sync", "assign", FIELD_SITE, "新华村"))
    store = site.store("admin")
    try:
        assert get_trusted(store, FIELD_SITE).villages == []
    finally:
        store.close()


def key_file_text(site) -> str:
    store = Store.open(site.path, create=False, readonly=True)
    try:
        return key_file(store).read_text()
    finally:
        store.close()


def test_readonly_cannot_undo_a_roster_import(site):
    from mzdesk.roster.import_undo import undo

    code, out, err = site.run("clerk", "roster", "import", str(SAMPLE_XLSX))
    assert code == 0, err
    store = site.store("admin")
    count = store.scalar("SELECT count(*) FROM households WHERE status = 'active'")
    store.close()
    assert denied(site.run("readonly", "roster", "undo"))
    store = site.store("readonly")
    try:
        with pytest.raises(PermissionDenied):
            undo(store)
        assert store.scalar("SELECT count(*) FROM households WHERE status = 'active'") == count
    finally:
        store.close()


def test_field_cannot_revoke_the_county_key(site):
    from mzdesk.sync.keys import revoke

    assert denied(site.run("field", "keys", "revoke", COUNTY))
    store = site.store("field")
    try:
        with pytest.raises(PermissionDenied):
            revoke(store, COUNTY)
        assert not get_trusted(store, COUNTY).revoked
    finally:
        store.close()


def test_operator_option_is_a_recorded_name_never_an_identity(site):
    apply = ("enrol", "apply", "--household", "9", "--category", "rural_dibao", "--amount", "300")
    assert denied(site.run("readonly", *apply, "--operator", "boss"))
    code, out, err = site.run("clerk", *apply, "--operator", "boss")
    assert code == 0, err
    store = site.store("admin")
    try:
        by = store.scalar("SELECT created_by FROM enrolments ORDER BY id DESC LIMIT 1")
        assert by == "u-clerk（经办人：boss）"
        entry = store.one(
            "SELECT operator FROM audit_log WHERE tbl = 'enrolments' ORDER BY seq DESC"
        )
        assert entry["operator"] == "u-clerk（经办人：boss）"
    finally:
        store.close()


def test_setting_store_operator_grants_nothing(site):
    from mzdesk.sync.keys import revoke

    store = site.store("readonly")
    try:
        store.operator = "u-admin"  # the old identity: a plain string
        with pytest.raises(PermissionDenied, match="只读"):
            revoke(store, COUNTY)
        auth.set_agent(store, "u-admin")
        assert not auth.allowed(store, "keys.manage")
    finally:
        store.close()


def test_a_forged_principal_is_refused(site):
    store = site.store("readonly")
    try:
        real = store.principal
        assert real.genuine() and auth.role_of(store) == "readonly"
        store.principal = auth.Principal("u-admin", "admin", "管理员")
        assert auth.role_of(store) is None
        with pytest.raises(PermissionDenied) as e:
            auth.require(store, "keys.manage")
        assert e.value.code == "not_logged_in"
        store.principal = dataclasses.replace(real, role="admin")  # the seal stays behind
        assert not auth.allowed(store, "records.view")
        store.principal = dataclasses.replace(real, account="u-admin", role="admin")
        assert not auth.allowed(store, "keys.manage")
        with pytest.raises(PermissionDenied):
            auth.act_as(store, auth.Principal("u-admin", "admin", ""))
        auth.act_as(store, real)  # a genuine one moves to a worker's store
        assert auth.role_of(store) == "readonly"
    finally:
        store.close()


def test_a_role_changed_after_login_needs_a_new_login(site):
    store = site.store("clerk")
    admin = site.store("admin")
    try:
        admin.conn.execute("UPDATE operators SET role = 'admin' WHERE name = 'u-clerk'")
        admin.conn.commit()
        with pytest.raises(PermissionDenied, match="重新登录"):
            auth.require(store, "keys.manage")
    finally:
        store.close()
        admin.close()


def test_display_name_is_the_principals(site):
    store = site.store("clerk")
    try:
        assert auth.display_name(store) == "clerk的姓名"
        auth.set_agent(store, "刘干事")
        assert auth.display_name(store) == "clerk的姓名"  # the 经办人 is no identity
    finally:
        store.close()


def test_the_window_shows_the_display_name_not_the_account(qtbot, site):
    from PySide6.QtWidgets import QLabel

    from mzdesk.ui.main_window import MainWindow

    store = site.store("clerk")
    try:
        window = MainWindow(store)
        qtbot.addWidget(window)
        texts = [label.text() for label in window.statusBar().findChildren(QLabel)]
        assert "操作员：clerk的姓名" in texts and "操作员：u-clerk" not in texts
        window.close()
    finally:
        store.close()
