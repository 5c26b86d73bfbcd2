"""Backups: verified, atomic, rotated; restore checks the site and keeps a pre-restore copy."""

from __future__ import annotations

import datetime as dt

import pytest

from mzdesk.models import backup as bk
from mzdesk.models.backup import BackupError
from mzdesk.models.errors import StoreError
from mzdesk.models.registry import Registry
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from tests.helpers import household, make_id


def test_backup_is_a_verified_single_file_snapshot(store, registry, tmp_path):
    registry.save(household("红旗村", ("张三", "户主", make_id())))
    info = bk.backup_to(store, tmp_path / "usb" / "mz.sqlite")
    assert info.households == 1 and info.site_code == "341623101"
    assert sorted(p.name for p in (tmp_path / "usb").iterdir()) == ["mz.sqlite"]


def test_auto_backups_rotate_but_keep_the_newest(store, tmp_path):
    folder = tmp_path / "auto"
    start = dt.datetime(2026, 1, 1, 18, 0)
    for day in range(40):
        bk.auto_backup(store, "daily", folder, keep_days=30, now=start + dt.timedelta(days=day))
    kept = bk.list_backups(folder)
    assert len(kept) == 31 and kept[0][0] == start + dt.timedelta(days=39)
    assert not bk.daily_backup_due(store, folder, today=dt.date(2026, 2, 9))
    assert bk.daily_backup_due(store, folder, today=dt.date(2026, 2, 10))
    # a long holiday: old backups are still the only ones, the newest few stay
    bk.rotate(folder, 30, now=start + dt.timedelta(days=400))
    assert len(bk.list_backups(folder)) == bk.KEEP_AT_LEAST


def test_restore_brings_back_the_data_and_saves_the_current_first(store, registry, tmp_path):
    h = registry.save(household("红旗村", ("张三", "户主", make_id())))
    saved = bk.backup_to(store, tmp_path / "before.sqlite").path
    registry.delete(h.id, "误删")
    bk.restore(store, saved)
    assert Registry(store).get(h.id).status == "active"
    reasons = [r for _w, r, _p in bk.list_backups(bk.backup_dir(store))]
    assert reasons == ["pre-restore"]
    assert store.integrity_check() == []


def test_restore_refuses_garbage_and_damaged_files(store, tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match="不是mzdesk数据库备份"):
        bk.restore(store, junk)
    copy = bk.backup_to(store, tmp_path / "ok.sqlite").path
    data = bytearray(copy.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)  # a dying USB stick
    copy.write_bytes(bytes(data))
    with pytest.raises(BackupError):
        bk.restore(store, copy)
    assert store.scalar("SELECT code FROM site") == "341623101"


def test_backup_onto_a_full_disk_leaves_nothing_behind(store, registry, tmp_path, monkeypatch):
    """The target fills up during the copy: one error naming the file, no .partial files."""
    registry.save(household("红旗村", ("张三", "户主", make_id())))
    real = bk.sqlite3.connect

    def small_disk(path, *a, **kw):
        conn = real(path, *a, **kw)
        conn.execute("PRAGMA max_page_count = 2")
        return conn

    monkeypatch.setattr(bk.sqlite3, "connect", small_disk)
    (tmp_path / "usb").mkdir()
    with pytest.raises(BackupError, match="usb/bk.sqlite"):
        bk.backup_to(store, tmp_path / "usb" / "bk.sqlite")
    assert list((tmp_path / "usb").iterdir()) == []


@pytest.mark.parametrize("folder", ["备份#2", "U盘?旧", "50%完成", "a%41b"])
def test_backup_and_restore_in_a_folder_with_uri_characters(store, registry, tmp_path, folder):
    """'#', '?' and '%' in a folder name are just characters: the backup is written and
    verified there, restores from there, and no stray file appears beside the folder."""
    h = registry.save(household("红旗村", ("张三", "户主", make_id())))
    target = tmp_path / folder
    info = bk.auto_backup(store, "manual", target)
    assert info.households == 1 and info.path.parent == target
    assert [p.name for p in target.iterdir()] == [info.path.name]
    registry.delete(h.id, "误删")
    assert bk.restore(store, info.path).households == 1
    assert Registry(store).get(h.id).status == "active"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [folder, "backups", "mz.sqlite", "mz.sqlite-shm", "mz.sqlite-wal"]
    )


def test_restore_is_refused_while_another_program_has_the_database_open(store, registry, tmp_path):
    """The window (another connection) would go on showing and saving the old content over
    a database replaced under it: refused, nothing changed, no pre-restore copy made."""
    registry.save(household("红旗村", ("张三", "户主", make_id())))
    other = Store.open(tmp_path / "other.sqlite")
    init_site(other, "341623101", "青山镇")
    other.close()
    window = Store.open(store.path)
    try:
        with pytest.raises(StoreError, match="正被其他程序打开") as exc:
            bk.restore(store, tmp_path / "other.sqlite")
        assert exc.value.code == "in_use"
        assert window.scalar("SELECT count(*) FROM households") == 1
        assert bk.list_backups(bk.backup_dir(store)) == []
    finally:
        window.close()
    assert bk.restore(store, tmp_path / "other.sqlite").households == 0  # once it is closed
    assert store.scalar("SELECT count(*) FROM households") == 0
    assert store.scalar("PRAGMA journal_mode") == "wal"


def test_restoring_a_backup_without_accounts_asks_first(store, registry, tmp_path):
    """A backup made before the first account existed would turn logins off once restored
    (anyone could open the program): refused unless confirmed, saying so."""
    from mzdesk.models import auth

    registry.save(household("红旗村", ("张三", "户主", make_id())))
    early = bk.backup_to(store, tmp_path / "early.sqlite").path
    auth.add_operator(store, "admin", "admin-pass-1", "admin")
    store.operator = "admin"
    with pytest.raises(BackupError) as e:
        bk.restore(store, early)
    assert e.value.code == "no_accounts"
    assert "不再需要登录" in e.value.message and "operators add" in e.value.message
    assert not auth.setup_mode(store)  # nothing replaced
    assert bk.inspect_backup(early).operators == 0
    bk.restore(store, early, force=True)  # the administrator said yes
    assert auth.setup_mode(store)
