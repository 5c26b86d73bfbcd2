"""Store transactions: one user action is all or nothing, even when COMMIT itself fails."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mzdesk.models.errors import StoreError
from mzdesk.models.site import init_site
from mzdesk.models.store import Store


class _CommitFails:
    """The store's connection, except that COMMIT fails as on a full disk."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def execute(self, sql, *args):
        if sql == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_a_failed_commit_is_rolled_back_and_never_lands_with_a_later_one(tmp_path):
    store = Store.open(tmp_path / "s.sqlite", operator="clerk")
    init_site(store, "341623101", "青山镇")
    real = store.conn
    store.conn = _CommitFails(real)
    with pytest.raises(StoreError, match="磁盘空间不足"), store.transaction():
        store.conn.execute("UPDATE site SET name = '失败的修改'")
    store.conn = real
    assert not real.in_transaction
    with store.transaction():  # the next action starts cleanly and commits only itself
        store.conn.execute("UPDATE site SET updated_by = 'clerk'")
    store.close()
    store = Store.open(tmp_path / "s.sqlite", create=False)
    assert store.scalar("SELECT name FROM site") == "青山镇"
    store.close()


def _fill(store: Store, mb: int) -> None:
    with store.transaction():
        store.conn.execute("CREATE TABLE IF NOT EXISTS bulk (x BLOB)")
        store.conn.executemany("INSERT INTO bulk VALUES (randomblob(4096))", [()] * (mb * 256))


@pytest.mark.parametrize("key", [None, "口令 for the test"])
def test_a_large_commit_is_copied_into_the_file_after_it_returns(tmp_path, key):
    """checkpoint_after: COMMIT leaves the pages in the WAL (the file does not grow inside
    the caller's wait); the copy runs afterwards on its own connection, then the file holds
    everything, also when the WAL is gone; the automatic checkpoint is back as it was."""
    path = tmp_path / "s.sqlite"
    store = Store.open(path, operator="clerk", key=key)
    init_site(store, "341623101", "青山镇")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.stat().st_size
    later = []
    store._spawn = later.append  # run the copy when the test says
    with store.checkpoint_after():
        _fill(store, 4)
    assert path.stat().st_size == before  # committed, in the WAL only
    assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    assert store.scalar("SELECT count(*) FROM bulk") == 1024
    (copy,) = later
    copy()
    assert path.stat().st_size > before + 4 * 2**20
    store.close()
    Path(f"{path}-wal").unlink(missing_ok=True)  # everything is in the file itself
    again = Store.open(path, create=False, key=key)
    assert again.scalar("SELECT count(*) FROM bulk") == 1024
    assert again.integrity_check() == []
    again.close()


def test_the_copy_runs_on_a_thread_and_a_failed_transaction_changes_nothing(tmp_path):
    path = tmp_path / "s.sqlite"
    store = Store.open(path, operator="clerk")
    init_site(store, "341623101", "青山镇")
    with store.checkpoint_after():
        _fill(store, 2)
    store.checkpointer.join(timeout=30)
    assert not store.checkpointer.is_alive()
    assert store.checkpointer.name == "mzdesk-checkpoint"
    size = path.stat().st_size
    assert size > 2 * 2**20  # copied by the thread
    with pytest.raises(RuntimeError), store.checkpoint_after(), store.transaction():
        store.conn.execute("DELETE FROM bulk")
        raise RuntimeError("stopped halfway")
    store.checkpointer.join(timeout=30)
    assert store.scalar("SELECT count(*) FROM bulk") == 512
    assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    store.checkpointer = None
    with store.transaction(), store.checkpoint_after():  # joins the outer one: nothing to do
        store.conn.execute("UPDATE site SET name = '青山镇民政办'")
    assert store.checkpointer is None
    store.close()


def test_a_full_disk_is_reported_as_such_not_as_a_failed_rollback(tmp_path):
    """When a statement fails so that SQLite rolls back by itself (SQLITE_FULL), the user
    sees the full disk, not 'cannot rollback - no transaction is active'."""
    path = tmp_path / "s.sqlite"
    store = Store.open(path, operator="clerk")
    init_site(store, "341623101", "青山镇")
    store.conn.execute("CREATE TABLE bulk (x BLOB)")
    pages = store.scalar("PRAGMA page_count")
    store.conn.execute(f"PRAGMA max_page_count = {pages + 8}")  # the file cannot grow: full
    with pytest.raises(StoreError, match="磁盘空间不足"), store.transaction():
        store.conn.executemany("INSERT INTO bulk VALUES (randomblob(4096))", [()] * 64)
    assert not store.conn.in_transaction
    assert store.scalar("SELECT count(*) FROM bulk") == 0
    store.close()


# -- a database where nothing can be written (write-protected USB stick, CD, no permission) --
def test_a_database_in_a_read_only_folder_is_refused_saying_to_copy_it(tmp_path):
    """SQLite cannot even read a WAL database whose folder it cannot write (-wal/-shm): the
    clerk is told why and what to do, and nothing is left in the folder."""
    from mzdesk.models.errors import StoreError
    from tests.places import read_only_folder

    folder = tmp_path / "usb"
    folder.mkdir()
    store = Store.open(folder / "mz.sqlite", operator="clerk")
    init_site(store, "341623101", "青山镇")
    store.close()
    before = sorted(p.name for p in folder.iterdir())
    with read_only_folder(folder):
        for create in (False, True):
            with pytest.raises(StoreError) as info:
                Store.open(folder / "mz.sqlite", create=create)
            assert info.value.code == "read_only_location"
            assert str(folder / "mz.sqlite") in str(info.value)
            assert "复制到本机可写的文件夹" in str(info.value)
        with pytest.raises(StoreError, match="复制到本机可写的文件夹") as new:
            Store.open(folder / "sub" / "new.sqlite")  # nor can a new one be made there
        assert new.value.code == "read_only_location"
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_file_that_fails_to_open_is_not_left_open(tmp_path):
    """A refused file keeps no handle (a USB stick can then be ejected, a test's read-only
    mount unmounted)."""
    import os

    from mzdesk.models.errors import StoreError

    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4080)
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert info.value.code == "not_a_database"  # SQLite says so (no header peek)
    fds = Path("/proc/self/fd")
    if fds.is_dir():  # Linux: no descriptor of this process points at the file
        opened = [os.readlink(fd) for fd in fds.iterdir() if fd.is_symlink()]
        assert str(path) not in opened
    path.unlink()  # and elsewhere: Windows refuses to delete a file still open
    assert not path.exists()
