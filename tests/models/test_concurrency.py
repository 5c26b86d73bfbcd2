"""The database file has one owner, SQLite: nothing saved is lost under real concurrency.

Issue 18's scenario, with real processes: a window stand-in (a subprocess, so that it can be
killed with SIGKILL) keeps one Store and writes; in that process a second Store and a
worker-style connection (a thread, as ``ui/worker.py``) are opened and closed, a backup and a
large transaction's checkpoint thread run; other processes run every read-only CLI command
on the same file; more writes; ``kill -9``.  Every write the window was told was saved must be
in the file, and ``-wal`` must never have been deleted while the window's connection lived
(on Linux a Python ``open()``/``close()`` of the database drops every SQLite lock of the
process; another program then believes it is the last user, checkpoints and deletes
``-wal``, and the window goes on writing into a deleted file: docs/reliability.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mzdesk.models.errors import StoreError
from mzdesk.models.site import init_site
from mzdesk.models.store import Store

ROOT = Path(__file__).resolve().parents[2]

# every command that only reads the database (run by "another program" on the same file)
READ_COMMANDS = [
    ("stats", "--json"),
    ("stats", "--month", "2026-11"),
    ("check",),
    ("households", "find", "x", "--json"),
    ("households", "find", "张"),
    ("households", "show", "1"),
    ("audit", "verify"),
    ("audit", "show"),
    ("sync", "status"),
    ("sync", "conflicts"),
    ("roster", "batches"),
    ("relatives", "list"),
    ("relatives", "flagged"),
    ("enrol", "list", "--queue", "active"),
    ("operators", "list"),
]


def _env(key: str | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    for name in ("MZDESK_DB", "MZDESK_DB_KEY", "MZDESK_OPERATOR", "MZDESK_PASSWORD"):
        env.pop(name, None)
    if key:
        env["MZDESK_DB_KEY"] = key
    return env


# -- the window stand-in: runs in its own process (python -c "...writer(db)") ------------
def _say(*words: object) -> None:
    print(*words, flush=True)


def _wal_inode(db: str) -> str:
    try:
        return str(os.stat(db + "-wal").st_ino)  # stat opens nothing: no lock is touched
    except FileNotFoundError:
        return "missing"


def _own_locks(db: str) -> str:
    """How many POSIX locks this process holds on the database file (Linux: /proc/locks,
    read without touching the database); "n/a" elsewhere."""
    locks = Path("/proc/locks")
    if not locks.exists():
        return "n/a"
    needle, pid = f":{os.stat(db).st_ino} ", f" {os.getpid()} "
    return str(sum(1 for line in locks.read_text().splitlines() if needle in line and pid in line))


def _holds_locks(db: Path) -> bool:
    """Whether this process still holds its locks on ``db``; where the kernel does not
    list them (no /proc/locks), the rest of the test still runs and this says yes."""
    held = _own_locks(str(db))
    return held == "n/a" or int(held) > 0


def writer(db: str, key: str = "") -> None:
    """Read commands on stdin; answer on stdout.  ``ack <id> <name>`` is printed only
    after the save (its COMMIT) returned: what the window would have shown as saved."""
    from mzdesk.models.backup import backup_to
    from mzdesk.models.registry import Registry
    from tests.helpers import household, make_id

    key = key or None  # an encrypted database: every connection through SQLCipher
    store = Store.open(db, operator="window", key=key)
    registry = Registry(store)
    n = 0

    def save(checkpointed: bool = False) -> None:
        nonlocal n
        n += 1
        name = f"张{n:03d}"
        h = household("红旗村", (name, "户主", make_id("19700101", n)))
        if checkpointed:  # a large transaction: its WAL copied by a thread of its own
            with store.checkpoint_after():
                registry.save(h)
            store.checkpointer.join()
        else:
            registry.save(h)
        _say("ack", h.id, name)

    _say("ready", _wal_inode(db))
    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "write":
            for _ in range(int(args[0])):
                save()
        elif cmd == "others":
            # a second Store in the same process, opened and closed (a dialog, a check)
            Store.open(db, operator="window", key=key).close()

            # a worker: its own connection on a thread, closed at the end (ui/worker.py)
            def work() -> None:
                w = Store.open(db, operator="window", create=False, key=key)
                try:
                    w.scalar("SELECT count(*) FROM households")
                finally:
                    w.close()

            t = threading.Thread(target=work)
            t.start()
            t.join()
            backup_to(store, Path(db).parent / "backup.sqlite", check_permission=False)
            save(checkpointed=True)
        _say("wal", _wal_inode(db), _own_locks(db))


class Window:
    def __init__(self, db: Path, key: str | None):
        code = "import sys; from tests.models.test_concurrency import writer; writer(*sys.argv[1:])"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(db), key or ""],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=_env(),
            cwd=ROOT,
        )
        self.acked: dict[int, str] = {}
        self.wal: list[str] = [self._expect("ready")[0]]
        self.locks: list[str] = []  # POSIX locks the window held on the file, after each step

    def _expect(self, word: str) -> list[str]:
        while True:
            line = self.proc.stdout.readline()
            assert line, f"the window stand-in ended (rc {self.proc.poll()})"
            got, *rest = line.split()
            if got == "ack":
                self.acked[int(rest[0])] = rest[1]
            elif got == word:
                return rest

    def do(self, cmd: str) -> None:
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        wal, locks = self._expect("wal")
        self.wal.append(wal)
        self.locks.append(locks)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        assert self.proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("key", [None, "加密口令 for the test"], ids=["plain", "sqlcipher"])
def test_every_acknowledged_write_survives_other_programs_and_kill_9(tmp_path, key):
    db = tmp_path / "mz.sqlite"
    store = Store.open(db, operator="setup", key=key)
    init_site(store, "341623101", "青山镇")
    store.close()
    window = Window(db, key)
    try:
        window.do("write 1")
        window.do("others")  # second Store, worker connection, backup, checkpoint thread
        seen_by_others = []
        for args in READ_COMMANDS:
            proc = subprocess.run(
                [sys.executable, "-m", "mzdesk", *args, "--db", str(db)],
                capture_output=True,
                text=True,
                encoding="utf-8",
                env=_env(key),
                cwd=ROOT,
                timeout=120,
            )
            assert proc.returncode == 0, (args, proc.stderr)
            seen_by_others.append(_wal_inode(str(db)))
        window.do("write 5")
    finally:
        window.kill()
    assert len(window.acked) == 7  # 1 + the checkpointed one + 5

    after = Store.open(db, operator="check", create=False, key=key)
    try:
        names = dict(
            after.conn.execute(
                "SELECT h.id, m.name FROM households h JOIN members m ON m.household_id = h.id"
            )
        )
        assert after.integrity_check() == []
    finally:
        after.close()
    lost = {i: n for i, n in window.acked.items() if names.get(i) != n}
    assert not lost, f"{len(lost)} of {len(window.acked)} acknowledged saves lost: {lost}"
    # the window's -wal was the same file from its first write to its kill
    first = window.wal[0]
    assert first != "missing"
    assert set(window.wal) == {first}, window.wal
    assert set(seen_by_others) == {first}, seen_by_others
    # and it never lost its locks on the file (what lets the others see it is not alone)
    assert all(n == "n/a" or int(n) > 0 for n in window.locks), window.locks


def test_sqlite_connections_of_one_process_keep_each_others_locks(tmp_path):
    """What the fix relies on, measured: a second connection of the same library opened
    and closed in the process leaves the first one's locks alone (SQLite shares one
    descriptor per file and defers closing it while locks are held), while a plain Python
    open()/close() of the file drops them: another process then deletes -wal."""
    import sqlite3

    db = tmp_path / "e.sqlite"
    probe = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "c.execute('SELECT count(*) FROM t').fetchall(); c.close()"
    )

    def wal_survives(meddle) -> bool:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        conn = sqlite3.connect(db, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("CREATE TABLE t (x)")
            conn.execute("INSERT INTO t VALUES (1)")
            before = _wal_inode(str(db))
            meddle()
            subprocess.run([sys.executable, "-c", probe, str(db)], check=True, timeout=60)
            return _wal_inode(str(db)) == before
        finally:
            conn.close()

    def second_connection() -> None:
        sqlite3.connect(db).execute("SELECT count(*) FROM t").fetchall()

    def second_closed() -> None:
        c = sqlite3.connect(db)
        c.execute("SELECT count(*) FROM t").fetchall()
        c.close()

    def python_open() -> None:
        with open(db, "rb") as fh:
            fh.read(16)

    assert wal_survives(lambda: None)
    assert wal_survives(second_closed)
    assert wal_survives(second_connection)
    assert not wal_survives(python_open)  # the failure mode the rules above avoid


def _read_only_file(path: Path):
    """A read-only bind mount of one file (root can write a chmod 444 file)."""
    import contextlib

    @contextlib.contextmanager
    def cm():
        ok = subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True)
        if ok.returncode != 0:
            # root ignores chmod 444, so only a read-only mount makes the file unwritable;
            # a container that refuses mount(2) to root cannot run this case (CI can: fail)
            why = "root may not mount here, and chmod does not stop root"
            if os.environ.get("CI"):
                pytest.fail(why)
            pytest.skip(why)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
            yield
        finally:
            subprocess.run(["umount", str(path)], check=True)

    return cm()


def test_a_read_only_database_file_in_a_writable_folder_is_refused_clearly(tmp_path):
    db = tmp_path / "mz.sqlite"
    store = Store.open(db, operator="setup")
    init_site(store, "341623101", "青山镇")
    store.close()
    if os.geteuid() == 0:
        ctx = _read_only_file(db)
    else:
        db.chmod(0o444)
        ctx = open(os.devnull)  # noqa: SIM115 - a no-op context manager
    with ctx:
        with pytest.raises(StoreError) as info:
            Store.open(db, create=False)
        assert info.value.code == "read_only_location"
        assert "复制到本机可写的文件夹" in str(info.value)


# -- busy: another program holds the write lock ------------------------------------------
class LockHolder:
    """Another program in the middle of a write transaction on ``db`` until :meth:`release`."""

    CODE = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.readline(); "
        "c.execute('ROLLBACK'); c.close()"
    )

    def __init__(self, db: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.CODE, str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        self.proc.communicate("\n", timeout=30)
        assert self.proc.returncode == 0


def test_a_write_while_another_program_writes_is_busy_in_words_after_a_bounded_wait(tmp_path):
    import time

    from mzdesk.models.store import BUSY_MESSAGE, BUSY_TIMEOUT_MS

    db = tmp_path / "mz.sqlite"
    store = Store.open(db, operator="clerk")
    init_site(store, "341623101", "青山镇")
    holder = LockHolder(db)
    try:
        start = time.monotonic()
        with pytest.raises(StoreError) as info, store.transaction():
            store.conn.execute("UPDATE site SET name = '改了'")
        waited = time.monotonic() - start
    finally:
        holder.release()
    assert info.value.code == "busy" and BUSY_MESSAGE in str(info.value)
    assert BUSY_TIMEOUT_MS / 1000 * 0.9 <= waited < BUSY_TIMEOUT_MS / 1000 + 5
    assert not store.conn.in_transaction
    with store.transaction():  # once the other program is done, the write goes through
        store.conn.execute("UPDATE site SET name = '改了'")
    assert store.scalar("SELECT name FROM site") == "改了"
    store.close()


def test_the_cli_says_busy_in_one_line_not_database_is_locked(tmp_path):
    db = tmp_path / "mz.sqlite"
    store = Store.open(db, operator="clerk")
    init_site(store, "341623101", "青山镇")
    store.close()
    holder = LockHolder(db)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mzdesk", "demo", "--db", str(db), "--households", "1"],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=_env(),
            cwd=ROOT,
            timeout=120,
        )
    finally:
        holder.release()
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "[busy]" in lines[0], proc.stderr
    assert "数据库正被另一程序使用，请稍后再试" in lines[0]
    assert "locked" not in proc.stderr and "Traceback" not in proc.stderr


def test_sqlite_errors_the_user_can_meet_are_named_in_chinese(tmp_path):
    """Real SQLite errors (not made-up messages) through store_error."""
    import sqlite3

    from mzdesk.models.store import store_error

    db = tmp_path / "mz.sqlite"
    Store.open(db, operator="clerk").close()
    ro = sqlite3.connect(db.as_uri() + "?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as readonly:
        ro.execute("CREATE TABLE x (y)")
    ro.close()
    assert store_error(readonly.value, db).code == "read_only_location"
    text = tmp_path / "notes.sqlite"
    text.write_text("不是数据库", encoding="utf-8")
    with pytest.raises(sqlite3.DatabaseError) as notadb:
        sqlite3.connect(text).execute("SELECT * FROM sqlite_master")
    assert store_error(notadb.value, text).code == "not_a_database"
    with pytest.raises(sqlite3.OperationalError) as nosuch:
        sqlite3.connect(db).execute("SELECT * FROM no_such_table")
    assert store_error(nosuch.value, db) is None  # a bug: stays a bug, not a clear message


def test_audit_verify_reads_one_snapshot_while_another_program_writes(tmp_path):
    """Found by bench_soak.py: ``audit verify`` read the chain, then its top in a second
    read; entries appended in between were reported as deleted (exit 1)."""
    from mzdesk.models.audit import verify
    from mzdesk.models.registry import Registry
    from tests.helpers import household, make_id

    db = tmp_path / "mz.sqlite"
    window = Store.open(db, operator="window")
    init_site(window, "341623101", "青山镇")
    reg = Registry(window)
    reg.save(household("红旗村", ("张一", "户主", make_id("19700101", 1))))
    reader = Store.open(db, operator="reader", create=False)

    class WritesInBetween:
        """The reader's connection; the window saves just before the chain's top is read."""

        def __init__(self, conn):
            self._conn = conn

        def execute(self, sql, *args):
            if "sqlite_sequence" in sql:
                reg.save(household("红旗村", ("张二", "户主", make_id("19700101", 2))))
            return self._conn.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._conn, name)

    try:
        result = verify(WritesInBetween(reader.conn))
        assert result.ok, result.message()
        assert verify(reader.conn).ok  # and the next verify sees the new entries, chained
    finally:
        reader.close()
        window.close()


@pytest.mark.parametrize("key", [None, "加密口令 for the test"], ids=["plain", "sqlcipher"])
def test_checking_the_live_file_as_a_backup_keeps_the_stores_locks(tmp_path, key):
    """The backup page checks a file the clerk picks; picking the live database itself must
    neither drop the window's locks nor be restored onto itself."""
    from mzdesk.models.backup import BackupError, inspect_backup, restore

    db = tmp_path / "mz.sqlite"
    store = Store.open(db, operator="clerk", key=key)
    try:
        init_site(store, "341623101", "青山镇")
        assert _holds_locks(db)
        assert inspect_backup(db, key).site_code == "341623101"
        assert _holds_locks(db)
        with pytest.raises(BackupError) as info:
            restore(store, db)
        assert info.value.code == "backup_onto_itself"
        assert _holds_locks(db)
    finally:
        store.close()


