"""Every error a user can cause is a clear one (issue 18, item 7): the inputs that gave
``内部错误`` or a misleading message, each through the real command line.

Out-of-range record ids, a public key file that is not one, a full disk, and an ``--out``
name that does not match what is written.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest

from mzdesk.cli import cli
from mzdesk.cli.common import OutFile
from mzdesk.models.bulk import insert_many
from mzdesk.models.errors import DISK_FULL_MESSAGE, StoreError, translate_sqlite_error
from tests.cli.test_cli import ROOT, SITE, _env, assert_one_line_failure, command_paths, mz

HUGE = str(2**70)  # 1180591620717411303424: once an OverflowError inside SQLite's binding


def dump_hash(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode("utf-8")).hexdigest()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clear") / "demo.sqlite"
    mz("init", "--db", str(path), *SITE)
    mz("demo", "--db", str(path), "--households", "20", "--seed", "3")
    return path


# -- record ids beyond SQLite's INTEGER ------------------------------------------------
HUGE_ID_COMMANDS = [
    ("households", "show", HUGE),
    ("enrol", "stop", HUGE, "--reason", "迁出"),
    ("enrol", "history", HUGE),
    ("enrol", "list", "--household", HUGE),
    ("enrol", "apply", "--household", HUGE, "--category", "rural_dibao"),
    ("enrol", "object", HUGE, "1", "--by", "王芳", "--content", "不符合条件"),
    ("enrol", "resolve", HUGE, "--follow-up", "已核实", "--outcome", "异议不成立"),
    ("audit", "show", "--household", HUGE),
    ("booklet", "--household", HUGE, "--out", "b.pdf"),
    ("relatives", "withdraw", HUGE),
    ("notice", "--out", "n.pdf", "--reprint", HUGE),
    ("sync", "resolve", HUGE, "--keep", "local"),
    ("sync", "export", "--to", "341623", "--out", "b.age", "--resend", HUGE),
    ("roster", "undo", "--batch", HUGE),
    ("sample", "--seed", HUGE),
]


def test_huge_record_ids_are_out_of_range_not_internal_errors(demo_db, tmp_path):
    """2^70 as a household, enrolment, notice, conflict ... number: was ``内部错误 …
    OverflowError: Python int too large to convert to SQLite INTEGER``."""
    before = dump_hash(demo_db)
    for args in HUGE_ID_COMMANDS:
        proc = subprocess.run(
            [sys.executable, "-m", "mzdesk", *args, "--db", str(demo_db)],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=_env(),
            cwd=tmp_path,
            timeout=120,
        )
        line = assert_one_line_failure(proc)
        assert "内部错误" not in line and "超出范围" in line, (args, line)
    assert dump_hash(demo_db) == before


@pytest.mark.parametrize("value", ["0", "-1", "nan", "1e3", "１２", "9223372036854775808"])
def test_ids_must_be_positive_sqlite_integers(demo_db, value):
    proc = mz("households", "show", "--db", str(demo_db), "--", value, ok=False)
    line = assert_one_line_failure(proc, code=2)
    assert "编号" in line and "内部错误" not in line


def test_the_largest_sqlite_id_is_simply_not_found(demo_db):
    line = assert_one_line_failure(
        mz("households", "show", str(2**63 - 1), "--db", str(demo_db), ok=False)
    )
    assert "[not_found]" in line or "不存在" in line


def test_every_id_parameter_is_bounded():
    """A new command that takes a record number as a plain ``int`` would bring the
    OverflowError back: every integer parameter is a bounded type."""
    plain = []
    for path in command_paths():
        cmd = cli
        for name in path:
            cmd = cmd.commands[name]
        if isinstance(cmd, click.Group):
            continue
        plain += [(path, p.name) for p in cmd.params if p.type is click.INT]
    assert plain == []


# -- keys trust on files that are not public keys ------------------------------------------
def _trust(db: Path, file: Path) -> str:
    return assert_one_line_failure(mz("keys", "trust", str(file), "--db", str(db), ok=False))


def test_keys_trust_refuses_binary_non_utf8_and_huge_files(demo_db, tmp_path):
    before = dump_hash(demo_db)
    binary = tmp_path / "ls.json"
    binary.write_bytes(Path(sys.executable).resolve().read_bytes()[:4096])
    latin = tmp_path / "gbk.json"
    latin.write_bytes('{"name": "县民政局"}'.encode("gbk"))
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as f:  # 200 MB, sparse: reading it all is what must not happen
        f.truncate(200 * 1024 * 1024)
    for file in (binary, latin):
        line = _trust(demo_db, file)
        assert "[bad_public_key]" in line and "UTF-8" in line, line
    line = _trust(demo_db, huge)
    assert "[bad_public_key]" in line and "过大" in line, line
    assert dump_hash(demo_db) == before


# -- a full disk --------------------------------------------------------------------
def test_sqlite_full_translates_to_disk_full():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (v TEXT)")
    conn.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 50)
    err = translate_sqlite_error(caught.value)
    assert isinstance(err, StoreError) and err.code == "disk_full"
    assert err.message == DISK_FULL_MESSAGE == "磁盘空间不足，操作未完成，数据未改变"
    assert translate_sqlite_error(sqlite3.OperationalError("database is locked")) is None
    assert translate_sqlite_error(ValueError("database or disk is full")) is None


def _table_with_index(path: Path, limit: int | None) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("CREATE INDEX IF NOT EXISTS t_v ON t (v)")
    if limit:
        conn.execute(f"PRAGMA max_page_count = {limit}")
    return conn


def test_bulk_insert_on_a_full_disk_says_disk_full(tmp_path):
    """6000 rows into an empty table: the plain index is dropped and rebuilt (bulk.py).  When
    the disk fills, SQLite may roll back the whole transaction (SQLITE_FULL in a statement
    without a statement journal), taking the savepoint with it: the error was then ``no such
    savepoint: mz_bulk``.  Every page budget around the rows' size must say "disk full"."""
    rows = [(f"value {i:06d} " * 4,) for i in range(6000)]
    probe = _table_with_index(tmp_path / "probe.sqlite", None)
    probe.execute("BEGIN")
    insert_many(probe, "t", ["v"], rows)
    pages = probe.execute("PRAGMA page_count").fetchone()[0]
    probe.execute("ROLLBACK")
    probe.close()
    whole_rollbacks = 0
    for limit in range(pages // 2, pages, 3):
        db = tmp_path / f"full{limit}.sqlite"
        conn = _table_with_index(db, limit)
        conn.execute("BEGIN")
        with pytest.raises(StoreError) as caught:
            insert_many(conn, "t", ["v"], rows)
        assert caught.value.code == "disk_full", (limit, caught.value)
        whole_rollbacks += not conn.in_transaction
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 't_v'").fetchone()[0]
        conn.close()
    assert whole_rollbacks, "no page budget made SQLite roll back the whole transaction"


FULL_DISK_RUNNER = """
import sys
from mzdesk.models.store import Store

_open = Store.open.__func__


def _open_on_a_small_disk(cls, *args, **kwargs):
    store = _open(cls, *args, **kwargs)
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages + int(sys.argv[1])}")
    return store


Store.open = classmethod(_open_on_a_small_disk)
from mzdesk.cli import main

main(sys.argv[2:])
"""


@pytest.mark.parametrize("headroom", [2, 40, 200])
def test_a_full_disk_is_one_clear_line_and_changes_nothing(tmp_path, headroom):
    """``demo`` on a disk with room for a few pages: "磁盘空间不足", exit 1, the file
    as it was (the disk simulated with ``PRAGMA max_page_count``, on the real file)."""
    db = tmp_path / "small.sqlite"
    mz("init", "--db", str(db), *SITE)
    before = dump_hash(db)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            FULL_DISK_RUNNER,
            str(headroom),
            "demo",
            "--db",
            str(db),
            "--households",
            "400",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(),
        cwd=ROOT,
        timeout=120,
    )
    line = assert_one_line_failure(proc, code=1)
    assert line == f"错误 [disk_full]: {DISK_FULL_MESSAGE}", line
    assert dump_hash(db) == before


