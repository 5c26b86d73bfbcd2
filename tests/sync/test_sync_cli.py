"""``mzdesk keys …`` and ``mzdesk sync …``: a township and a county exchanging through the CLI."""

from __future__ import annotations

import json
import stat
import subprocess

from click.testing import CliRunner

from mzdesk.cli import cli
from mzdesk.sync.keys import PublicKey, qr_text
from tests.cli.test_cli import assert_one_line_failure, mz
from tests.sync.test_keys_and_age import _zbar


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_keys_and_sync_commands(tmp_path, monkeypatch):
    monkeypatch.delenv("MZDESK_KEY_PASSPHRASE", raising=False)
    t, c = str(tmp_path / "t.sqlite"), str(tmp_path / "c.sqlite")
    run(
        "init", "--db", t, "--site-code", "341623101", "--site-name", "青山镇", "--role", "township"
    )
    run("init", "--db", c, "--site-code", "341623", "--site-name", "县民政局", "--role", "county")
    run("demo", "--db", t, "--households", "5")
    assert "指纹" in run("keys", "init", "--db", t)
    run("keys", "init", "--db", c, "--passphrase", "县局口令")
    run("keys", "export-public", "--db", t, "--out", str(tmp_path / "t.pub"))
    # the public half needs no passphrase; the QR code holds the same public key file
    run(
        "keys",
        "export-public",
        "--db",
        c,
        "--out",
        str(tmp_path / "c.pub"),
        "--qr",
        str(tmp_path / "c.png"),
    )
    assert _zbar(tmp_path / "c.png") == qr_text(
        PublicKey.from_json((tmp_path / "c.pub").read_text(encoding="utf-8"))
    )
    monkeypatch.setenv("MZDESK_KEY_PASSPHRASE", "县局口令")
    run("keys", "trust", "--db", t, str(tmp_path / "c.pub"))
    run("keys", "trust", "--db", c, str(tmp_path / "t.pub"))
    shown = json.loads(run("keys", "show", "--db", t, "--json"))
    assert [s["code"] for s in shown["trusted"]] == ["341623"]
    assert shown["site"]["fingerprint"] in run("keys", "show", "--db", t)

    b1 = str(tmp_path / "b1.age")
    assert "第 1 批" in run("sync", "export", "--db", t, "--to", "341623", "--out", b1)
    report = json.loads(run("sync", "import", b1, "--db", c, "--json"))
    assert report["tables"]["households"]["new"] == 5 and report["sequence"] == 1
    status = json.loads(run("sync", "status", "--db", t, "--json"))
    assert [p["seq"] for p in status["pending_acks"]] == [1]
    back = str(tmp_path / "back.age")
    run("sync", "export", "--db", c, "--to", "341623101", "--out", back)
    assert "已导入" in run("sync", "import", back, "--db", t)
    assert json.loads(run("sync", "status", "--db", t, "--json"))["pending_acks"] == []
    run(
        "sync",
        "export",
        "--db",
        t,
        "--to",
        "341623",
        "--out",
        str(tmp_path / "again.age"),
        "--resend",
        "1",
    )
    assert (tmp_path / "again.age").read_bytes() == (tmp_path / "b1.age").read_bytes()

    ident = tmp_path / "c.id"
    run("keys", "export-identity", "--db", c, "--out", str(ident))
    assert stat.S_IMODE(ident.stat().st_mode) == 0o600
    assert subprocess.run(["age", "-d", "-i", str(ident), b1], capture_output=True).returncode == 0

    # a replay through the real entry point: one line, exit 1, nothing changed
    line = assert_one_line_failure(mz("sync", "import", b1, "--db", c, ok=False), 1)
    assert "[replay]" in line
    run("keys", "revoke", "--db", c, "341623101")
    run("sync", "export", "--db", t, "--to", "341623", "--out", str(tmp_path / "b2.age"))
    line = assert_one_line_failure(
        mz("sync", "import", str(tmp_path / "b2.age"), "--db", c, ok=False), 1
    )
    assert "[revoked_key]" in line


