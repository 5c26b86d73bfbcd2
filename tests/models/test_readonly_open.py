"""Store.open(readonly=True) and the recognition of mzdesk files (issue 18, item 6).

A read-only open never creates, upgrades or writes the file, not even a login's
bookkeeping; any open refuses a file that is not an mzdesk database before writing to it.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from mzdesk.models import auth
from mzdesk.models.backup import list_backups
from mzdesk.models.errors import StoreError
from mzdesk.models.migrations import MIGRATIONS
from mzdesk.models.registry import Registry
from mzdesk.models.site import get_site, init_site
from mzdesk.models.store import APPLICATION_ID, Store
from tests.helpers import household, make_id

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pragma(path: Path, name: str) -> int:
    conn = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def sidecars(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name + "-"))


def make_current(path: Path, households: int = 2) -> Path:
    store = Store.open(path, operator="clerk")
    init_site(store, "341623101", "青山镇民政办")
    reg = Registry(store)
    for i in range(households):
        reg.save(household(f"村{i}", ("张三", "户主", make_id("19800101", i + 1))))
    store.close()
    return path


def old_fixture(tmp_path: Path) -> Path:
    dest = tmp_path / "v12.sqlite"
    shutil.copy(FIXTURES / "schema_v12.sqlite", dest)
    return dest


# -- foreign files ----------------------------------------------------------------------
def foreign_db(path: Path, *statements: str, wal: bool = False) -> Path:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()
    return path


FOREIGN = {
    "zero_bytes": lambda p: (p.write_bytes(b""), p)[1],
    "foreign": lambda p: foreign_db(
        p,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
        "INSERT INTO notes (body) VALUES ('mine')",
    ),
    "own_visits": lambda p: foreign_db(
        p,
        "CREATE TABLE visits (id INTEGER PRIMARY KEY, household_id INTEGER, note TEXT)",
        "INSERT INTO visits (household_id, note) VALUES (1, 'x')",
    ),
    "versioned_site": lambda p: foreign_db(
        p, "CREATE TABLE site (id INTEGER PRIMARY KEY, url TEXT)", "PRAGMA user_version = 7"
    ),
    "other_application": lambda p: foreign_db(
        p,
        "CREATE TABLE site (id, code, name, role)",
        "CREATE TABLE households (id)",
        "CREATE TABLE members (id)",
        "PRAGMA user_version = 3",
        "PRAGMA application_id = 1196444237",
    ),
    "empty_database": lambda p: foreign_db(p, "PRAGMA page_size = 4096", "VACUUM"),
}


@pytest.mark.parametrize("readonly", [True, False], ids=["readonly", "readwrite"])
@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_a_file_that_is_not_mzdesks_is_refused_and_left_byte_for_byte(tmp_path, kind, readonly):
    path = FOREIGN[kind](tmp_path / "their.db")
    before = digest(path)
    with pytest.raises(StoreError) as exc:
        Store.open(path, readonly=readonly)
    assert exc.value.code == "not_mzdesk"
    assert str(exc.value).startswith("不是民政桌面数据库：")
    assert str(path) in str(exc.value)
    assert digest(path) == before
    assert sidecars(path) == []


def test_a_foreign_wal_database_is_refused_unchanged(tmp_path):
    """Another program's WAL file: refused, its content unchanged.  (A read-only open of a
    WAL file may leave SQLite's empty -wal/-shm beside it; a read-write one removes them.)"""
    path = foreign_db(tmp_path / "their.db", "CREATE TABLE visits (id, note)", wal=True)
    before = digest(path)
    for readonly in (True, False):
        with pytest.raises(StoreError) as exc:
            Store.open(path, readonly=readonly)
        assert exc.value.code == "not_mzdesk"
        assert digest(path) == before
    assert sidecars(path) == []  # the read-write refusal was the last connection
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 0
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    conn.close()


def test_a_missing_file_is_created_only_read_write(tmp_path):
    missing = tmp_path / "new" / "mz.sqlite"
    with pytest.raises(StoreError) as exc:
        Store.open(missing, readonly=True)
    assert exc.value.code == "no_database"
    assert not missing.exists()
    with pytest.raises(StoreError) as exc:
        Store.open(missing, create=False)
    assert exc.value.code == "no_database"
    assert not missing.exists()
    Store.open(missing).close()
    assert pragma(missing, "application_id") == APPLICATION_ID
    assert pragma(missing, "user_version") == len(MIGRATIONS)


# -- our own files ----------------------------------------------------------------------
def test_a_current_file_opens_read_only_and_nothing_is_written(tmp_path):
    path = make_current(tmp_path / "mz.sqlite")
    assert sidecars(path) == []  # the last read-write close checkpointed and removed them
    before = digest(path)
    store = Store.open(path, readonly=True)
    assert store.readonly
    assert get_site(store).code == "341623101"
    assert store.scalar("SELECT count(*) FROM households") == 2
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.conn.execute("UPDATE households SET village = 'x'")
    with pytest.raises(StoreError) as exc, store.transaction():
        pass
    assert exc.value.code == "read_only_store"
    store.close()
    assert digest(path) == before
    # again, now that the -wal/-shm left by the read-only open exist
    store = Store.open(path, readonly=True)
    assert store.scalar("SELECT count(*) FROM households") == 2
    store.close()
    assert digest(path) == before


