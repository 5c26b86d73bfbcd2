"""Encrypted databases (数据库加密) with SQLCipher, opt-in, for field laptops.

See ``docs/at-rest.md`` for why SQLCipher and not column encryption.

* :func:`connect` opens a file with ``sqlcipher3`` and ``PRAGMA key`` and returns
  a :class:`CipherConnection`: a thin wrapper whose errors are the standard
  library's ``sqlite3`` exceptions (``sqlcipher3.dbapi2`` has its own exception
  classes, so ``except sqlite3.IntegrityError`` in our code or in sqlite-utils
  would otherwise miss them).  ``conn.raw`` is the real sqlcipher3 connection
  (needed for ``backup``).
* :func:`is_encrypted_file`: the file exists, is not empty and plain SQLite
  cannot read it (asked through SQLite, never by peeking at the header).
* :func:`export_encrypted` writes a (possibly re-keyed) copy with
  ``sqlcipher_export``: encrypt, decrypt and encrypted backups all go through it.
* :func:`encrypt_file` / :func:`decrypt_file` convert a database in place
  (through ``<file>.partial`` and an atomic rename; the original is kept until
  the new file has passed ``integrity_check``).

Unencrypted databases never import ``sqlcipher3``.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import cast

from .errors import StoreError

ENV_KEY = "MZDESK_DB_KEY"


def cipher_version() -> str:
    """The SQLCipher library's version (the frozen build's self-test shows it)."""
    conn = _dbapi().connect(":memory:")
    try:
        return conn.execute("PRAGMA cipher_version").fetchone()[0]
    finally:
        conn.close()


def _dbapi():
    global _ERRORS
    try:
        from sqlcipher3 import dbapi2
    except ImportError:  # pragma: no cover - the dependency is declared in pyproject
        raise StoreError(
            "本程序缺少加密组件 sqlcipher3，无法打开加密数据库", "no_sqlcipher"
        ) from None
    _ERRORS = (dbapi2.Error,)
    return dbapi2


def is_encrypted_file(path: str | Path) -> bool:
    """True when ``path`` is a non-empty file that plain SQLite cannot read (an encrypted
    database, or no database at all).

    SQLite itself is asked, through a read-only connection of the standard library: the
    file is never opened behind SQLite's back (on Linux that close would drop every lock
    this process holds on it, see docs/reliability.md).  Call it before this process opens
    the file with SQLCipher, never while it holds a SQLCipher connection to it: the two
    libraries do not share their lock bookkeeping, so this connection's close would drop
    that one's locks (measured; docs/reliability.md).
    """
    p = Path(path)
    if str(path) == ":memory:" or not p.is_file() or p.stat().st_size == 0:
        return False
    try:
        probe = sqlite3.connect(p.absolute().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error:
        return False  # cannot be opened at all: Store.open says why (read-only place, ...)
    try:
        probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
            return True
        return False  # busy, unreadable: not a question of encryption; opening says why
    finally:
        probe.close()
    return False


def _map(exc: BaseException) -> sqlite3.Error:
    """The ``sqlite3`` exception of the same name as a ``sqlcipher3`` one."""
    cls = getattr(sqlite3, type(exc).__name__, None)
    if not (isinstance(cls, type) and issubclass(cls, sqlite3.Error)):
        cls = sqlite3.DatabaseError
    new = cls(*exc.args)
    for attr in ("sqlite_errorcode", "sqlite_errorname"):
        if hasattr(exc, attr):
            setattr(new, attr, getattr(exc, attr))
    return new


def _quote(key: str) -> str:
    return "'" + key.replace("'", "''") + "'"


class CipherCursor:
    __slots__ = ("_raw",)

    def __init__(self, raw):
        self._raw = raw

    def __getattr__(self, name):  # description, rowcount, lastrowid, arraysize, ...
        return getattr(self._raw, name)

    def execute(self, *args):
        try:
            self._raw.execute(*args)
        except _ERRORS as exc:
            raise _map(exc) from exc
        return self

    def executemany(self, *args):
        try:
            self._raw.executemany(*args)
        except _ERRORS as exc:
            raise _map(exc) from exc
        return self

    def fetchone(self):
        try:
            return self._raw.fetchone()
        except _ERRORS as exc:
            raise _map(exc) from exc

    def fetchmany(self, *args):
        try:
            return self._raw.fetchmany(*args)
        except _ERRORS as exc:
            raise _map(exc) from exc

    def fetchall(self):
        try:
            return self._raw.fetchall()
        except _ERRORS as exc:
            raise _map(exc) from exc

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._raw)
        except _ERRORS as exc:
            raise _map(exc) from exc

    def close(self):
        self._raw.close()


class CipherConnection:
    """A sqlcipher3 connection that raises ``sqlite3`` exceptions."""

    def __init__(self, raw):
        object.__setattr__(self, "raw", raw)

    def __getattr__(self, name):  # create_function, total_changes, in_transaction, ...
        return getattr(self.raw, name)

    def __setattr__(self, name, value):  # row_factory, isolation_level, ...
        setattr(self.raw, name, value)

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except _ERRORS as exc:
            raise _map(exc) from exc

    def execute(self, *args):
        return CipherCursor(self._call(self.raw.execute, *args))

    def executemany(self, *args):
        return CipherCursor(self._call(self.raw.executemany, *args))

    def executescript(self, *args):
        return CipherCursor(self._call(self.raw.executescript, *args))

    def cursor(self, *args):
        return CipherCursor(self.raw.cursor(*args))

    def commit(self):
        self._call(self.raw.commit)

    def rollback(self):
        self._call(self.raw.rollback)

    def close(self):
        self.raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return self._call(self.raw.__exit__, *exc_info)


_ERRORS: tuple = ()


def _wrap(raw) -> sqlite3.Connection:
    """``raw`` as the ``sqlite3.Connection`` the rest of the code takes (a
    :class:`CipherConnection` offers its API and raises its exceptions)."""
    return cast(sqlite3.Connection, CipherConnection(raw))


def connect(path: str, key: str) -> sqlite3.Connection:
    """Open (or create) the encrypted database at ``path`` with ``key``.

    Raises :class:`StoreError` ``wrong_key`` ("数据库密码错误") when the key does
    not open the file, ``not_encrypted`` when the file is a plain SQLite file.
    """
    if not key:
        raise StoreError("数据库密码不能为空", "empty_key")
    d = _dbapi()
    try:
        raw = d.connect(path, isolation_level=None, check_same_thread=False)
    except d.Error as exc:
        raise StoreError(f"无法打开数据库 {path}: {exc}", "open_failed") from None
    try:
        raw.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our error, not stderr noise
        raw.execute("PRAGMA busy_timeout = 5000")
        raw.execute(f"PRAGMA key = {_quote(key)}")
        raw.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except d.DatabaseError as exc:
        raw.close()
        if getattr(exc, "sqlite_errorname", "") != "SQLITE_NOTADB":
            raise _map(exc) from exc  # busy, I/O: Store.open says so (store.store_error)
        if path != ":memory:" and _is_plain(d, path):
            raise StoreError(
                f"数据库未加密，不需要密码（请取消 {ENV_KEY}，或先运行 mzdesk encrypt）: {path}",
                "not_encrypted",
            ) from None
        raise StoreError("数据库密码错误", "wrong_key") from None
    return _wrap(raw)


def _is_plain(d, path: str) -> bool:
    """After a key failed: is ``path`` a plain SQLite file?  Asked through SQLCipher (no
    key: plain SQLite), the library that just had the file open, never by reading its
    header behind SQLite's back (a worker or the checkpoint thread opens connections while
    the window's lives; docs/reliability.md)."""
    probe = d.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True)
    try:
        probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except d.DatabaseError:
        return False
    finally:
        probe.close()
    return True


