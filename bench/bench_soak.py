"""Soak: several programs hammer one database for minutes; nothing acknowledged is lost.

    python bench/bench_soak.py [--seconds 180] [--processes 6] [--dir DIR] [--json]

Issue 18's proof under real concurrency.  One township database; these processes run on it
at once until the time is up:

* window stand-ins: save new households and edit their own through the real services
  (``Registry``), one transaction each; after every save returns, its id and value go to
  the process's log (what the window would have shown as "已保存").  In the same process,
  worker-style connections are opened and closed on a thread (``ui/worker.py``), a second
  ``Store`` is opened and closed, and a large transaction's checkpoint thread runs.  At the
  end they are killed with SIGKILL in the middle of their work;
* CLI readers: every read-only command, ``python -m mzdesk …``, in a loop;
* a sync importer: ``mzdesk sync import`` of a field laptop's batches, one after another;
* a backup: ``mzdesk backup`` in a loop.

Afterwards every acknowledged save and edit must be in the file, every imported batch's
households too, ``check`` and ``audit verify`` must be clean, and no process may have
printed a raw "database is locked", "disk I/O error", a traceback or "内部错误" (a busy
wait that ran out is the clear "数据库正被另一程序使用，请稍后再试", counted).  Prints
processes, operations, duration, losses and the load average; exit 1 on any loss.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mzdesk.models.errors import StoreError  # noqa: E402
from mzdesk.models.household import Household, Member  # noqa: E402
from mzdesk.models.ids import check_char  # noqa: E402
from mzdesk.models.store import BUSY_MESSAGE, Store  # noqa: E402

TOWNSHIP, FIELD = "341623101", "341623101001"
DIGITS = "零一二三四五六七八九"
READ_COMMANDS = [
    ("stats", "--json"),
    ("check",),
    ("households", "find", "张", "--json"),
    ("households", "show", "1"),
    ("audit", "verify"),
    ("sync", "status"),
    ("roster", "batches"),
    ("relatives", "list"),
    ("enrol", "list", "--queue", "active"),
    ("operators", "list"),
]
RAW_ERRORS = ("database is locked", "disk I/O error", "Traceback", "内部错误")


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    for name in ("MZDESK_DB", "MZDESK_DB_KEY", "MZDESK_OPERATOR", "MZDESK_PASSWORD"):
        env.pop(name, None)
    return env


def mz(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mzdesk", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(),
        timeout=300,
    )


def _id_number(window: int, n: int) -> str:
    """Unique per (window, n); adults born 1960-1984 (nobody ``check`` would flag)."""
    born = dt.date(1960, 1, 1) + dt.timedelta(days=n % 9000)
    body = f"341623{born:%Y%m%d}{window * 10 + n // 9000 + 1:03d}"
    return body + check_char(body)


def _name(window: int, n: int) -> str:
    return "张" + "".join(DIGITS[int(c)] for c in f"{window}{n:05d}")


# -- setup ---------------------------------------------------------------------------
def setup(work: Path, batches: int = 6) -> tuple[Path, list[tuple[Path, list[str]]]]:
    """The township database (demo households, keys) and a field laptop's batch files,
    each with the uids of the households it brings (in order)."""
    from mzdesk.models.demo import generate_demo
    from mzdesk.models.registry import Registry
    from mzdesk.models.site import init_site
    from mzdesk.sync.export import export_batch
    from mzdesk.sync.keys import init_keys, trust

    db = work / "mz.sqlite"
    t = Store.open(db, operator="setup")
    init_site(t, TOWNSHIP, "青山镇", "township")
    t_keys = init_keys(t)
    generate_demo(t, 30, seed=5)
    with t.transaction():  # the demo plants overdue reviews (work queues); the soak's
        # ``check`` must find only what the soak itself did to the file
        t.conn.execute("UPDATE enrolments SET review_due = NULL WHERE review_due < date('now')")
    village = t.scalar("SELECT village FROM households ORDER BY id LIMIT 1")
    f = Store.open(work / "field.sqlite", operator="field")
    init_site(f, FIELD, "青山镇入户终端", "field")
    f_keys = init_keys(f)
    trust(t, f_keys.public, [village])
    trust(f, t_keys.public)
    t.close()
    out = []
    reg = Registry(f)
    for b in range(batches):
        uids = []
        for k in range(2):
            h = reg.save(
                Household(
                    village=village,
                    members=[
                        Member(
                            name=_name(90 + b, k), relation="户主", id_number=_id_number(90 + b, k)
                        )
                    ],
                )
            )
            uids.append(h.uid)
        path = work / f"field-{b + 1}.age"
        export_batch(f, f_keys, TOWNSHIP, path)
        out.append((path, uids))
    f.close()
    return db, out


# -- roles (each in its own process) ---------------------------------------------------
def role_window(db: str, index: int, log: Path) -> None:
    """Save and edit until killed; log each one after it returned."""
    from mzdesk.models.registry import Registry

    store = Store.open(db, operator=f"window{index}")
    reg = Registry(store)
    village = store.scalar("SELECT village FROM households ORDER BY id LIMIT 1")
    rng = random.Random(index)
    mine: list[int] = []
    n = 0
    with open(log, "a", encoding="utf-8", buffering=1) as out:
        while True:
            n += 1
            try:
                if mine and n % 3 == 0:  # an edit of one of its own households
                    h = reg.get(rng.choice(mine))
                    h.address = f"红旗路{n}号"
                    # a kill between COMMIT and the log line leaves this value, unlogged
                    out.write(f"try {h.id} {h.address}\n")
                    reg.save(h)
                    out.write(f"upd {h.id} {h.address}\n")
                else:
                    h = Household(
                        village=village,
                        members=[
                            Member(
                                name=_name(index, n),
                                relation="户主",
                                id_number=_id_number(index, n),
                            )
                        ],
                    )
                    if n % 20 == 0:  # a large transaction: its WAL copied by a thread
                        with store.checkpoint_after():
                            reg.save(h)
                    else:
                        reg.save(h)
                    mine.append(h.id)
                    out.write(f"new {h.id} {h.members[0].name}\n")
                if n % 7 == 0:  # a worker: its own connection on a thread, then closed
                    t = threading.Thread(target=_worker, args=(db, index))
                    t.start()
                    t.join()
                    out.write("op worker\n")
                if n % 25 == 0:  # a second Store in this process, opened and closed
                    Store.open(db, operator=f"window{index}", create=False).close()
                    out.write("op second\n")
            except StoreError as exc:
                if exc.code != "busy":
                    raise
                out.write("busy\n")
                time.sleep(0.05)


def _worker(db: str, index: int) -> None:
    w = Store.open(db, operator=f"window{index}", create=False)
    try:
        w.scalar("SELECT count(*) FROM households WHERE status = 'active'")
    finally:
        w.close()


def _run_logged(out, *args: str) -> bool:
    """Run one CLI command; True when it succeeded, False when it said busy."""
    proc = mz(*args)
    sys.stderr.write(proc.stderr)
    if proc.returncode == 0:
        return True
    if BUSY_MESSAGE in proc.stderr:
        out.write("busy\n")
        return False
    raise SystemExit(f"{' '.join(args)} failed (rc {proc.returncode}): {proc.stderr.strip()}")


def role_cli(db: str, until: float, log: Path) -> None:
    with open(log, "a", encoding="utf-8", buffering=1) as out:
        i = 0
        while time.time() < until:
            args = READ_COMMANDS[i % len(READ_COMMANDS)]
            if _run_logged(out, *args, "--db", db):
                out.write(f"op {args[0]}\n")
            i += 1


def role_sync(db: str, until: float, log: Path, batches: list[str]) -> None:
    pause = max(0.5, (until - time.time()) / (len(batches) + 1))
    with open(log, "a", encoding="utf-8", buffering=1) as out:
        for path in batches:
            time.sleep(pause)
            while not _run_logged(out, "sync", "import", path, "--db", db):
                time.sleep(0.2)  # busy: the clerk tries again
            out.write(f"batch {Path(path).name}\n")


def role_backup(db: str, until: float, log: Path) -> None:
    folder = Path(log).parent / "backups"
    with open(log, "a", encoding="utf-8", buffering=1) as out:
        i = 0
        while time.time() < until:
            i += 1
            target = folder / f"b{i}.sqlite"
            if _run_logged(out, "backup", "--db", db, "--out", str(target)):
                out.write(f"op backup {target.name}\n")
                target.unlink()  # keep the disk small: the soak is about the live file
            time.sleep(1)


# -- the run -----------------------------------------------------------------------------
def roles_for(processes: int) -> list[str]:
    base = ["window", "cli", "sync", "backup"]
    extra = ["window", "cli"]
    return base + [extra[i % 2] for i in range(max(0, processes - len(base)))]


def run(seconds: float, processes: int, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    db, batches = setup(work)
    until = time.time() + seconds
    start = time.monotonic()
    procs: list[tuple[str, subprocess.Popen, Path]] = []
    windows = 0
    for k, role in enumerate(roles_for(processes)):
        log = logs / f"{k}-{role}.log"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--role",
            role,
            "--db",
            str(db),
            "--log",
            str(log),
            "--until",
            str(until),
            "--index",
            str(windows),
        ]
        if role == "sync":
            cmd += ["--batches", *[str(p) for p, _u in batches]]
        windows += role == "window"
        err = open(logs / f"{k}-{role}.err", "w", encoding="utf-8")  # noqa: SIM115 - closed below
        procs.append((role, subprocess.Popen(cmd, stdout=err, stderr=err, env=_env()), log))
        err.close()
    time.sleep(max(0.0, until - time.time()))
    for role, p, _log in procs:  # the windows die mid-work, as in a power cut
        if role == "window":
            p.send_signal(signal.SIGKILL)
    failed = []
    for role, p, log in procs:
        rc = p.wait(timeout=600)
        if role != "window" and rc != 0:
            failed.append(f"{log.stem}: rc {rc}")
    duration = time.monotonic() - start
    load = os.getloadavg()
    return verify(db, batches, procs, logs, failed, duration, load, processes)


def verify(db, batches, procs, logs, failed, duration, load, processes) -> dict:
    names: dict[int, str] = {}  # household id -> its head's name, as acknowledged
    address: dict[int, str] = {}  # household id -> the last acknowledged address
    unlogged: dict[int, str] = {}  # an edit tried after that (killed before its log line)
    ops: dict[str, int] = {}
    imported = set()
    for _role, _p, log in procs:
        for line in log.read_text(encoding="utf-8").splitlines():
            kind, *rest = line.split()
            if kind == "new":
                names[int(rest[0])] = rest[1]
                address[int(rest[0])] = ""
            elif kind == "try":
                unlogged[int(rest[0])] = rest[1]
                continue
            elif kind == "upd":
                address[int(rest[0])] = rest[1]
                unlogged.pop(int(rest[0]), None)
            elif kind == "batch":
                imported.add(rest[0])
            key = f"{kind} {rest[0]}" if kind == "op" else kind
            key = {"new": "saves", "upd": "edits", "batch": "sync imports"}.get(key, key)
            ops[key] = ops.get(key, 0) + 1
    store = Store.open(db, operator="soak", create=False)
    try:
        rows = {
            hid: (name, addr)
            for hid, name, addr in store.conn.execute(
                "SELECT h.id, m.name, h.address FROM households h "
                "JOIN members m ON m.household_id = h.id AND m.seq = 0"
            )
        }
        have_uids = {r[0] for r in store.conn.execute("SELECT uid FROM households")}
    finally:
        store.close()
    lost = [
        hid
        for hid, name in names.items()
        if hid not in rows
        or rows[hid][0] != name
        or rows[hid][1] not in (address[hid], unlogged.get(hid))
    ]
    for path, uids in batches:
        if path.name in imported:
            lost += [u for u in uids if u not in have_uids]
    raw = []
    for err in sorted(logs.glob("*.err")):
        text = err.read_text(encoding="utf-8")
        raw += [f"{err.name}: {w}" for w in RAW_ERRORS if w in text]
    checks = {c: mz(c, *rest, "--db", str(db)) for c, *rest in (("check",), ("audit", "verify"))}
    clean = {c: p.returncode == 0 for c, p in checks.items()}
    return {
        "processes": processes,
        "roles": [r for r, _p, _l in procs],
        "duration_s": round(duration, 1),
        "operations": sum(v for k, v in ops.items() if k != "busy"),
        "by_kind": dict(sorted(ops.items())),
        "acknowledged": len(names) + ops.get("edits", 0),
        "batches_imported": len(imported),
        "losses": len(lost),
        "lost": lost[:20],
        "raw_errors": raw,
        "failed_processes": failed,
        "check_clean": clean["check"],
        "audit_clean": clean["audit"],
        "loadavg": [round(x, 2) for x in load],
        "cpus": os.cpu_count(),
    }


def ok(result: dict) -> bool:
    return (
        result["losses"] == 0
        and not result["raw_errors"]
        and not result["failed_processes"]
        and result["check_clean"]
        and result["audit_clean"]
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--processes", type=int, default=6, help="at least 4 (one of each role)")
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: temporary)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    # one role of a run (used by the run itself)
    ap.add_argument("--role", choices=["window", "cli", "sync", "backup"])
    ap.add_argument("--db")
    ap.add_argument("--log", type=Path)
    ap.add_argument("--until", type=float)
    ap.add_argument("--index", type=int, default=0)
    ap.add_argument("--batches", nargs="*", default=[])
    a = ap.parse_args()
    if a.role == "window":
        role_window(a.db, a.index, a.log)
    elif a.role == "cli":
        role_cli(a.db, a.until, a.log)
    elif a.role == "sync":
        role_sync(a.db, a.until, a.log, a.batches)
    elif a.role == "backup":
        role_backup(a.db, a.until, a.log)
    if a.role:
        return 0
    if a.processes < 4:
        ap.error("--processes must be at least 4")
    work = a.dir or Path(tempfile.mkdtemp(prefix="mzdesk-soak-"))
    result = run(a.seconds, a.processes, work)
    if a.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(
            f"soak: {result['processes']} processes ({', '.join(result['roles'])}), "
            f"{result['duration_s']} s, {result['operations']} operations "
            f"({result['acknowledged']} acknowledged writes, "
            f"{result['batches_imported']} batches imported, "
            f"{result['by_kind'].get('busy', 0)} busy answers)"
        )
        print(f"  by kind: {result['by_kind']}")
        print(
            f"  losses: {result['losses']}  raw errors: {len(result['raw_errors'])}  "
            f"failed processes: {result['failed_processes'] or 0}  "
            f"check clean: {result['check_clean']}  audit clean: {result['audit_clean']}"
        )
        print(
            f"  load average (1/5/15 min): {result['loadavg']} on {result['cpus']} CPUs; "
            f"work folder {work}"
        )
        for line in result["raw_errors"] + [f"lost: {x}" for x in result["lost"]]:
            print("  " + line)
    return 0 if ok(result) else 1


if __name__ == "__main__":
    sys.exit(main())