# -- --out names that do not say what is written ----------------------------------------------
def out_params() -> list[tuple[tuple[str, ...], click.Parameter]]:
    found = []
    for path in command_paths():
        cmd = cli
        for name in path:
            cmd = cmd.commands[name]
        found += [(path, p) for p in cmd.params if isinstance(p.type, OutFile)]
    return found


def test_stats_out_txt_is_refused_and_nothing_written(demo_db, tmp_path):
    out = tmp_path / "x.txt"
    proc = mz("stats", "--month", "2026-11", "--out", str(out), "--db", str(demo_db), ok=False)
    line = assert_one_line_failure(proc, code=2)
    assert ".xlsx" in line and ".pdf" in line
    assert not out.exists()
    ok = tmp_path / "X.XLSX"  # the suffix in any case
    mz("stats", "--month", "2026-11", "--out", str(ok), "--db", str(demo_db))
    assert ok.read_bytes()[:2] == b"PK"


def test_every_written_file_names_its_format():
    """stats, roster export/registry, notice (--out, --xlsx), booklet, checklist, sync export,
    keys export-public --qr: each refuses a name that does not end as what it writes."""
    named = {(" ".join(path), p.opts[0]): p.type.suffixes for path, p in out_params()}
    assert named == {
        ("stats", "--out"): (".xlsx", ".pdf"),
        ("roster export", "--out"): (".xlsx",),
        ("run roster", "--out"): (".xlsx",),
        ("roster registry", "--out"): (".xlsx",),
        ("notice", "--out"): (".pdf",),
        ("notice", "--xlsx"): (".xlsx",),
        ("booklet", "--out"): (".pdf",),
        ("checklist", "--out"): (".pdf",),
        ("sync export", "--out"): (".age",),
        ("keys export-public", "--qr"): (".png",),
        ("letter", "--out"): (".pdf",),
        ("duplicates", "--out"): (".xlsx",),
    }
    for _path, param in out_params():
        ctx = click.Context(cli)
        with pytest.raises(click.BadParameter, match="结尾"):
            param.type.convert("x.txt", param, ctx)
        assert param.type.convert(f"a{param.type.suffixes[0]}", param, ctx)


