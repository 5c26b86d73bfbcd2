"""At-rest protection (docs/at-rest.md): an encrypted (SQLCipher) database, opt-in."""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import stat

import pytest

from mzdesk.cli import main
from mzdesk.models import backup as bk
from mzdesk.models import cipher
from mzdesk.models.errors import StoreError
from mzdesk.models.query import search_household_ids
from mzdesk.models.registry import Registry
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.sync.batch import BatchRefused
from tests.helpers import household, make_id
from tests.sync.sites import S

KEY = "田间 passphrase'1"  # non-ASCII and a quote: the key is quoted, not interpolated raw
NAME = "张三丰"
ID = make_id("19800101", 7)


def secrets_in(data: bytes) -> list[str]:
    """Which forms of the name or the ID number occur in ``data``."""
    forms = {
        "name utf-8": NAME.encode(),
        "name utf-16le": NAME.encode("utf-16-le"),
        "name utf-16be": NAME.encode("utf-16-be"),
        "id": ID.encode(),
        "id prefix": ID[:10].encode(),
        "id utf-16le": ID.encode("utf-16-le"),
        "id utf-16be": ID.encode("utf-16-be"),
        "id reversed": ID[::-1].encode(),
        "id tail reversed": ID[::-1][:8].encode(),
    }
    return [k for k, v in forms.items() if v in data]


def new_store(path, key=KEY) -> Store:
    s = Store.open(path, operator="tester", key=key)
    init_site(s, "341623101", "青山镇")
    return s


def test_stolen_file_and_wal_reveal_no_name_and_no_id(tmp_path):
    # control: the plain file does contain them, so the search below can find them
    plain = Store.open(tmp_path / "plain.sqlite", operator="t")
    init_site(plain, "341623101", "青山镇")
    Registry(plain).save(household("红旗村", (NAME, "户主", ID)))
    plain_bytes = (tmp_path / "plain.sqlite").read_bytes() + (
        tmp_path / "plain.sqlite-wal"
    ).read_bytes()
    assert {"name utf-8", "id", "id reversed"} <= set(secrets_in(plain_bytes))
    plain.close()

    store = new_store(tmp_path / "field.sqlite")
    Registry(store).save(
        household("红旗村", (NAME, "户主", ID), ("张小明", "子", make_id("20100101", 3)))
    )
    wal = tmp_path / "field.sqlite-wal"
    assert wal.stat().st_size > 0  # still open: the change sits in the WAL
    assert secrets_in(wal.read_bytes()) == []
    assert secrets_in((tmp_path / "field.sqlite").read_bytes()) == []
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = (tmp_path / "field.sqlite").read_bytes()
    assert not data.startswith(b"SQLite format 3") and secrets_in(data) == []
    store.close()
    # the standard library cannot read it either
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(tmp_path / "field.sqlite").execute("SELECT * FROM sqlite_master").fetchall()


def test_wrong_or_missing_passphrase_is_refused(tmp_path):
    path = tmp_path / "field.sqlite"
    new_store(path).close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as exc:
        Store.open(path, key="wrong")
    assert exc.value.code == "wrong_key" and "数据库密码错误" in str(exc.value)
    with pytest.raises(StoreError) as exc:
        Store.open(path)
    assert exc.value.code == "not_a_database" and "加密" in str(exc.value)
    assert path.read_bytes() == before
    # a key for a plain database is refused too (the user thinks it is protected)
    Store.open(tmp_path / "plain.sqlite").close()
    with pytest.raises(StoreError) as exc:
        Store.open(tmp_path / "plain.sqlite", key=KEY)
    assert exc.value.code == "not_encrypted"