def test_encrypting_a_file_another_program_has_open_is_refused_and_its_wal_kept(tmp_path):
    """encrypt/decrypt replace the file: with another connection open they are refused,
    and its -wal is never deleted by this code (SQLite removes its own files)."""
    from mzdesk.models import cipher

    db = tmp_path / "mz.sqlite"
    store = Store.open(db, operator="clerk")
    init_site(store, "341623101", "青山镇")
    store.close()
    other = Window(db, None)  # another program with the file open, its writes in -wal
    try:
        other.do("write 1")
        wal = other.wal[-1]
        with pytest.raises(StoreError) as info:
            cipher.encrypt_file(db, "口令")
        assert info.value.code == "in_use"
        assert _wal_inode(str(db)) == wal != "missing"
        other.do("write 1")
    finally:
        other.kill()
    assert not cipher.is_encrypted_file(db)
    after = Store.open(db, operator="check", create=False)
    try:
        assert set(other.acked) <= {r[0] for r in after.conn.execute("SELECT id FROM households")}
    finally:
        after.close()


def test_a_window_worker_reports_busy_in_words(tmp_path):
    """A background task whose read or write meets another program's lock (a job's own
    BEGIN IMMEDIATE here) fails with the clear message, not "内部错误 … database is locked"."""
    from mzdesk.models.store import BUSY_MESSAGE
    from mzdesk.ui.worker import Worker

    db = tmp_path / "mz.sqlite"
    store = Store.open(db, operator="clerk")
    init_site(store, "341623101", "青山镇")
    store.close()

    def job(s, progress, cancel):
        s.conn.execute("PRAGMA busy_timeout = 100")
        s.conn.execute("BEGIN IMMEDIATE")  # not through Store.transaction

    failed = []
    worker = Worker(str(db), "clerk", job)
    worker.failed.connect(lambda code, message: failed.append((code, message)))
    holder = LockHolder(db)
    try:
        worker.run()
    finally:
        holder.release()
    assert len(failed) == 1
    assert failed[0][0] == "busy" and BUSY_MESSAGE in failed[0][1]
