"""The command-line contract, checked the way a script or a clerk meets it: a real process.

Exit 0 on success; on failure a non-zero code and exactly one line on stderr,
never a traceback.  ``stats --json`` is byte-for-byte deterministic, and
``demo --seed`` builds the same township every time.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest

from mzdesk import __version__
from mzdesk.cli import cli
from mzdesk.models.household import Member
from mzdesk.models.registry import Registry
from mzdesk.models.store import Store
from tests.helpers import household, make_id

ROOT = Path(__file__).resolve().parents[2]
SITE = ["--site-code", "341623101", "--site-name", "青山镇民政办"]


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    env.pop("MZDESK_DB", None)
    return env


def mz(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    """Run ``python -m mzdesk ARGS``; with ``ok`` expect exit 0."""
    proc = subprocess.run(
        [sys.executable, "-m", "mzdesk", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(),
        cwd=ROOT,
        timeout=120,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def assert_one_line_failure(proc: subprocess.CompletedProcess, code: int | None = None) -> str:
    assert proc.returncode != 0
    if code is not None:
        assert proc.returncode == code
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def command_paths(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and sub-command, including ones other modules register later."""
    out = []
    for name, cmd in sorted(group.commands.items()):
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out += command_paths(cmd, (*prefix, name))
    return out


def leaf(path: tuple[str, ...]) -> bool:
    cmd = cli
    for name in path:
        cmd = cmd.commands[name]
    return not isinstance(cmd, click.Group)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    """A 200-household demo township made through the CLI itself."""
    path = tmp_path_factory.mktemp("cli") / "demo.sqlite"
    mz("init", "--db", str(path), *SITE)
    mz("demo", "--db", str(path), "--households", "200", "--seed", "7")
    return path


def test_version():
    proc = mz("--version")
    assert proc.stdout.strip() == f"mzdesk, version {__version__}"


def check_help(p: tuple[str, ...], code: int, text: str) -> None:
    assert code == 0, (p, text)
    assert text.startswith(f"Usage: mzdesk {' '.join(p)}".rstrip()), (p, text)
    assert "--help" in text
    if p and leaf(p):
        assert "--db" in text, f"mzdesk {' '.join(p)} has no --db option"


def test_help_on_every_command(capsys):
    """Every command, through the same entry point a process runs (``main``), in-process:
    one interpreter start per command would cost ~20 s with today's thirty commands."""
    from mzdesk.cli import main

    paths = [()] + command_paths()
    assert ("stats",) in paths and ("households", "find") in paths
    for p in paths:
        try:
            main([*p, "--help"])
            code = 0  # returning normally is exit status 0
        except SystemExit as exc:
            code = exc.code
        out = capsys.readouterr()
        check_help(p, code, out.out)
        assert out.err == ""


@pytest.mark.parametrize("path", [(), ("stats",), ("households", "find")])
def test_help_in_a_real_process(path):
    proc = mz(*path, "--help")
    check_help(path, proc.returncode, proc.stdout)


def test_every_leaf_command_has_a_docstring():
    for p in command_paths():
        cmd = cli
        for name in p:
            cmd = cmd.commands[name]
        assert (cmd.help or "").strip(), f"mzdesk {' '.join(p)} has no help text"


def test_missing_database_is_one_line_and_creates_nothing(tmp_path):
    missing = tmp_path / "nope" / "mz.sqlite"
    # (demo on a missing file creates a demo site: tests/cli/test_foreign_files.py)
    for args in (["stats"], ["check"], ["households", "find", "张"], ["sample", "--seed", "1"]):
        line = assert_one_line_failure(mz(*args, "--db", str(missing), ok=False), 1)
        assert "no_database" in line and str(missing) in line
    assert not missing.exists() and not missing.parent.exists()


@pytest.mark.parametrize("code", ["12", "34162310", "3416231011", "abcdefghi"])
def test_bad_site_code_is_refused_and_no_file_is_made(tmp_path, code):
    path = tmp_path / "mz.sqlite"
    proc = mz("init", "--db", str(path), "--site-code", code, "--site-name", "青山镇", ok=False)
    line = assert_one_line_failure(proc, 1)
    assert "bad_site_code" in line and "区划代码" in line
    assert not path.exists()


def test_init_twice_with_another_site_is_refused(tmp_path):
    path = tmp_path / "mz.sqlite"
    assert "341623101" in mz("init", "--db", str(path), *SITE).stdout
    mz("init", "--db", str(path), *SITE)  # same site again: fine
    proc = mz("init", "--db", str(path), "--site-code", "341623102", "--site-name", "x", ok=False)
    assert "site_exists" in assert_one_line_failure(proc, 1)


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--households", "0"],
        ["demo", "--households", "many"],
        ["demo"],  # --households is required
        ["households", "find"],  # TEXT is required
        ["households", "show", "abc"],
        ["init", "--site-code", "341623101", "--site-name", "x", "--role", "mayor"],
        ["stats", "--bogus"],
        ["no-such-command"],
    ],
)
def test_invalid_arguments_are_one_line_usage_errors(tmp_path, args):
    path = tmp_path / "mz.sqlite"
    line = assert_one_line_failure(mz(*args, "--db", str(path), ok=False), 2)
    assert "--help" in line
    assert not path.exists()