def test_encrypt_then_reopen_search_and_errors_work(store, registry, tmp_path):
    h = registry.save(household("红旗村", (NAME, "户主", ID)))
    path = store.path
    store.close()
    cipher.encrypt_file(path, KEY)
    assert cipher.is_encrypted_file(path)
    enc = Store.open(path, operator="tester", key=KEY)
    try:
        assert enc.key == KEY and enc.integrity_check() == []
        assert search_household_ids(enc, NAME) == [h.id]
        assert search_household_ids(enc, ID[-6:]) == [h.id]
        assert enc.db["households"].count == 1  # sqlite-utils on the encrypted connection
        # errors are the standard library's classes, as the rest of the code expects
        with pytest.raises(sqlite3.OperationalError):
            enc.conn.execute("SELECT * FROM no_such_table")
        with pytest.raises(sqlite3.IntegrityError):
            enc.conn.execute("INSERT INTO site (id, code, name) VALUES (1, 'x', 'y')")
        # a write goes through the usual transaction and is still there after reopening
        Registry(enc).save(household("白云村", ("李四", "户主", make_id("19700101", 9))))
    finally:
        enc.close()
    again = Store.open(path, key=KEY)
    assert again.scalar("SELECT count(*) FROM households") == 2
    again.close()
    cipher.decrypt_file(path, KEY)
    plain = Store.open(path)
    assert search_household_ids(plain, NAME) == [h.id]
    plain.close()


def test_backup_of_an_encrypted_store_is_encrypted_and_restores(tmp_path):
    store = new_store(tmp_path / "field.sqlite")
    registry = Registry(store)
    h = registry.save(household("红旗村", (NAME, "户主", ID)))
    info = bk.backup_to(store, tmp_path / "usb" / "mz.sqlite")
    assert info.households == 1
    data = info.path.read_bytes()
    assert cipher.is_encrypted_file(info.path) and secrets_in(data) == []
    with pytest.raises(bk.BackupError):
        bk.inspect_backup(info.path)  # no key: not readable
    assert bk.inspect_backup(info.path, KEY).site_code == "341623101"
    auto = bk.auto_backup(store, "exit")
    assert cipher.is_encrypted_file(auto.path)

    registry.delete(h.id, "误删")
    assert store.scalar("SELECT count(*) FROM households WHERE status='active'") == 0
    bk.restore(store, info.path)
    assert store.scalar("SELECT count(*) FROM households WHERE status='active'") == 1
    assert store.integrity_check() == []
    # a plain backup cannot silently replace the encrypted data
    plain = Store.open(tmp_path / "plain.sqlite", operator="t")
    init_site(plain, "341623101", "青山镇")
    plain_backup = bk.backup_to(plain, tmp_path / "plain-backup.sqlite").path
    plain.close()
    with pytest.raises(bk.BackupError) as exc:
        bk.restore(store, plain_backup)
    assert exc.value.code == "backup_not_encrypted"
    store.close()