def test_field_laptop_gets_only_its_villages_via_assign(tmp_path, monkeypatch):
    monkeypatch.delenv("MZDESK_KEY_PASSPHRASE", raising=False)
    t, f = str(tmp_path / "t.sqlite"), str(tmp_path / "f.sqlite")
    run(
        "init", "--db", t, "--site-code", "341623101", "--site-name", "青山镇", "--role", "township"
    )
    run(
        "init",
        "--db",
        f,
        "--site-code",
        "341623101001",
        "--site-name",
        "入户终端",
        "--role",
        "field",
    )
    run("demo", "--db", t, "--households", "12")
    for db, pub in ((t, "t.pub"), (f, "f.pub")):
        run("keys", "init", "--db", db)
        run("keys", "export-public", "--db", db, "--out", str(tmp_path / pub))
    run("keys", "trust", "--db", t, str(tmp_path / "f.pub"))
    run("keys", "trust", "--db", f, str(tmp_path / "t.pub"))
    out = str(tmp_path / "down.age")
    result = CliRunner().invoke(
        cli, ["sync", "export", "--db", t, "--to", "341623101001", "--out", out]
    )
    assert result.exit_code != 0 and "分配村" in str(result.exception)
    from mzdesk.models.store import Store

    s = Store.open(t)
    village = s.scalar("SELECT village FROM households ORDER BY id LIMIT 1")
    n = s.scalar("SELECT count(*) FROM households WHERE village = ?", (village,))
    s.close()
    run("sync", "assign", "--db", t, "341623101001", village)
    run("sync", "export", "--db", t, "--to", "341623101001", "--out", out)
    report = json.loads(run("sync", "import", out, "--db", f, "--json"))
    assert report["tables"]["households"]["new"] == n < 12

    # the village handed to someone else: the next batch withdraws it from the laptop
    s = Store.open(t)
    other = s.scalar("SELECT village FROM households WHERE village != ? LIMIT 1", (village,))
    s.close()
    said = run("sync", "assign", "--db", t, "341623101001", other)
    assert f"下发新分配的 {other}" in said and f"撤回 {village}" in said
    out2 = str(tmp_path / "down2.age")
    said = run("sync", "export", "--db", t, "--to", "341623101001", "--out", out2)
    assert f"撤回 {n} 户" in said
    said = run("sync", "import", out2, "--db", f)
    assert f"已撤回 {n} 户" in said
    s = Store.open(f)
    assert [r[0] for r in s.conn.execute("SELECT DISTINCT village FROM households")] == [other]
    s.close()
    # the laptop's next batch up confirms it, and says so
    up = str(tmp_path / "up.age")
    said = run("sync", "export", "--db", f, "--to", "341623101", "--out", up)
    assert f"确认已撤回 {n} 户" in said and "无变更" not in said
    assert f"对方已撤回 {n} 户" in run("sync", "import", up, "--db", t)


def test_the_operators_login_unlocks_the_keys_from_the_cli_until_the_password_changes(
    tmp_path, monkeypatch
):
    """Real processes, as a clerk's script runs them: the passphrase once while logged in,
    then MZDESK_OPERATOR/MZDESK_PASSWORD alone; an admin's password reset (another process,
    which must drop the seal itself) ends that."""
    monkeypatch.delenv("MZDESK_KEY_PASSPHRASE", raising=False)
    for var in ("MZDESK_OPERATOR", "MZDESK_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    t, c = str(tmp_path / "t.sqlite"), str(tmp_path / "c.sqlite")
    run("init", "--db", t, "--site-code", "341623101", "--site-name", "青山镇")
    run("init", "--db", c, "--site-code", "341623", "--site-name", "县民政局", "--role", "county")
    run("keys", "init", "--db", c)
    run("keys", "export-public", "--db", c, "--out", str(tmp_path / "c.pub"))
    run("keys", "trust", "--db", t, str(tmp_path / "c.pub"))
    run("keys", "init", "--db", t, "--passphrase", "山高水长")
    run("operators", "add", "wang", "--role", "admin", "--password", "wang-pass-1", "--db", t)
    monkeypatch.setenv("MZDESK_OPERATOR", "wang")
    monkeypatch.setenv("MZDESK_PASSWORD", "wang-pass-1")
    run("operators", "add", "li", "--role", "clerk", "--password", "li-pass-01", "--db", t)
    monkeypatch.setenv("MZDESK_OPERATOR", "li")
    monkeypatch.setenv("MZDESK_PASSWORD", "li-pass-01")
    out = lambda n: str(tmp_path / f"b{n}.age")  # noqa: E731
    assert "口令保护" in assert_one_line_failure(
        mz("sync", "export", "--db", t, "--to", "341623", "--out", out(1), ok=False)
    )
    mz("sync", "export", "--db", t, "--to", "341623", "--out", out(1), "--passphrase", "山高水长")
    mz("sync", "export", "--db", t, "--to", "341623", "--out", out(2))  # the login alone
    key_file = tmp_path / "t.sqlite.sync" / "keys" / "site-key.json"
    assert set(json.loads(key_file.read_text(encoding="utf-8"))["logins"]) == {"li"}
    monkeypatch.setenv("MZDESK_OPERATOR", "wang")
    monkeypatch.setenv("MZDESK_PASSWORD", "wang-pass-1")
    mz("operators", "passwd", "li", "--password", "li-pass-02", "--db", t)
    assert json.loads(key_file.read_text(encoding="utf-8"))["logins"] == {}  # gone at once
    monkeypatch.setenv("MZDESK_OPERATOR", "li")
    for password in ("li-pass-01", "li-pass-02"):  # the old one cannot log in; the new one
        monkeypatch.setenv("MZDESK_PASSWORD", password)  # has no seal yet
        failure = assert_one_line_failure(
            mz("sync", "export", "--db", t, "--to", "341623", "--out", out(3), ok=False)
        )
        assert ("口令保护" if password == "li-pass-02" else "密码") in failure
    assert not (tmp_path / "b3.age").exists()


def test_export_public_on_a_full_disk_keeps_the_old_file(tmp_path, monkeypatch):
    import io
    import pathlib

    from tests.roster.test_roster_cli import _FullDisk

    monkeypatch.delenv("MZDESK_KEY_PASSPHRASE", raising=False)
    t = str(tmp_path / "t.sqlite")
    run("init", "--db", t, "--site-code", "341623101", "--site-name", "青山镇")
    run("keys", "init", "--db", t)
    pub = tmp_path / "k.pub"
    pub.write_text("the key handed out last year", encoding="utf-8")
    real_open = io.open

    def full(file, mode="r", *a, **kw):
        if pathlib.Path(file).name.startswith("k.pub") and "w" in mode:
            raw = _FullDisk(file, "w+")
            raw.room = 0
            return raw if "b" in mode else io.TextIOWrapper(raw, encoding="utf-8")
        return real_open(file, mode, *a, **kw)

    monkeypatch.setattr(pathlib.io, "open", full)
    result = CliRunner().invoke(cli, ["keys", "export-public", "--db", t, "--out", str(pub)])
    monkeypatch.undo()
    assert result.exit_code != 0
    assert pub.read_text(encoding="utf-8") == "the key handed out last year"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("k.")) == ["k.pub"]