def test_a_read_only_open_sees_what_an_open_writer_committed(tmp_path):
    path = make_current(tmp_path / "mz.sqlite")
    writer = Store.open(path, operator="clerk")
    try:
        Registry(writer).save(household("新村", ("李四", "户主", make_id("19900101", 1))))
        assert (tmp_path / "mz.sqlite-wal").stat().st_size > 0  # the row is in the WAL only
        reader = Store.open(path, readonly=True)
        assert reader.scalar("SELECT count(*) FROM households") == 3
        reader.close()
        Registry(writer).save(household("后村", ("王五", "户主", make_id("19900101", 2))))
        assert writer.scalar("SELECT count(*) FROM households") == 4
    finally:
        writer.close()
    again = Store.open(path, readonly=True)
    assert again.scalar("SELECT count(*) FROM households") == 4
    again.close()


@pytest.mark.parametrize("folder", ["备份#2", "50%", "what?", "a b"])
def test_read_only_open_in_a_folder_with_uri_characters(tmp_path, folder):
    path = make_current(tmp_path / folder / "mz.sqlite", households=1)
    store = Store.open(path, readonly=True)
    assert store.scalar("SELECT count(*) FROM households") == 1
    store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder]  # no stray file elsewhere


def test_an_older_file_is_refused_read_only_and_not_upgraded(tmp_path):
    path = old_fixture(tmp_path)
    before = digest(path)
    with pytest.raises(StoreError) as exc:
        Store.open(path, readonly=True)
    assert exc.value.code == "needs_upgrade"
    assert "需要先升级" in str(exc.value)
    assert digest(path) == before
    assert pragma(path, "user_version") == 12
    assert sidecars(path) == [] and not (tmp_path / "backups").exists()


def test_a_newer_file_is_refused_read_only(tmp_path):
    path = make_current(tmp_path / "mz.sqlite")
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError) as exc:
        Store.open(path, readonly=True)
    assert exc.value.code == "schema_too_new"


def test_a_read_write_open_backs_up_an_older_file_then_upgrades_it(tmp_path):
    path = old_fixture(tmp_path)
    store = Store.open(path, operator="upgrader")
    assert store.schema_version == len(MIGRATIONS)
    store.close()
    assert pragma(path, "application_id") == APPLICATION_ID
    [(_when, reason, backup)] = list_backups(tmp_path / "backups")
    assert reason == "pre-upgrade"
    assert backup.name.startswith("mzdesk-341623101-")
    assert pragma(backup, "user_version") == 12  # the file as it was before the upgrade
    conn = sqlite3.connect(backup)
    assert conn.execute("SELECT count(*) FROM households").fetchone()[0] == 2
    conn.close()
    # opening it again upgrades nothing and backs up nothing
    Store.open(path).close()
    assert len(list_backups(tmp_path / "backups")) == 1


def test_a_file_from_before_application_id_is_ours_and_claimed_when_written(tmp_path):
    path = make_current(tmp_path / "mz.sqlite")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 0")
    conn.close()
    Store.open(path, readonly=True).close()
    assert pragma(path, "application_id") == 0
    Store.open(path).close()
    assert pragma(path, "application_id") == APPLICATION_ID


# -- logging in on a read-only store ----------------------------------------------------
@pytest.fixture
def with_account(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)
    real = auth.hash_password
    monkeypatch.setattr(auth, "hash_password", lambda pw, n=2**10: real(pw, n))
    path = make_current(tmp_path / "mz.sqlite", households=1)
    store = Store.open(path)
    auth.add_operator(store, "admin", "admin-pass-1", "admin")
    store.close()
    return path


def _account(path: Path) -> dict:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT failed_count, last_login_at, locked FROM operators").fetchone()
    finally:
        conn.close()
    return dict(zip(("failed_count", "last_login_at", "locked"), row, strict=True))


def test_a_read_only_login_checks_the_password_and_writes_nothing(with_account):
    path = with_account
    store = Store.open(path, readonly=True)
    op = auth.login(store, "admin", "admin-pass-1")
    assert op.name == "admin" and store.operator == "admin"
    auth.require_login(store)
    with pytest.raises(auth.LoginFailed) as exc:
        auth.login(store, "admin", "wrong-password")
    assert exc.value.unrecorded
    store.close()
    assert _account(path) == {"failed_count": 0, "last_login_at": None, "locked": 0}
    # the same login read-write records it
    rw = Store.open(path)
    auth.login(rw, "admin", "admin-pass-1")
    rw.close()
    assert _account(path)["last_login_at"] is not None


def test_an_encrypted_file_opens_read_only_and_refuses_writes(tmp_path):
    from mzdesk.models import cipher

    path = make_current(tmp_path / "mz.sqlite", households=1)
    cipher.encrypt_file(path, "a-long-passphrase")
    before = digest(path)
    store = Store.open(path, readonly=True, key="a-long-passphrase")
    assert store.scalar("SELECT count(*) FROM households") == 1
    with pytest.raises(sqlite3.OperationalError, match="readonly|query_only"):
        store.conn.execute("UPDATE households SET village = 'x'")
    store.close()
    assert digest(path) == before