def test_written_files_without_a_format_check_are_known():
    """The remaining ``--out``-like paths take any name on purpose: a backup (a file or a
    folder), the key files (JSON text, any name the clerk likes), the import report."""
    free = []
    for path in command_paths():
        cmd = cli
        for name in path:
            cmd = cmd.commands[name]
        for p in getattr(cmd, "params", []):
            if isinstance(p.type, click.Path) and not isinstance(p.type, OutFile):
                if not p.type.exists and p.name != "db_path":
                    free.append((" ".join(path), p.name))
    assert sorted(free) == [
        ("backup", "out"),
        ("keys export-identity", "out"),
        ("keys export-public", "out"),
        ("roster import", "file"),
        ("roster import", "report_path"),
    ]


def test_no_cli_module_writes_where_the_name_lies(tmp_path, demo_db):
    """roster registry into F.csv: refused before the database opens."""
    out = tmp_path / "花名册.csv"
    line = assert_one_line_failure(
        mz("roster", "registry", "--out", str(out), "--db", str(demo_db), ok=False)
    )
    assert ".xlsx" in line and not out.exists()
    assert os.listdir(tmp_path) == []


# -- a password asked where nobody can type it ------------------------------------------
@pytest.mark.parametrize(
    "args",
    [("operators", "add", "admin", "--role", "admin"), ("encrypt",)],
    ids=["operators add", "encrypt"],
)
def test_no_terminal_no_prompt(demo_db, tmp_path, args):
    """From a script (stdin not a terminal) a hidden prompt printed getpass's warning and the
    prompt on stderr, then read the pipe: now one line naming the variable to set."""
    db = tmp_path / "copy.sqlite"
    db.write_bytes(demo_db.read_bytes())
    before = dump_hash(db)
    env = _env()
    for var in ("MZDESK_NEW_PASSWORD", "MZDESK_DB_KEY"):
        env.pop(var, None)
    proc = subprocess.run(
        [sys.executable, "-m", "mzdesk", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    line = assert_one_line_failure(proc, code=1)
    assert "[secret_needed]" in line and ("MZDESK_NEW_PASSWORD" in line or "MZDESK_DB_KEY" in line)
    assert dump_hash(db) == before


def test_cli_dates_are_read_by_the_one_date_parser():
    """`--date 2026年3月1日` is read as the forms read it; a non-date is one clear line."""
    import datetime as dt

    from mzdesk.cli.common import DATE, day

    for typed in ("2026-03-01", "2026/3/1", "2026.3.1", "2026年3月1日"):
        assert day(DATE.convert(typed, None, None)) == dt.date(2026, 3, 1)
    with pytest.raises(click.BadParameter, match="日期应为"):
        DATE.convert("2026-02-30", None, None)