def export_encrypted(conn, dest: str | Path, key: str | None) -> None:
    """Copy the open database ``conn`` into the new file ``dest`` with ``sqlcipher_export``.

    ``conn`` must be a sqlcipher3 connection (or :class:`CipherConnection`);
    ``key=None`` writes a plain SQLite file.  ``dest`` must not exist.
    """
    raw = getattr(conn, "raw", conn)
    dest = str(dest)
    d = _dbapi()
    try:
        raw.execute(f"ATTACH DATABASE ? AS mz_export KEY {_quote(key or '')}", (dest,))
        try:
            raw.execute("SELECT sqlcipher_export('mz_export')")
            version = raw.execute("PRAGMA main.user_version").fetchone()[0]
            raw.execute(f"PRAGMA mz_export.user_version = {int(version)}")
        finally:
            raw.execute("DETACH DATABASE mz_export")
    except d.Error as exc:
        raise _map(exc) from exc


def _plain_as_cipher(path: str):
    """A sqlcipher3 connection on a plain file (empty key = no encryption)."""
    d = _dbapi()
    return d.connect(path, isolation_level=None)


def _in_use(path: Path) -> StoreError:
    return StoreError(
        f"数据库正被其他程序打开（民政桌面窗口或另一条命令），无法转换；请先关闭它再试: {path}",
        "in_use",
    )


def convert_file(path: str | Path, source_key: str | None, dest_key: str | None) -> None:
    """Rewrite the database or backup at ``path`` from ``source_key`` to ``dest_key``
    (``None``: plain), through ``<file>.partial``; the original is kept on any failure."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    if source_key:
        conn = connect(str(path), source_key)
    else:
        conn = _wrap(_plain_as_cipher(str(path)))
    try:
        from .migrations import register_functions

        register_functions(conn)  # expression indexes use mz_reverse while rows are copied
        # out of WAL mode: only possible with no other connection open (then nobody's -wal
        # is lost), and SQLite removes its own -wal and -shm, not this code behind its back
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            raise _in_use(path)
        export_encrypted(conn, partial, dest_key)
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc).lower():
            raise
        raise _in_use(path) from None
    finally:
        conn.close()
    try:
        check = connect(str(partial), dest_key) if dest_key else sqlite3.connect(partial)
        try:
            result = [r[0] for r in check.execute("PRAGMA integrity_check")]
        finally:
            check.close()
        if result != ["ok"]:
            raise StoreError(f"转换后的数据库未通过检查: {'; '.join(result[:3])}", "convert_failed")
        with open(partial, "rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)  # no -wal/-shm left beside it (journal_mode = DELETE above)


def encrypt_file(path: str | Path, key: str) -> None:
    """Encrypt the plain database at ``path`` in place (no other program may have it open)."""
    if not key:
        raise StoreError("数据库密码不能为空", "empty_key")
    if is_encrypted_file(path):
        raise StoreError(f"数据库已经加密: {path}", "already_encrypted")
    if not Path(path).is_file():
        raise StoreError(f"数据库文件不存在: {path}", "no_database")
    convert_file(path, None, key)


def decrypt_file(path: str | Path, key: str) -> None:
    """Decrypt the encrypted database at ``path`` in place."""
    if not is_encrypted_file(path):
        raise StoreError(f"数据库未加密: {path}", "not_encrypted")
    convert_file(path, key, None)