def test_conflicts_are_listed_and_decided_from_the_cli(tmp_path, monkeypatch):
    """`sync conflicts` shows both versions (IDs masked), `sync resolve` decides one; the
    lower site cannot decide, and an edit conflict cannot just be dismissed."""
    import re

    from tests.sync.sites import edit, link, make_site

    monkeypatch.delenv("MZDESK_KEY_PASSPHRASE", raising=False)
    from mzdesk.models.demo import generate_demo

    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    generate_demo(t.store, 4, seed=2)
    link(t, c)
    c.import_(t.export(c))
    m = t.store.scalar("SELECT uid FROM members ORDER BY id LIMIT 1")
    edit(t.store, "members", m, occupation="务农", health="慢性病")
    edit(c.store, "members", m, occupation="外出务工")
    c.import_(t.export(c))
    t.import_(c.export(t))
    t.store.close()
    c.store.close()
    tdb, cdb = str(t.dir / "mz.sqlite"), str(c.dir / "mz.sqlite")
    [found] = json.loads(run("sync", "conflicts", "--db", cdb, "--json"))
    assert found["kind"] == "edit" and found["fields"] == ["occupation"]
    sides = {s["field"]: s for s in found["sides"]}
    assert sides["occupation"]["local"] == "外出务工" and sides["occupation"]["conflict"]
    assert sides["occupation"]["remote"] == "务农" and not sides["health"]["conflict"]
    assert "********" in sides["id_number"]["local"]
    text = run("sync", "conflicts", "--db", cdb)
    assert f"#{found['id']}" in text and "双方修改" in text and "务农" in text
    assert not re.search(r"\d{17}[\dX]", text)  # no full ID number in a terminal
    [low] = json.loads(run("sync", "conflicts", "--db", tdb, "--json"))
    out = assert_one_line_failure(
        mz("sync", "resolve", str(low["id"]), "--keep", "local", "--db", tdb, ok=False), 1
    )
    assert "上级站点" in out
    out = assert_one_line_failure(
        mz("sync", "resolve", str(found["id"]), "--keep", "dismiss", "--db", cdb, ok=False), 1
    )
    assert "须作出决定" in out
    assert mz("sync", "resolve", str(found["id"]), "--db", cdb, ok=False).returncode == 2
    run("sync", "resolve", str(found["id"]), "--field", "occupation=remote", "--db", cdb)
    assert "没有待处理的冲突" in run("sync", "conflicts", "--db", cdb)
    b = str(tmp_path / "decision.age")
    run("sync", "export", "--db", cdb, "--to", "341623101", "--out", b)
    run("sync", "import", b, "--db", tdb)
    assert json.loads(run("sync", "conflicts", "--db", tdb, "--json")) == []
    from mzdesk.models.store import Store

    for db in (tdb, cdb):
        s = Store.open(db, create=False)
        assert s.scalar("SELECT occupation FROM members WHERE uid = ?", (m,)) == "务农"
        s.close()
