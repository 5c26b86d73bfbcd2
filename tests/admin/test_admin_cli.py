"""The admin commands, run through ``mzdesk.cli.main`` like a user would."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mzdesk.cli import main
from mzdesk.models.site import init_site
from mzdesk.models.store import Store


def run(capsys, *args, env=None, monkeypatch=None):
    with pytest.raises(SystemExit) as exc:
        main([*args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code or 0, out.out + out.err


@pytest.fixture
def db(store):
    from mzdesk.models.demo import generate_demo

    generate_demo(store, 30, seed=3)
    store.close()
    return store.path


def test_operators_login_and_roles_from_the_cli(db, capsys, monkeypatch):
    monkeypatch.setenv("MZDESK_NEW_PASSWORD", "admin-pass-1")
    assert run(capsys, "operators", "add", "admin", "--role", "admin", "--db", db)[0] == 0
    code, out = run(capsys, "operators", "list", "--db", db)
    assert code == 1 and "请先登录" in out
    monkeypatch.setenv("MZDESK_OPERATOR", "admin")
    monkeypatch.setenv("MZDESK_PASSWORD", "admin-pass-1")
    monkeypatch.setenv("MZDESK_NEW_PASSWORD", "viewer-pass-1")
    assert run(capsys, "operators", "add", "viewer", "--role", "readonly", "--db", db)[0] == 0
    code, out = run(capsys, "operators", "list", "--db", db)
    assert code == 0 and "viewer" in out and "只读" in out
    monkeypatch.setenv("MZDESK_OPERATOR", "viewer")
    monkeypatch.setenv("MZDESK_PASSWORD", "viewer-pass-1")
    code, out = run(capsys, "demo", "--households", "2", "--db", db)
    assert code == 1 and "无权" in out
    monkeypatch.setenv("MZDESK_PASSWORD", "wrong")
    code, out = run(capsys, "stats", "--db", db)
    assert code == 1 and "不正确" in out


def test_audit_verify_names_an_entry_edited_behind_the_programs_back(db, capsys):
    code, out = run(capsys, "audit", "verify", "--db", db)
    assert code == 0 and "审计记录完整" in out
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER audit_log_seal_only")
    conn.execute("UPDATE audit_log SET operator = 'nobody' WHERE seq = 17")
    conn.close()
    code, out = run(capsys, "audit", "verify", "--db", db)
    assert code == 1 and "第17条被改动" in out


def test_audit_show_filters_and_masks(db, capsys):
    code, out = run(capsys, "audit", "show", "--household", "1", "--db", db)
    assert code == 0 and "households#1 insert" in out
    assert "341623********" in out
    import re

    assert not re.search(r"\d{17}[\dX]", out)  # no full ID number printed


def test_backup_and_restore_refuse_another_site(db, tmp_path, capsys):
    out_file = tmp_path / "b" / "copy.sqlite"
    code, out = run(capsys, "backup", "--out", str(out_file), "--db", db)
    assert code == 0 and "校验通过" in out and out_file.exists()
    other = Store.open(tmp_path / "other.sqlite")
    init_site(other, "341623102", "别的镇")
    other.close()
    code, out = run(capsys, "restore", str(out_file), "--db", str(tmp_path / "other.sqlite"))
    assert code == 1 and "不是本站" in out
    s = Store.open(tmp_path / "other.sqlite")
    assert s.scalar("SELECT count(*) FROM households") == 0
    s.close()
    code, out = run(
        capsys, "restore", str(out_file), "--force", "--db", str(tmp_path / "other.sqlite")
    )
    assert code == 0
    s = Store.open(tmp_path / "other.sqlite")
    assert s.scalar("SELECT count(*) FROM households") == 30
    assert s.scalar("SELECT code FROM site") == "341623101"


def test_selftest_passes(capsys):
    code, out = run(capsys, "selftest")
    assert code == 0 and "自检通过" in out and "[fail]" not in out


def test_selftest_checks_a_given_database_too(db, capsys):
    code, out = run(capsys, "selftest", "--db", db)
    assert code == 0 and "[ok] 本机数据库" in out and "30 户" in out


def test_once_accounts_exist_reading_needs_a_login_and_exports_a_role(
    db, capsys, monkeypatch, tmp_path
):
    """Without a login the CLI shows nothing (not even a search); a read-only account reads
    but cannot write the rosters with full IDs and bank accounts to a file."""
    for var in ("MZDESK_OPERATOR", "MZDESK_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MZDESK_NEW_PASSWORD", "admin-pass-1")
    assert run(capsys, "operators", "add", "admin", "--role", "admin", "--db", db)[0] == 0
    registry = str(tmp_path / "花名册.xlsx")
    for args in (
        ["households", "find", "王", "--json"],
        ["stats"],
        ["roster", "registry", "--out", registry],
    ):
        code, out = run(capsys, *args, "--db", db)
        assert code == 1 and "请先登录" in out, args
    assert not Path(registry).exists()
    monkeypatch.setenv("MZDESK_OPERATOR", "admin")
    monkeypatch.setenv("MZDESK_PASSWORD", "admin-pass-1")
    monkeypatch.setenv("MZDESK_NEW_PASSWORD", "viewer-pass-1")
    assert run(capsys, "operators", "add", "viewer", "--role", "readonly", "--db", db)[0] == 0
    monkeypatch.setenv("MZDESK_OPERATOR", "viewer")
    monkeypatch.setenv("MZDESK_PASSWORD", "viewer-pass-1")
    assert run(capsys, "households", "find", "王", "--json", "--db", db)[0] == 0
    for args in (
        ["roster", "registry", "--out", registry],
        ["roster", "export", "--month", "2026-11", "--out", registry],
    ):
        code, out = run(capsys, *args, "--db", db)
        assert code == 1 and "无权" in out and "导出含个人信息的名册" in out, args
    assert not Path(registry).exists()
    monkeypatch.setenv("MZDESK_OPERATOR", "admin")
    monkeypatch.setenv("MZDESK_PASSWORD", "admin-pass-1")
    assert run(capsys, "roster", "registry", "--out", registry, "--db", db)[0] == 0
    assert Path(registry).exists()