def run(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main([*args])
        raise SystemExit(0)
    gc.collect()  # as the command's process would end: its store's connection is closed
    out = capsys.readouterr()
    return exc.value.code or 0, out.out + out.err


def test_cli_encrypt_decrypt_round_trip(store, registry, capsys, monkeypatch):
    registry.save(household("红旗村", (NAME, "户主", ID)))
    db = store.path
    store.close()
    monkeypatch.delenv(cipher.ENV_KEY, raising=False)
    code, plain_stats = run(capsys, "stats", "--db", db)
    assert code == 0
    monkeypatch.setenv(cipher.ENV_KEY, KEY)
    code, out = run(capsys, "encrypt", "--db", db)
    assert code == 0 and "已加密" in out and cipher.is_encrypted_file(db)
    code, out = run(capsys, "encrypt", "--db", db)
    assert code == 1 and "已经加密" in out
    assert run(capsys, "stats", "--db", db) == (0, plain_stats)  # every command honours the key
    monkeypatch.setenv(cipher.ENV_KEY, "wrong")
    code, out = run(capsys, "stats", "--db", db)
    assert code == 1 and "数据库密码错误" in out and len(out.strip().splitlines()) == 1
    monkeypatch.delenv(cipher.ENV_KEY)
    code, out = run(capsys, "stats", "--db", db)  # no terminal to prompt on: refused
    assert code == 1 and "加密" in out
    monkeypatch.setenv(cipher.ENV_KEY, KEY)
    code, out = run(capsys, "decrypt", "--db", db)
    assert code == 0 and not cipher.is_encrypted_file(db)
    monkeypatch.delenv(cipher.ENV_KEY)
    assert run(capsys, "stats", "--db", db) == (0, plain_stats)


def test_gui_asks_for_the_passphrase_until_it_opens(qtbot, tmp_path, monkeypatch):
    from mzdesk.ui.db_key import open_encrypted

    monkeypatch.delenv(cipher.ENV_KEY, raising=False)
    path = tmp_path / "field.sqlite"
    new_store(path).close()
    asked = []

    def ask(parent, p, retry):
        asked.append(retry)
        return "wrong" if len(asked) == 1 else KEY

    store = open_encrypted(path, None, ask)
    assert store is not None and store.key == KEY and asked == [False, True]
    store.close()
    assert open_encrypted(path, None, lambda *a: None) is None  # cancelled


def test_worker_thread_reopens_the_encrypted_store(qtbot, tmp_path):
    from mzdesk.ui.worker import Worker

    store = new_store(tmp_path / "field.sqlite")
    results, failures = [], []
    w = Worker(
        store.path, store.operator, lambda s, p, c: s.scalar("SELECT code FROM site"), key=store.key
    )
    w.finished.connect(results.append)
    w.failed.connect(lambda code, msg: failures.append(msg))
    w.run()
    assert failures == [] and results == ["341623101"]
    store.close()


def test_cli_encrypt_takes_the_automatic_backups_along_and_needs_an_admin(
    tmp_path, capsys, monkeypatch
):
    """A plain backup left in backups/ beside an encrypted database gives away everything
    the passphrase protects; setting or removing the passphrase is an admin's act; and the
    file is not rewritten under a window that has it open."""
    from mzdesk.models import auth

    store = Store.open(tmp_path / "mz.sqlite", operator="tester")
    init_site(store, "341623101", "青山镇")
    Registry(store).save(household("红旗村", (NAME, "户主", ID)))
    auth.add_operator(store, "admin", "admin-pass-1", "admin")
    store.operator = "admin"
    auth.add_operator(store, "clerk", "clerk-pass-1", "clerk")
    exit_backup = bk.auto_backup(store, "exit").path
    db = store.path
    store.close()
    assert secrets_in(exit_backup.read_bytes())  # the search finds them in a plain file
    monkeypatch.setenv(cipher.ENV_KEY, KEY)
    for var in ("MZDESK_OPERATOR", "MZDESK_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    code, out = run(capsys, "encrypt", "--db", db)
    assert code == 1 and "请先登录" in out
    monkeypatch.setenv("MZDESK_OPERATOR", "clerk")
    monkeypatch.setenv("MZDESK_PASSWORD", "clerk-pass-1")
    code, out = run(capsys, "encrypt", "--db", db)
    assert code == 1 and "无权" in out and "加密或解密数据库" in out
    monkeypatch.setenv("MZDESK_OPERATOR", "admin")
    monkeypatch.setenv("MZDESK_PASSWORD", "admin-pass-1")
    window = Store.open(db)
    try:
        code, out = run(capsys, "encrypt", "--db", db)
        assert code == 1 and "正被其他程序打开" in out
    finally:
        window.close()
    assert not cipher.is_encrypted_file(db)

    code, out = run(capsys, "encrypt", "--db", db)
    assert code == 0 and "自动备份 1 个已一并加密" in out and cipher.is_encrypted_file(db)
    assert cipher.is_encrypted_file(exit_backup) and secrets_in(exit_backup.read_bytes()) == []
    code, out = run(capsys, "restore", str(exit_backup), "--db", db)
    assert code == 0 and "1 户" in out

    code, out = run(capsys, "decrypt", "--db", db)
    assert code == 0 and "自动备份 2 个已一并解密" in out  # the exit and the pre-restore ones
    assert not cipher.is_encrypted_file(exit_backup)
    monkeypatch.delenv(cipher.ENV_KEY)
    code, out = run(capsys, "restore", str(exit_backup), "--db", db)  # restorable again
    assert code == 0 and "1 户" in out


# -- the site key and the held batches beside an encrypted database (issue 20) ----------


def _secret_files(folder) -> dict[str, int]:
    """Every file in ``folder`` (recursively) but the database and its -wal/-shm: mode."""
    return {
        str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith("mz.sqlite")
    }


def _encrypted_site(tmp_path, code, name, role):
    from mzdesk.sync.keys import init_keys

    d = tmp_path / code
    d.mkdir(parents=True)
    store = Store.open(d / "mz.sqlite", operator=f"clerk-{code}", key=KEY)
    init_site(store, code, name, role)
    return S(store, init_keys(store), d)


def test_site_key_and_held_batches_are_protected_by_the_database_passphrase(tmp_path, monkeypatch):
    """On an encrypted laptop the site key is sealed with the database's passphrase and a
    held batch lives inside the database: nothing beside it gives the data away, and every
    file that holds a secret is 0600 whatever the umask."""
    from mzdesk.models.demo import generate_demo
    from mzdesk.sync.history import held_batches
    from mzdesk.sync.keys import key_file, load_keys
    from tests.sync.sites import link, make_site

    monkeypatch.delenv("MZDESK_KEY_PASSPHRASE", raising=False)
    old_umask = os.umask(0)  # a careless umask: files would come out 0666
    try:
        t = make_site(tmp_path, "341623101", "青山镇", "township")
        f = _encrypted_site(tmp_path, "341623101001", "红旗村入户终端", "field")
        generate_demo(t.store, 6, seed=3)
        villages = [r[0] for r in t.store.conn.execute("SELECT DISTINCT village FROM households")]
        link(t, f, villages)
        text = key_file(f.store).read_text()
        body = json.loads(text)
        assert "plain" not in body and body.get("sealed_with") == "database"
        assert "AGE-SECRET-KEY" not in text and str(f.keys.identity) not in text
        assert str(load_keys(f.store).identity) == str(f.keys.identity)  # no passphrase asked
        f.import_(t.export(f))
        second, third = t.export(f), t.export(f)
        with pytest.raises(BatchRefused) as e:
            f.import_(third)
        assert e.value.code == "gap" and held_batches(f.store) == ["341623101-000003.age"]
        # beside the database: the key file only, sealed, 0600 in a 0700 folder
        assert _secret_files(f.dir) == {"mz.sqlite.sync/keys/site-key.json": 0o600}
        assert stat.S_IMODE(key_file(f.store).parent.stat().st_mode) == 0o700
        for p in f.dir.rglob("*"):
            if p.is_file():
                assert not p.read_bytes().startswith(b"age-encryption.org"), p
        # the rotation keeps the old key sealed the same way, and the held batch readable
        from mzdesk.sync.key_history import rotate_keys

        f.keys = rotate_keys(f.store)
        text = key_file(f.store).read_text()
        assert "AGE-SECRET-KEY" not in text and json.loads(text)["sealed_with"] == "database"
        assert _secret_files(f.dir) == {"mz.sqlite.sync/keys/site-key.json": 0o600}
        r = f.import_(second)
        assert r.also_applied == [3] and held_batches(f.store) == []
    finally:
        os.umask(old_umask)
    f.store.close()
    t.store.close()


def test_a_clear_key_and_held_files_of_an_older_version_are_taken_in(tmp_path, monkeypatch):
    """A laptop encrypted after its keys were made (`mzdesk encrypt`), with a batch held as a
    file by an older version: the key file is sealed at its first use, the held file moves
    into the database."""
    from mzdesk.sync.history import held_batches
    from mzdesk.sync.keys import init_keys, key_file, load_keys

    monkeypatch.delenv("MZDESK_KEY_PASSPHRASE", raising=False)
    path = tmp_path / "mz.sqlite"
    store = Store.open(path, operator="tester")
    init_site(store, "341623101", "青山镇")
    keys = init_keys(store)
    assert "plain" in json.loads(key_file(store).read_text())  # a plain database: as before
    store.close()
    held = tmp_path / "mz.sqlite.sync" / "held"
    held.mkdir()
    (held / "341623-000002.age").write_bytes(b"age-encryption.org/v1\nheld by v14")
    cipher.encrypt_file(path, KEY)
    store = Store.open(path, operator="tester", key=KEY)
    try:
        assert str(load_keys(store).identity) == str(keys.identity)
        text = key_file(store).read_text()
        assert "AGE-SECRET-KEY" not in text and json.loads(text)["sealed_with"] == "database"
        assert held_batches(store) == ["341623-000002.age"]
        assert list(held.iterdir()) == []
        assert store.scalar("SELECT data FROM sync_held") == b"age-encryption.org/v1\nheld by v14"
    finally:
        store.close()
