"""Other programs' files are left alone; read-only commands never create, upgrade or write.

Every command is classified read or write (``cli.common.COMMAND_MODES``); each read-only one
runs, as a real process, on a 0-byte file, a foreign SQLite database, one with its own
``visits`` table and an older mzdesk file, and must answer with one line and a non-zero
exit and leave the file byte for byte.  A write command upgrades an older file after a
backup; ``demo`` on a missing file makes the whole demo township (the README's quick start).
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import click
import pytest

from mzdesk.cli import cli
from mzdesk.cli.common import COMMAND_MODES, READ, WRITE
from mzdesk.models.backup import list_backups
from mzdesk.models.migrations import MIGRATIONS
from tests.cli.test_cli import assert_one_line_failure, mz

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PASSPHRASE = "demo-key-passphrase"

# one invocation per read-only command; {out} is a folder for the files it writes
READ_ARGS: dict[str, list[str]] = {
    "households find": ["households", "find", "张"],
    "households show": ["households", "show", "1"],
    "check": ["check"],
    "stats": ["stats", "--month", "2026-01", "--json"],
    "duplicates": ["duplicates", "--json"],
    "booklet": ["booklet", "--household", "1", "--out", "{out}/b.pdf"],
    "checklist": ["checklist", "--household", "1", "--blank", "--out", "{out}/c.pdf"],
    "sample": ["sample", "--seed", "1", "--dry-run"],
    "enrol list": ["enrol", "list", "--queue", "active"],
    "enrol history": ["enrol", "history", "1"],
    "enrol parts": ["enrol", "parts", "1"],
    "enrol support": ["enrol", "support", "1"],
    "operators list": ["operators", "list"],
    "audit verify": ["audit", "verify"],
    "audit show": ["audit", "show", "--limit", "5"],
    "backup": ["backup", "--out", "{out}"],
    "selftest": ["selftest"],
    "keys show": ["keys", "show", "--passphrase", PASSPHRASE],
    "keys export-public": [
        "keys",
        "export-public",
        "--passphrase",
        PASSPHRASE,
        "--out",
        "{out}/pub.json",
    ],
    "keys export-identity": [
        "keys",
        "export-identity",
        "--passphrase",
        PASSPHRASE,
        "--out",
        "{out}/identity.age",
    ],
    "sync conflicts": ["sync", "conflicts"],
    "sync status": ["sync", "status"],
    "roster batches": ["roster", "batches"],
    "roster export": ["roster", "export", "--month", "2026-01", "--out", "{out}/r.xlsx"],
    "roster registry": ["roster", "registry", "--out", "{out}/reg.xlsx"],
    "relatives list": ["relatives", "list"],
    "relatives flagged": ["relatives", "flagged"],
    "standards list": ["standards", "list"],
    "uprate": [
        "uprate",
        "--category",
        "rural_dibao",
        "--area",
        "rural",
        "--from",
        "2026-01",
        "--amount",
        "4800",
        "--per",
        "year",
    ],
    "income show": ["income", "show", "1"],
    "recovery scan": ["recovery", "scan"],
    "recovery list": ["recovery", "list"],
    "case list": ["case", "list", "--json"],
    "deadlines list": ["deadlines", "list", "--json"],
    "review round-status": ["review", "round-status", "--json"],
    "review survival-queue": ["review", "survival-queue"],
    "review deliberation": ["review", "deliberation"],
    "review survival-stop": ["review", "survival-stop"],
    "run list": ["run", "list", "--json"],
    "run show": ["run", "show", "1", "--json"],
    "run roster": ["run", "roster", "1", "--out", "{out}/run.xlsx"],
}
SLOW = {"selftest"}  # a few seconds each: run on two of the hostile files only


def command_names(group: click.Group = cli, prefix: str = "") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        full = f"{prefix}{name}"
        if isinstance(cmd, click.Group):
            out += command_names(cmd, full + " ")
        else:
            out.append(full)
    return out


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def args_for(name: str, db: Path, out: Path) -> list[str]:
    return [a.replace("{out}", str(out)) for a in READ_ARGS[name]] + ["--db", str(db)]


# -- the classification ---------------------------------------------------------------
def test_every_command_says_whether_it_writes():
    names = command_names()
    assert sorted(set(names) - set(COMMAND_MODES)) == [], "add them to COMMAND_MODES"
    assert sorted(set(COMMAND_MODES) - set(names)) == [], "stale entries in COMMAND_MODES"
    for name, mode in COMMAND_MODES.items():
        assert callable(mode) or mode in (READ, WRITE), name


def test_every_read_only_command_is_run_here():
    reading = {n for n, m in COMMAND_MODES.items() if m == READ or callable(m)}
    assert reading == set(READ_ARGS)


# -- hostile and foreign files ----------------------------------------------------------
def _foreign(path: Path, *sql: str) -> None:
    conn = sqlite3.connect(path)
    for s in sql:
        conn.execute(s)
    conn.commit()
    conn.close()


def make_file(kind: str, path: Path) -> Path:
    if kind == "zero_bytes":
        path.write_bytes(b"")
    elif kind == "foreign":
        _foreign(
            path,
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
            "INSERT INTO notes (body) VALUES ('their data')",
        )
    elif kind == "own_visits":
        _foreign(
            path,
            "CREATE TABLE visits (id INTEGER PRIMARY KEY, household_id INT, note TEXT)",
            "INSERT INTO visits (household_id, note) VALUES (1, 'their visit')",
        )
    else:
        shutil.copy(FIXTURES / "schema_v12.sqlite", path)
    return path


KINDS = {
    "zero_bytes": "not_mzdesk",
    "foreign": "not_mzdesk",
    "own_visits": "not_mzdesk",
    "old_mzdesk": "needs_upgrade",
}


WORDS = {"not_mzdesk": "不是民政桌面数据库：", "needs_upgrade": "需要先升级"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_read_only_commands_refuse_the_file_and_change_nothing(tmp_path, kind):
    db = make_file(kind, tmp_path / "their.sqlite")
    before, version = digest(db), user_version(db)
    out = tmp_path / "out"
    out.mkdir()
    for name in READ_ARGS:
        if name in SLOW and kind in ("zero_bytes", "foreign"):
            continue
        proc = mz(*args_for(name, db, out), ok=False)
        assert proc.returncode != 0, name
        if name == "selftest":  # a report of every check, the database's one among them
            assert WORDS[KINDS[kind]] in proc.stdout, name
        else:
            line = assert_one_line_failure(proc)
            assert f"[{KINDS[kind]}]" in line and WORDS[KINDS[kind]] in line, (name, line)
            assert str(db) in line, (name, line)
        assert digest(db) == before, name
        assert user_version(db) == version, name
        leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(db.name))
        assert leftovers == [db.name], name  # no -wal/-shm/-journal left behind
    assert not (tmp_path / "backups").exists()
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("kind", ["zero_bytes", "foreign", "own_visits"])
def test_write_commands_refuse_a_foreign_file_too(tmp_path, kind):
    db = make_file(kind, tmp_path / "their.sqlite")
    before = digest(db)
    for args in (
        ["init", "--site-code", "341623101", "--site-name", "青山镇民政办"],
        ["demo", "--households", "3"],
        ["operators", "add", "admin", "--role", "admin", "--password", "admin-pass-1"],
    ):
        line = assert_one_line_failure(mz(*args, "--db", str(db), ok=False), 1)
        assert "[not_mzdesk]" in line and "不是民政桌面数据库" in line
        assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["their.sqlite"]


def test_a_write_command_backs_up_an_older_file_then_upgrades_it(tmp_path):
    db = make_file("old_mzdesk", tmp_path / "town.sqlite")
    mz("demo", "--households", "3", "--db", str(db))
    assert user_version(db) == len(MIGRATIONS)
    [(_when, reason, backup)] = list_backups(tmp_path / "backups")
    assert reason == "pre-upgrade"
    assert user_version(backup) == 12
    # now current: the read-only commands read it
    assert "家庭 5 户" in mz("stats", "--db", str(db)).stdout


# -- read-only commands on a current database -----------------------------------------
@pytest.fixture(scope="module")
def town(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("town") / "town.sqlite"
    mz("demo", "--households", "40", "--db", str(db))
    mz("keys", "init", "--passphrase", PASSPHRASE, "--db", str(db))
    return db


# more ways to call the read-only commands, on a current database only
MORE_READS = [
    ["stats", "--json"],
    ["stats", "--month", "2026-01", "--out", "{out}/s.xlsx"],
    ["households", "find", "zsf", "--json"],
    ["enrol", "list", "--household", "1"],
    ["enrol", "list", "--queue", "review_due"],
    ["audit", "show", "--household", "1", "--json"],
    ["sync", "status", "--json"],
]


def test_read_only_commands_work_and_write_nothing(town, tmp_path):
    before = digest(town)
    runs = [(n, READ_ARGS[n]) for n in READ_ARGS] + [(" ".join(a[:2]), a) for a in MORE_READS]
    for i, (name, argv) in enumerate(runs):
        out = tmp_path / str(i)
        out.mkdir()
        args = [a.replace("{out}", str(out)) for a in argv] + ["--db", str(town)]
        proc = mz(*args, ok=False)
        # check exits 1 for findings (the demo's overdue reviews), with its report
        # check exits 1 for findings; a town with no yearly round says so in one line
        no_round = name == "review round-status" and "[not_found]" in proc.stderr
        assert proc.returncode == 0 or no_round or (name == "check" and "发现" in proc.stdout), (
            name,
            proc.stderr,
        )
        assert digest(town) == before, name


def test_demo_on_a_missing_file_makes_the_demo_township(tmp_path):
    db = tmp_path / "new" / "town.sqlite"
    proc = mz("demo", "--db", str(db), "--households", "20")
    assert "已添加 20 户演示家庭" in proc.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT code, name, role FROM site").fetchone() == (
        "341623101",
        "青山镇民政办",
        "township",
    )
    conn.close()
    assert "家庭 20 户" in mz("stats", "--db", str(db)).stdout


def test_demo_on_a_missing_file_takes_the_site_code_given(tmp_path):
    db = tmp_path / "town.sqlite"
    mz("demo", "--db", str(db), "--households", "5", "--site-code", "341623102")
    conn = sqlite3.connect(db)
    code, name = conn.execute("SELECT code, name FROM site").fetchone()
    ids = [r[0] for r in conn.execute("SELECT id_number FROM members WHERE id_number IS NOT NULL")]
    conn.close()
    assert code == "341623102" and name
    assert ids and all(i.startswith("341623") for i in ids)
    line = assert_one_line_failure(
        mz("demo", "--db", str(db), "--households", "5", "--site-code", "341623103", ok=False), 1
    )
    assert "site_exists" in line


def test_demo_with_a_bad_site_code_creates_no_file(tmp_path):
    db = tmp_path / "town.sqlite"
    line = assert_one_line_failure(
        mz("demo", "--db", str(db), "--households", "5", "--site-code", "12", ok=False), 1
    )
    assert "bad_site_code" in line
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_password_on_a_read_only_command_still_counts(tmp_path, monkeypatch):
    db = tmp_path / "town.sqlite"
    mz("demo", "--db", str(db), "--households", "3")
    mz(
        "operators",
        "add",
        "admin",
        "--role",
        "admin",
        "--password",
        "admin-pass-1",
        "--db",
        str(db),
    )

    def account() -> tuple:
        conn = sqlite3.connect(db)
        try:
            return conn.execute("SELECT failed_count, last_login_at FROM operators").fetchone()
        finally:
            conn.close()

    monkeypatch.setenv("MZDESK_OPERATOR", "admin")
    monkeypatch.setenv("MZDESK_PASSWORD", "wrong-password")
    line = assert_one_line_failure(mz("stats", "--db", str(db), ok=False), 1)
    assert "[login_failed]" in line and "还可尝试4次" in line
    assert account() == (1, None)
    monkeypatch.setenv("MZDESK_PASSWORD", "admin-pass-1")
    assert "家庭 3 户" in mz("stats", "--db", str(db)).stdout
    assert account() == (1, None)  # a read-only login records nothing


def test_the_readme_quick_start_works_from_a_missing_file(tmp_path):
    """The README's quick start, run as written (with the file in a fresh folder)."""
    import shlex

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    db = tmp_path / "town.sqlite"
    outputs = []
    for line in block.strip().splitlines():
        words = shlex.split(line, comments=True)
        assert words[0] == "mzdesk", line
        outputs.append(mz(*[str(db) if w == "town.sqlite" else w for w in words[1:]]).stdout)
    assert "已添加 2000 户演示家庭" in outputs[0]
    assert "家庭 2000 户" in outputs[-1]