def test_demo_needs_a_site(tmp_path):
    path = tmp_path / "mz.sqlite"
    Store.open(path).close()
    line = assert_one_line_failure(mz("demo", "--db", str(path), "--households", "3", ok=False), 1)
    assert "no_site" in line and "mzdesk init" in line


def test_not_a_database_file(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("不是数据库", encoding="utf-8")
    line = assert_one_line_failure(mz("stats", "--db", str(path), ok=False), 1)
    assert "not_a_database" in line


def test_stats_json_is_deterministic(demo_db):
    first = mz("stats", "--db", str(demo_db), "--json").stdout
    second = mz("stats", "--db", str(demo_db), "--json").stdout
    assert first == second  # byte for byte
    data = json.loads(first)
    assert data["households"] == 200
    assert 200 < data["members"] < 200 * 6
    text = mz("stats", "--db", str(demo_db)).stdout
    assert f"家庭 {data['households']} 户" in text and f"成员 {data['members']} 人" in text


def test_demo_with_the_same_seed_builds_the_same_township(tmp_path, demo_db):
    other = tmp_path / "again.sqlite"
    mz("init", "--db", str(other), *SITE)
    assert "200" in mz("demo", "--db", str(other), "--households", "200", "--seed", "7").stdout
    stats_a = mz("stats", "--db", str(demo_db), "--json").stdout
    assert mz("stats", "--db", str(other), "--json").stdout == stats_a
    for text in ("张", "341623", "zh"):
        a = mz("households", "find", text, "--db", str(demo_db), "--json").stdout
        b = mz("households", "find", text, "--db", str(other), "--json").stdout
        assert a == b and json.loads(a), text
    # the ID numbers and names match too, not just the counts
    sql = "SELECT household_id, name, id_number, relation FROM members ORDER BY id"
    with sqlite3.connect(demo_db) as a, sqlite3.connect(other) as b:
        assert a.execute(sql).fetchall() == b.execute(sql).fetchall()


def test_demo_adds_to_an_existing_database_and_other_seeds_differ(tmp_path):
    path = tmp_path / "mz.sqlite"
    mz("init", "--db", str(path), *SITE)
    mz("demo", "--db", str(path), "--households", "30", "--seed", "1")
    mz("demo", "--db", str(path), "--households", "20", "--seed", "1")
    assert json.loads(mz("stats", "--db", str(path), "--json").stdout)["households"] == 50
    # no ID given twice; the demo's only findings are its overdue applications (办理时限)
    found = json.loads(mz("check", "--db", str(path), "--json", ok=False).stdout)["findings"]
    assert {f["code"] for f in found} <= {"decision_overdue", "refusal_notice_overdue"}
    other = tmp_path / "other.sqlite"
    mz("init", "--db", str(other), *SITE)
    mz("demo", "--db", str(other), "--households", "30", "--seed", "2")
    a = mz("households", "find", "341623", "--db", str(path), "--json").stdout
    b = mz("households", "find", "341623", "--db", str(other), "--json").stdout
    assert a != b


def test_households_find_json_items(demo_db):
    store = Store.open(demo_db)
    head = store.one("SELECT id, head_name, village, member_count FROM households WHERE id = 5")
    store.close()
    items = json.loads(
        mz("households", "find", head["head_name"], "--db", str(demo_db), "--json").stdout
    )
    assert isinstance(items, list) and items
    for item in items:
        assert {"id", "head_name", "village", "members"} <= set(item)
        assert isinstance(item["id"], int) and isinstance(item["members"], int)
    mine = next(i for i in items if i["id"] == 5)
    assert (mine["head_name"], mine["village"], mine["members"]) == (
        head["head_name"],
        head["village"],
        head["member_count"],
    )
    none = mz("households", "find", "没有这个人", "--db", str(demo_db), "--json").stdout
    assert json.loads(none) == []


def test_households_find_by_pinyin_and_text_output(tmp_path):
    path = tmp_path / "mz.sqlite"
    mz("init", "--db", str(path), *SITE)
    store = Store.open(path)
    Registry(store).save(
        household(
            "红旗村",
            ("张三丰", "户主", make_id("19600101", 11)),
            ("王芳", "配偶", make_id("19620202", 12)),
        )
    )
    store.close()
    (item,) = json.loads(mz("households", "find", "zsf", "--db", str(path), "--json").stdout)
    assert (item["head_name"], item["village"], item["members"]) == ("张三丰", "红旗村", 2)
    text = mz("households", "find", "zhangsanfeng", "--db", str(path)).stdout
    assert "张三丰" in text and "共 1 户" in text
    shown = mz("households", "show", str(item["id"]), "--db", str(path)).stdout
    assert make_id("19600101", 11) not in shown  # masked: never the full number
    assert "341623********" in shown
    line = assert_one_line_failure(mz("households", "show", "999", "--db", str(path), ok=False), 1)
    assert "not_found" in line


def test_check_exit_codes(tmp_path):
    path = tmp_path / "mz.sqlite"
    mz("init", "--db", str(path), *SITE)
    store = Store.open(path)
    Registry(store).save(household("红旗村", ("张三丰", "户主", make_id("19600101", 11))))
    store.close()
    clean = mz("check", "--db", str(path), "--json")
    assert json.loads(clean.stdout) == {"findings": [], "integrity": ["ok"]}
    store = Store.open(path)
    reg = Registry(store)
    h = reg.get(1)
    h.members.append(
        Member(name="王芳", relation="配偶", id_number="34162319620202", id_pending=True)
    )
    reg.save(h)
    store.close()
    proc = mz("check", "--db", str(path), "--json", ok=False)
    assert proc.returncode == 1
    findings = json.loads(proc.stdout)["findings"]
    assert [f["code"] for f in findings] == ["id_pending"]
    assert "34162319620202" not in proc.stdout  # findings name people, not numbers
    proc = mz("check", "--db", str(path), ok=False)
    assert proc.returncode == 1 and "发现 1 处问题" in proc.stdout


def test_a_database_from_a_newer_mzdesk_is_refused(tmp_path):
    path = tmp_path / "newer.sqlite"
    Store.open(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 999")
    raw.close()
    line = assert_one_line_failure(mz("stats", "--db", str(path), ok=False), 1)
    assert "schema_too_new" in line and "999" in line and "升级" in line


def test_db_given_before_the_command_is_the_one_used(tmp_path):
    """``mzdesk --db F init`` (the form the top-level help shows) works on F, also for
    nested commands; a command's own --db wins.  It used to fall back silently to the
    default database in the user data directory."""
    home = tmp_path / "home"  # the default database would land here
    env = dict(_env(), HOME=str(home), XDG_DATA_HOME=str(home / "data"), APPDATA=str(home))
    t, c = tmp_path / "t.sqlite", tmp_path / "c.sqlite"

    def run(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "mzdesk", *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            cwd=ROOT,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert str(t) in run("--db", str(t), "init", *SITE)
    run("--db", str(t), "demo", "--households", "3")
    run(
        "--db",
        str(c),
        "init",
        "--site-code",
        "341623",
        "--site-name",
        "县民政局",
        "--role",
        "county",
    )
    run("--db", str(t), "keys", "init")
    run("--db", str(c), "keys", "init")
    run("--db", str(t), "keys", "export-public", "--out", str(tmp_path / "t.pub"))
    run("--db", str(c), "keys", "export-public", "--out", str(tmp_path / "c.pub"))
    run("--db", str(t), "keys", "trust", str(tmp_path / "c.pub"))
    run("--db", str(c), "keys", "trust", str(tmp_path / "t.pub"))
    run("--db", str(t), "sync", "export", "--to", "341623", "--out", str(tmp_path / "b.age"))
    assert "已导入" in run("--db", str(c), "sync", "import", str(tmp_path / "b.age"))
    # the command's own --db wins over the one before it
    assert "家庭 3 户" in run("--db", str(tmp_path / "other.sqlite"), "stats", "--db", str(t))
    assert not list(home.rglob("*.sqlite"))  # the default database was never touched


def test_a_database_in_a_read_only_folder_is_refused_by_every_command(tmp_path, demo_db):
    """Reading commands too (SQLite cannot open a WAL database whose folder it cannot
    write): one line that says why and to copy the file to a writable folder."""
    import shutil

    from tests.places import read_only_folder

    folder = tmp_path / "usb"
    folder.mkdir()
    db = shutil.copy(demo_db, folder / "mz.sqlite")
    with read_only_folder(folder):
        for args in (
            ["households", "find", "张"],
            ["stats"],
            ["stats", "--month", "2026-11"],
            ["check"],
            ["init", *SITE],
        ):
            line = assert_one_line_failure(mz(*args, "--db", str(db), ok=False), 1)
            assert "read_only_location" in line and str(db) in line, line
            assert "复制到本机可写的文件夹" in line, line
        line = assert_one_line_failure(
            mz("init", "--db", str(folder / "n.sqlite"), *SITE, ok=False), 1
        )
        assert "read_only_location" in line
    assert sorted(p.name for p in folder.iterdir()) == ["mz.sqlite"]
