"""Every command with hostile arguments (issue 18, item 7).

The slots are derived from each parameter's click type, so a new command is covered
without touching this file: integers get 2^70, -1, 0, NaN and inf; dates get 1900, 2099
and 9999; text gets control characters (ESC, a bidi override, a zero-width space) and
40,000 characters; paths get a binary file, a 0-byte file and another program's SQLite
database.  One hostile value per run, every other required parameter given a plain value.

Each run must end with a non-zero exit, exactly one line on stderr, no traceback, no
``内部错误`` (the bug signal), and the database as it was (a hash of its ``.dump``).  A
few hostile values are legitimately accepted: :data:`ACCEPTED` lists them with the
reason, and then the run must exit 0 and still leave the database as it was, unless
the entry says the command writes.

The matrix runs in-process through :func:`mzdesk.cli.main` (the entry point a process
runs; one interpreter start per case would cost minutes); :data:`IN_A_REAL_PROCESS`
runs a representative subset as real ``python -m mzdesk`` processes.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from mzdesk.cli import cli, main
from mzdesk.cli.common import BoundedInt, OutFile
from mzdesk.models.text import FORBIDDEN
from tests.cli.test_cli import _env, command_paths, mz
from tests.helpers import make_id

SITE = ["--site-code", "341623101", "--site-name", "青山镇民政办"]

HUGE_INTS = [str(2**70), "-1", "0"]
NON_NUMBERS = ["nan", "inf"]
FAR_DATES = ["1900-01-01", "2099-01-01", "9999-12-31"]
CONTROL = ["\x1b[31m红\x1b[0m", "王\u202e芳", "王\u200b芳"]
LONG = "长" * 40_000
FOREIGN = ["binary", "empty", "foreign_db"]
ELSEWHERE = ["no_folder", "a_folder"]  # where an output cannot go
ALWAYS = {"password"}  # given even when optional: else the command prompts

# plain values for the parameters a run does not attack (by parameter name, else by type)
PLAIN = {
    "site_code": "341623101",
    "site_name": "青山镇民政办",
    "month": "2026-11",
    "to": "341623",
    "site": "341623",
    "villages": "新华村",
    "village": "新华村",
    "category": "rural_dibao",
    "code": "local_aid",
    "name": "测试",
    "reason": "测试",
    "password": "pass-word-1",
    "declarant": "王芳",
    "relative_name": "张三",
    "id_number": "110101199003074514",
    "raised_by": "王芳",
    "content": "不符合条件",
    "follow_up": "已核实",
    "outcome": "keep",
    "amount": "100",
    "investigators": "李明",
    "verification": "核对无误",
    "result": "同意",
    "text": "王",
    "fields": "head_name=local",
    "count": "1",
    "attendance": "5",
    "percent": "10",
    "year": "2026",
}
# per command: the records the township fixture prepared, so that a run gets as far as it can
# (a hostile reason is only tested when the transition itself would succeed)
BASELINE: dict[tuple[str, ...], dict[str, str | list[str]]] = {
    ("enrol", "apply"): {"household_id": "7", "amount": "300"},
    ("enrol", "investigate"): {"enrolment_id": "2"},
    ("enrol", "survey"): {"enrolment_id": "3", "investigators": ["李明", "王芳"]},
    ("enrol", "deliberate"): {"enrolment_id": "7"},
    ("enrol", "reject"): {"enrolment_id": "3"},
    ("enrol", "submit"): {"enrolment_id": "4"},
    ("enrol", "object"): {"notice_id": "1", "enrolment_id": "4"},
    ("enrol", "resolve"): {"objection_id": "1"},
    ("enrol", "list"): {"household_id": "1"},
    ("booklet",): {"household_id": "1"},
    ("checklist",): {"household_id": "1", "blank": []},
    ("notice",): {"hotline": "0550-1234567"},
    ("sync", "resolve"): {"keep": "local"},
    ("sync", "assign"): {"site": "341623101001"},
    ("relatives", "add"): {"relative_name": "李四", "id_number": make_id("19900307", 452)},
    ("case", "add"): {
        "household_id": "1",
        "kind": "temporary",
        "case_type": "urgent",
        "cause": "因病",
    },
    ("case", "decide"): {"case_id": "1"},
    ("case", "pay"): {"case_id": "2"},
    ("case", "document"): {"case_id": "3"},
}
EXCLUSIVE = {"village": "household_id"}  # attacking the first: the second stays out

NUMERIC_TEXT = {"amount": ["nan", "inf", "-1", "1e309"], "month": ["9999-12", "1900-01", "0000-00"]}


@dataclass(frozen=True)
class Case:
    path: tuple[str, ...]
    param: str
    category: str  # huge_int, nan, far_date, control, long, foreign_file
    value: str

    @property
    def id(self) -> str:
        shown = self.value if len(self.value) < 30 else f"{len(self.value)} chars"
        return f"{' '.join(self.path)} {self.param}={shown!r}"


# (command, parameter, category) -> why a hostile value there is a legitimate success, and
# the values it applies to when not the whole category.  "read" entries must leave the
# database as it was; "write" ones may record something.
ACCEPTED: dict[tuple[str, str, str], tuple[str, str] | tuple[str, str, tuple[str, ...]]] = {
    ("households find", "text", "long"): ("read", "a long search text simply finds nothing"),
    ("households find", "text", "control"): ("read", "a search finds nothing; nothing stored"),
    ("sample", "seed", "huge_int"): ("write", "0 is a seed like any other", ("0",)),
    ("demo", "seed", "huge_int"): ("write", "0 is a seed like any other", ("0",)),
    ("stats", "month", "far_date"): ("read", "statistics of 1900-01 are empty, not harmful"),
    ("enrol category-add", "review_months", "huge_int"): ("write", "0: no periodic review", ("0",)),
    ("audit show", "operator", "control"): ("read", "a filter that matches nobody"),
    ("audit show", "operator", "long"): ("read", "a filter that matches nobody"),
    ("roster registry", "village", "control"): ("read", "a filter that matches nobody"),
    ("roster registry", "village", "long"): ("read", "a filter that matches nobody"),
    ("operators add", "password", "control"): ("write", "any character; only a hash is kept"),
    ("operators add", "password", "long"): ("write", "any length; only a hash is kept"),
    ("backup", "out", "foreign_file"): (
        "read",
        "a file or a folder, made if missing",
        ("a_folder", "no_folder"),
    ),
}
# a failure that is a report on stdout (exit 1), not a one-line error
REPORTS = {("selftest", "db_path", "foreign_file"): "selftest lists each check it ran"}


def _slots(cmd: click.Command, param: click.Parameter) -> list[tuple[str, str]]:
    """(category, hostile value) pairs for one parameter, from its type."""
    t = param.type
    if isinstance(param, click.Option) and param.is_flag:
        return []
    if param.name in NUMERIC_TEXT:
        cat = "nan" if param.name == "amount" else "far_date"
        return [(cat, v) for v in NUMERIC_TEXT[param.name]]
    if isinstance(t, (BoundedInt, click.types.IntParamType)):
        return [("huge_int", v) for v in HUGE_INTS] + [("nan", v) for v in NON_NUMBERS]
    if isinstance(t, click.DateTime):
        return [("far_date", v) for v in FAR_DATES]
    if isinstance(t, click.Choice):
        return [("control", CONTROL[0])]
    if isinstance(t, OutFile):
        return [("control", f"x{CONTROL[0]}.txt")]
    if isinstance(t, click.Path) and not t.exists and param.name != "db_path":
        return [("foreign_file", v) for v in ELSEWHERE]  # an output: overwriting is asked for
    if isinstance(t, click.Path):
        return [("foreign_file", v) for v in FOREIGN]
    if t is click.STRING:
        if param.name == "passphrase":
            return []  # a passphrase may hold any character; nothing of it is stored
        # one control character per parameter, taking turns: all three kinds are met
        # across the commands at a third of the runs
        turn = CONTROL[sum(map(ord, f"{cmd.name}{param.name}")) % len(CONTROL)]
        return [("control", turn), ("long", LONG)]
    return []


def cases() -> list[Case]:
    out = []
    for path in command_paths():
        cmd = _command(path)
        if isinstance(cmd, click.Group):
            continue
        for p in cmd.params:
            for category, value in _slots(cmd, p):
                out.append(Case(path, p.name, category, value))
    return out


def _command(path: tuple[str, ...]) -> click.Command:
    cmd = cli
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def _plain(p: click.Parameter, files: dict[str, Path], tmp: Path) -> str:
    if p.name in PLAIN:
        return PLAIN[p.name]
    t = p.type
    if isinstance(t, click.Choice):
        return t.choices[0]
    if isinstance(t, OutFile):
        return str(tmp / f"out{t.suffixes[0]}")
    if isinstance(t, click.Path):
        return str(files["binary"] if t.exists else tmp / "out.bin")
    if isinstance(t, click.IntRange):
        return str(t.min or 1)
    if isinstance(t, (BoundedInt, click.types.IntParamType)):
        return "1"
    if isinstance(t, click.DateTime):
        return "2026-11-20"
    return "测试"


def _argv(case: Case, db: Path, files: dict[str, Path], tmp: Path) -> list[str]:
    cmd = _command(case.path)
    value = str(files[case.value]) if case.category == "foreign_file" else case.value
    opts, args = [], []
    given_db = False
    baseline = dict(BASELINE.get(case.path, {}))
    baseline.pop(EXCLUSIVE.get(case.param, ""), None)
    for p in cmd.params:
        if p.name == case.param:
            text = value
        elif p.name == "db_path":
            text = str(db)
        elif p.name in baseline:
            text = baseline[p.name]
        elif p.required or isinstance(p, click.Argument) or p.name in ALWAYS:
            text = _plain(p, files, tmp)
        else:
            continue
        given_db |= p.name == "db_path"
        texts = text if isinstance(text, list) else [text]
        if isinstance(p, click.Argument):
            args += texts
        elif isinstance(p, click.Option) and p.is_flag:
            opts.append(p.opts[0])
        else:
            opts += [x for t in texts for x in (p.opts[0], t)]
    if not given_db:
        opts += ["--db", str(db)]
    return [*case.path, *opts, "--", *args] if args else [*case.path, *opts]


def dump_hash(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode("utf-8")).hexdigest()
    finally:
        conn.close()


def dump_has_forbidden(db: Path) -> bool:
    """Whether the database holds a character the text rule (models/text.py) removes."""
    conn = sqlite3.connect(db)
    try:
        return any(FORBIDDEN.search(line) for line in conn.iterdump())
    finally:
        conn.close()


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"


@pytest.fixture(scope="module")
def township(tmp_path_factory) -> dict:
    """A demo township made by ``mzdesk init`` + ``demo``, with site keys; and the foreign
    files.  Copied per run (the folder, so the keys beside the database come along)."""
    base = tmp_path_factory.mktemp("hostile")
    tpl = base / "tpl"
    tpl.mkdir()
    db = tpl / "demo.sqlite"
    mz("init", "--db", str(db), *SITE)
    mz("demo", "--db", str(db), "--households", "12", "--seed", "280")  # one 在保 低保: 户1
    mz("keys", "init", "--db", str(db))
    _prepare(db, base)
    files = {
        "binary": base / "binary.bin",
        "empty": base / "empty.sqlite",
        "foreign_db": base / "foreign.sqlite",
    }
    files["binary"].write_bytes(bytes(range(256)) * 64)
    files["empty"].write_bytes(b"")
    files["no_folder"] = base / "no such folder" / "out.bin"
    files["a_folder"] = base / "a folder"
    files["a_folder"].mkdir()
    conn = sqlite3.connect(files["foreign_db"])
    conn.execute("CREATE TABLE visits (who TEXT, at TEXT)")  # another program's own 'visits'
    conn.execute("INSERT INTO visits VALUES ('邻居', '2026-01-01')")
    conn.commit()
    conn.close()
    return {
        "tpl": tpl,
        "db_name": db.name,
        "hash": dump_hash(db),
        "files": files,
        "file_hashes": {k: file_hash(v) for k, v in files.items() if k in FOREIGN},
        "base": base,
    }


def _prepare(db: Path, base: Path) -> None:
    """Records in every state a command starts from: enrolment 1 active (demo), 2 applied,
    3 under investigation, 4 and 5 publicised in notice 1 (objection 1 on 5), 6 deliberated
    (for the next notice), 7 surveyed; relatives declaration 1; a field laptop and the county trusted."""

    def ok(*args: str) -> None:
        code, out, err = _run_in_process([*args, "--db", str(db)])
        assert code == 0, (args, out, err)

    for hid in ("2", "3", "4", "5"):
        ok("enrol", "apply", "--household", hid, "--category", "rural_dibao", "--amount", "300")
    for eid in ("3", "4", "5"):
        ok("enrol", "investigate", eid)
    survey = ("--investigator", "李明", "--investigator", "王芳", "--verification", "核对无误")
    for eid in ("4", "5"):
        ok("enrol", "survey", eid, *survey)
        ok("enrol", "deliberate", eid, "--attendance", "7", "--result", "同意")
    ok("notice", "--out", str(base / "n.pdf"), "--hotline", "0550-1234567")
    ok("enrol", "object", "1", "5", "--by", "王芳", "--content", "不符合条件")
    ok(
        "relatives",
        "add",
        "--declarant",
        "王芳",
        "--role",
        "staff",
        "--name",
        "张三",
        "--id-number",
        "110101199003074514",
        "--relation",
        "spouse",
    )
    for hid in ("6", "8"):
        ok("enrol", "apply", "--household", hid, "--category", "rural_dibao", "--amount", "300")
    ok("enrol", "investigate", "6")
    ok("enrol", "survey", "6", *survey)
    ok("enrol", "deliberate", "6", "--attendance", "7", "--result", "同意")
    ok("enrol", "investigate", "7")
    ok("enrol", "survey", "7", *survey)
    for code, name, role in (
        ("341623", "县民政局", "county"),
        ("341623101001", "入户终端", "field"),
    ):
        other = base / f"{code}.sqlite"
        mz("init", "--db", str(other), "--site-code", code, "--site-name", name, "--role", role)
        mz("keys", "init", "--db", str(other))
        mz("keys", "export-public", "--db", str(other), "--out", str(base / f"{code}.json"))
        ok("keys", "trust", str(base / f"{code}.json"))
    # cases (issue 22): 1 待审批, 2 批准待发放, 3 小额先行待补材料
    for _ in range(3):
        ok("case", "add", "1", "--kind", "medical", "--amount", "300", "--date", "2026-11-01")
    ok("case", "decide", "2", "--decision", "approved", "--date", "2026-11-02")
    ok("case", "pay", "3", "--fast", "--date", "2026-11-02")


def _run_in_process(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def _verdict(
    case: Case,
    code: int,
    out: str,
    err: str,
    db_changed: bool,
    files_changed: list,
    clean_after: bool = True,
):
    """What is wrong with one run, or None."""
    key = (" ".join(case.path), case.param, case.category)
    accepted = ACCEPTED.get(key)
    if accepted and len(accepted) == 3 and case.value not in accepted[2]:
        accepted = None  # only those values of the category are legitimate
    if "Traceback" in err or "Traceback" in out:
        return "traceback"
    if "内部错误" in err:
        return f"internal error: {err.strip()[:160]}"
    if files_changed:
        return f"changed the foreign file(s) {files_changed}"
    if key in REPORTS and code != 0 and not db_changed:
        return None
    if case.category == "control" and code == 0 and not clean_after:
        return "accepted, and stored a forbidden character"
    if case.category == "control" and code == 0:
        return None  # the text rule removed the invisible characters, as it should
    if accepted and code == 0:
        if db_changed and accepted[0] == "read":
            return "accepted, but changed the database"
        return None
    if code == 0:
        return f"accepted (exit 0){' and changed the database' if db_changed else ''}"
    lines = err.strip().splitlines()
    if len(lines) != 1:
        return f"{len(lines)} lines on stderr: {err.strip()[:160]!r}"
    if db_changed:
        return f"failed but changed the database: {lines[0][:120]}"
    return None


def _settle(full: bool) -> None:
    """The command's store closed and its background checkpoint finished (store.py) before
    the hash reads the file.  ``full``: every generation (50 ms), for a store on a foreign
    file that must be closed before the file is put back; else the young ones suffice."""
    gc.collect(2 if full else 1)
    for t in threading.enumerate():
        if t.name == "mzdesk-checkpoint":
            t.join()


def run_case(case: Case, township: dict, tmp: Path) -> str | None:
    work = Path(tempfile.mkdtemp(dir=tmp))
    shutil.copytree(township["tpl"], work, dirs_exist_ok=True)
    db = work / township["db_name"]
    argv = _argv(case, db, township["files"], work)
    code, out, err = _run_in_process(argv)
    _settle(full=case.category == "foreign_file")
    changed = [
        k for k, v in township["file_hashes"].items() if file_hash(township["files"][k]) != v
    ]
    for k in changed:  # put the foreign file back for the next run
        _restore_foreign(township, k)
    changed_db = dump_hash(db) != township["hash"]
    clean_after = not (changed_db and dump_has_forbidden(db))
    problem = _verdict(case, code, out, err, changed_db, changed, clean_after)
    shutil.rmtree(work, ignore_errors=True)
    folder = township["files"]["no_folder"].parent
    if folder.exists():  # an output that made its folder: missing again for the next run
        shutil.rmtree(folder)
    return f"{case.category}: {case.id}: {problem}" if problem else None


def _restore_foreign(township: dict, key: str) -> None:
    files = township["files"]
    if key == "binary":
        files[key].write_bytes(bytes(range(256)) * 64)
    elif key == "empty":
        files[key].write_bytes(b"")
    else:
        files[key].unlink()
        conn = sqlite3.connect(files[key])
        conn.execute("CREATE TABLE visits (who TEXT, at TEXT)")
        conn.execute("INSERT INTO visits VALUES ('邻居', '2026-01-01')")
        conn.commit()
        conn.close()
    for suffix in ("-wal", "-shm", "-journal"):
        Path(str(files[key]) + suffix).unlink(missing_ok=True)


SLOW = {("selftest",)}  # a whole self-test per run: its --db slot only


def _leaves() -> list[tuple[str, ...]]:
    return [p for p in command_paths() if not isinstance(_command(p), click.Group)]


@pytest.mark.parametrize("path", _leaves(), ids=" ".join)
def test_hostile_arguments(path, township, tmp_path, monkeypatch):
    for var in (
        "MZDESK_DB",
        "MZDESK_DB_KEY",
        "MZDESK_OPERATOR",
        "MZDESK_PASSWORD",
        "MZDESK_NEW_PASSWORD",
        "MZDESK_KEY_PASSPHRASE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # a default database would land here
    monkeypatch.chdir(tmp_path)
    mine = [c for c in cases() if c.path == path]
    problems = [p for c in mine if (p := run_case(c, township, tmp_path))]
    assert not problems, "\n".join(problems)


def test_every_command_has_hostile_cases():
    """Every command takes at least ``--db``: none escapes the matrix."""
    covered = {c.path for c in cases()}
    assert covered == set(_leaves())
    categories = {c.category for c in cases()}
    assert categories == {"huge_int", "nan", "far_date", "control", "long", "foreign_file"}
    slots = {(" ".join(c.path), c.param, c.category) for c in cases()}
    assert set(ACCEPTED) | set(REPORTS) <= slots, "an allow-list entry names no run"


IN_A_REAL_PROCESS = [
    Case(("households", "show"), "household_id", "huge_int", str(2**70)),
    Case(("enrol", "stop"), "enrolment_id", "huge_int", str(2**70)),
    Case(("sync", "resolve"), "conflict_id", "huge_int", "-1"),
    Case(("enrol", "apply"), "amount", "nan", "nan"),
    Case(("keys", "trust"), "public_file", "foreign_file", "binary"),
    Case(("stats",), "month", "far_date", "9999-12"),
    Case(("households", "find"), "text", "long", LONG),
]


@pytest.mark.parametrize("case", IN_A_REAL_PROCESS, ids=lambda c: c.id)
def test_hostile_arguments_in_a_real_process(case, township, tmp_path):
    work = tmp_path / "run"
    shutil.copytree(township["tpl"], work)
    db = work / township["db_name"]
    argv = _argv(case, db, township["files"], work)
    proc = subprocess.run(
        [sys.executable, "-m", "mzdesk", *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(),
        cwd=tmp_path,
        timeout=120,
    )
    problem = _verdict(
        case, proc.returncode, proc.stdout, proc.stderr, dump_hash(db) != township["hash"], []
    )
    assert problem is None, problem
