"""The store: one SQLite file opened through sqlite-utils.

WAL journal, foreign keys on, numbered migrations (``PRAGMA user_version``),
and one explicit transaction per user action (:meth:`Store.transaction`).

>>> store = Store.open(":memory:", operator="clerk")
>>> store.schema_version == len(MIGRATIONS)
True
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from .errors import MzError, StoreError, translate_sqlite_error
from .files import os_reason
from .migrations import MIGRATIONS, register_functions
from .pg_url import is_url, safe_text, safe_url

if TYPE_CHECKING:
    import sqlite_utils

# how long a write waits for another program's transaction before "busy" (bounded: the
# clerk is told to try again rather than left waiting)
BUSY_TIMEOUT_MS = 5000


def now_iso() -> str:
    """Local time to the second; what created_at/updated_at hold."""
    return dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")


def new_uid() -> str:
    """A stable id for a record that may travel to another site."""
    return uuid.uuid4().hex


@contextlib.contextmanager
def unchanged_on_failure(*records: object) -> Iterator[None]:
    """Put ``records`` back as they were when the block fails.

    A save assigns the new id, uid and revision to the object it was given as it goes;
    if a later step fails, the transaction rolls back but the object would keep them,
    and the next save would update a row that does not exist or expect a revision that
    was never committed ("已被修改").  Wrap the transaction, so that a failed COMMIT
    counts too::

        with unchanged_on_failure(visit, *visit.photos), store.transaction():
            ...
    """
    before = [dict(vars(r)) for r in records]
    try:
        yield
    except BaseException:
        for r, attrs in zip(records, before, strict=True):
            vars(r).clear()
            vars(r).update(attrs)
        raise


def default_operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name on some systems; not an error
        return "operator"


def _nearest_folder(path: Path) -> Path:
    """The folder ``path`` is in, or its nearest ancestor that exists (to be created in)."""
    folder = path.absolute().parent
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def _read_only_location(path: Path | str, why: str) -> StoreError:
    return StoreError(
        f"数据库所在的位置不能写入（{why}），无法打开：\n{path}\n\n"
        "民政桌面打开数据库时要在同一文件夹里写入工作文件（-wal、-shm），"
        "所以不能直接打开写保护的U盘、光盘或没有写入权限的文件夹里的数据库。\n\n"
        "请把数据库文件（连同同名的 -wal 文件，如有）复制到本机可写的文件夹（如“文档”），"
        "再打开那份副本。",
        "read_only_location",
    )


def require_writable(path: str | Path) -> None:
    """Raise ``read_only_location`` unless the database at ``path`` can be written where it is.

    SQLite writes a WAL database's ``-wal`` and ``-shm`` files next to it, so a database on
    a write-protected USB stick, a CD or in a folder without write permission cannot be
    opened at all, not even to read ("unable to open database file").  This says so before
    anything is opened, and what to do: copy it to a writable folder.  A read-only mode is
    not offered: a login records its failures and last login in the file.

    The folder is checked for real, on a temporary file of its own (permission bits do not
    tell for root, a read-only mount or a Windows drive).  The database file itself is
    never opened here: on Linux closing *any* descriptor of it drops every SQLite lock this
    process holds (docs/reliability.md), and a worker calls this while the window's
    connection lives.  A write-protected file (read-only attribute, chmod 444) is seen by
    ``os.access``, which opens nothing; SQLite's own "attempt to write a readonly database"
    is mapped to the same error (:func:`store_error`).
    """
    path = Path(path)
    try:
        fd, probe = tempfile.mkstemp(prefix=".mzdesk-", suffix=".tmp", dir=_nearest_folder(path))
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _read_only_location(path, os_reason(exc)) from None
    if path.exists() and not os.access(path, os.W_OK):
        raise _read_only_location(path, "文件是只读的")


BUSY_MESSAGE = "数据库正被另一程序使用，请稍后再试"


def store_error(exc: sqlite3.Error, path: str | Path) -> MzError | None:
    """The clear error for a SQLite failure the user can meet, or None (a bug: re-raise).

    * busy/locked (another program holds the write lock longer than ``busy_timeout``):
      ``busy``, "数据库正被另一程序使用，请稍后再试" instead of "database is locked";
    * an I/O error (a pulled USB stick, a failing disk): ``io_error``;
    * a write-protected file: ``read_only_location``;
    * not a database (or an encrypted one opened without its passphrase): ``not_a_database``.
    """
    full = translate_sqlite_error(exc)  # a full disk: "磁盘空间不足", nothing saved
    if full is not None:
        return full
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    where = f"：{safe_url(str(path))}" if str(path) else ""  # never a URL's password
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "is locked" in text:
        return StoreError(f"{BUSY_MESSAGE}{where}", "busy")
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        return StoreError(
            "读写数据库文件出错（磁盘或U盘可能已拔出或损坏），刚才的操作没有保存，"
            f"请检查磁盘后重新打开{where}",
            "io_error",
        )
    if name.startswith("SQLITE_READONLY") or "readonly database" in text:
        return _read_only_location(path, "文件是只读的")
    if name == "SQLITE_NOTADB" or "file is not a database" in text:
        return StoreError(
            f"不是mzdesk数据库文件，或是需要密码的加密数据库{where}", "not_a_database"
        )
    return None


@contextlib.contextmanager
def clear_errors(path: str | Path) -> Iterator[None]:
    """Raise :func:`store_error`'s clear error instead of a raw SQLite one it knows."""
    try:
        yield
    except sqlite3.Error as exc:
        clear = store_error(exc, path)
        if clear is None:
            raise
        raise clear from exc


def _mappable(exc: BaseException) -> TypeGuard[sqlite3.DatabaseError]:
    """A SQLite error that :func:`store_error` may turn into a clear one (an
    IntegrityError raised inside a transaction is the caller's business)."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(
        exc, sqlite3.IntegrityError | sqlite3.ProgrammingError
    )


def _connect(path: str, key: str | None, readonly: bool = False) -> sqlite3.Connection:
    """A bare connection (plain SQLite, or SQLCipher with ``key``); no PRAGMAs set.

    ``readonly``: SQLite's ``mode=ro``, so that nothing on this connection can write the
    file (an encrypted one: ``query_only``, as SQLCipher is opened by path).
    """
    if key:
        from .cipher import connect

        conn = connect(path, key)
        if readonly:
            conn.execute("PRAGMA query_only = ON")
        return conn
    if readonly:
        # as_uri() percent-encodes the path, so a folder named "备份#2" or "50%" stays a name
        uri = Path(path).absolute().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False)


# PRAGMA application_id of every file mzdesk creates or upgrades ("MZDK"): with the
# schema version and the site table it tells an mzdesk database from another program's
APPLICATION_ID = 0x4D5A444B
# what a file from before APPLICATION_ID must hold to be taken for ours: the tables of the
# first schema (migrations._v1_base), with the site table's own columns
_V1_TABLES = {"site", "households", "members"}
_SITE_COLUMNS = {"id", "code", "name", "role"}


def _not_mzdesk(path: str, why: str) -> StoreError:
    return StoreError(
        f"不是民政桌面数据库：{path}（{why}）。此文件未作任何改动；"
        "请选择民政桌面的数据库文件，或用 mzdesk init 在新位置创建数据库。",
        "not_mzdesk",
    )


def _recognise(conn: sqlite3.Connection, path: str, fresh: bool) -> None:
    """Raise ``not_mzdesk`` unless the file behind ``conn`` is an mzdesk database, or is
    new (created by this open).  Only reads: a refused file is left byte for byte.

    Ours: ``application_id`` is :data:`APPLICATION_ID` (or 0 on files written before it
    was set) with ``user_version`` > 0 and the first schema's tables.  A 0-byte or empty
    file that already existed is somebody else's (a failed copy, another program's
    placeholder): it is not turned into a database.
    """
    if path == ":memory:":
        return
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables and version == 0 and app_id == 0:
        if fresh:
            return
        raise _not_mzdesk(path, "空文件，没有任何数据表")
    if app_id not in (0, APPLICATION_ID):
        raise _not_mzdesk(path, f"属于另一种程序，application_id {app_id}")
    if version <= 0:
        raise _not_mzdesk(path, "没有民政桌面的版本号")
    missing = _V1_TABLES - tables
    if missing:
        raise _not_mzdesk(path, "缺少数据表 " + "、".join(sorted(missing)))
    site_columns = {r[1] for r in conn.execute("PRAGMA table_info(site)")}
    if not _SITE_COLUMNS <= site_columns:
        raise _not_mzdesk(path, "site 表不是民政桌面的")


def _require_current(store: Store) -> None:
    """A read-only open reads the file as it is, so it must be of this program's version."""
    version = store.schema_version
    if version > len(MIGRATIONS):
        store.migrate()  # raises schema_too_new, the one message for a newer file
    if version < len(MIGRATIONS):
        raise StoreError(
            f"数据库版本较旧（{version}，本程序为{len(MIGRATIONS)}），需要先升级：请用民政桌面窗口"
            f"打开，或运行任一写入命令（会先自动备份）：{store.path}",
            "needs_upgrade",
        )


def _backup_before_upgrade(store: Store) -> None:
    """Save an mzdesk file that is about to be upgraded into its automatic-backup folder
    (models/backup.py), so that the upgrade can be undone by a restore."""
    version = store.schema_version
    if store.path == ":memory:" or not 0 < version < len(MIGRATIONS):
        return
    from .backup import auto_backup

    auto_backup(store, "pre-upgrade")


def _claim(conn: sqlite3.Connection) -> None:
    """Mark a file mzdesk created or upgraded as mzdesk's (``PRAGMA application_id``)."""
    if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


class Store:
    """An open mzdesk database: the single entry to the data (like Anki's collection)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: str,
        operator: str,
        key: str | None = None,
        readonly: bool = False,
    ):
        self.conn: sqlite3.Connection = conn
        # opened with Store.open(readonly=True): nothing is written, not even a login
        self.readonly = readonly
        self._db: sqlite_utils.Database | None = None
        # the database passphrase (None: plain SQLite); kept so that a worker thread
        # or a backup can open the same encrypted file (models/cipher.py)
        self.key = key
        self.path = path
        # the name recorded on rows and in the audit trail (updated_by ...): no rights
        self.operator = operator
        # who is acting (models/auth.py Principal): set only by auth.login and its kin
        self.principal: Any = None
        # the acting operator's password after a login (auth.login), for this session only:
        # it unlocks the site keys sealed for that login (mzdesk.sync.keys); never stored
        self.login_password: str | None = None
        self._depth = 0
        # run inside the outermost transaction just before COMMIT (the audit seal)
        self.before_commit: list = []
        # run inside the outermost transaction just after BEGIN (the audit trail's check for
        # entries written outside mzdesk: models/audit_guard.py)
        self.after_begin: list = []
        # the day this store last tried to sign the audit chain's head (sync/checkpoints.daily)
        self.checkpoint_day: str | None = None
        # the thread copying a large transaction's WAL into the file (checkpoint_after)
        self.checkpointer: threading.Thread | None = None
        # where the site's own files (keys, ``<stem>.sync``) go: beside the database file,
        # or a folder of the user's for a PostgreSQL site (models/pg.py files_stem)
        self.files_stem = path

    @classmethod
    def open(
        cls,
        path: str | Path,
        operator: str | None = None,
        create: bool = True,
        key: str | None = None,
        readonly: bool = False,
    ) -> Store:
        """Open (and create or upgrade) the database at ``path``.

        With ``key`` the file is a SQLCipher database (created encrypted if new);
        see ``models/cipher.py``.

        Only a missing file is created (with ``create``); an existing file must be an mzdesk
        database (:func:`_recognise`), else ``not_mzdesk`` and the file is left as it was.
        An older mzdesk file is saved to the automatic-backup folder before it is upgraded.

        ``readonly``: for commands that only read.  The file is opened with SQLite's
        ``mode=ro``: never created, never upgraded (an older file is refused with
        ``needs_upgrade``), and nothing is written, not even a login's bookkeeping.  On a
        WAL file SQLite itself may leave empty ``-wal``/``-shm`` files beside it, which the
        next read-write open removes.
        """
        path = str(path)
        if is_url(path):
            return cls._open_url(path, operator, create, readonly)
        readonly = readonly and path != ":memory:"
        fresh = path == ":memory:" or not Path(path).exists()  # before SQLite creates it
        if path != ":memory:":
            p = Path(path)
            if not p.exists() and (not create or readonly):
                raise StoreError(f"数据库文件不存在: {path}", "no_database")
            require_writable(p)
            p.parent.mkdir(parents=True, exist_ok=True)
        conn = None
        try:
            conn = _connect(path, key, readonly)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # SQLite itself tells a file that is not a database (never a peek at the header
            # behind its back: see require_writable); mapped to not_a_database below
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute("PRAGMA foreign_keys = ON")
            # temp tables (bulk staging) and large sorts in RAM: the temp file costs a bulk
            # import seconds, and this data set fits in memory many times over
            conn.execute("PRAGMA temp_store = MEMORY")
            _recognise(conn, path, fresh)  # before anything is written (journal mode)
            if path != ":memory:" and not readonly:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()  # no handle left on a file the user may want to eject
            clear = store_error(exc, path)
            if clear is not None:
                raise clear from None
            raise StoreError(f"无法打开数据库 {path}: {exc}", "open_failed") from None
        except StoreError:
            if conn is not None:
                conn.close()  # another program's file: no handle left, nothing written
            raise
        register_functions(conn)
        store = cls(conn, path, operator or default_operator(), key=key or None, readonly=readonly)
        try:
            with clear_errors(path):  # another program's long write: busy, in words
                if readonly:
                    _require_current(store)
                else:
                    if not fresh:
                        _backup_before_upgrade(store)
                    from .audit import attach, install

                    install(store)  # before migrate: a migration's entries are its own to seal
                    store.migrate()
                    _claim(conn)
                    attach(store)  # after migrate: the audit tables exist
        except BaseException:
            conn.close()  # a refused (too new) or failed upgrade leaves no open handle behind
            raise
        return store

    @classmethod
    def _open_url(cls, url: str, operator: str | None, create: bool, readonly: bool) -> Store:
        """A site in a PostgreSQL database (``models/pg.py``): created at the current
        schema when the database is empty (with ``create``), refused when it holds another
        program's tables; same hooks as a file."""
        from . import pg, pg_create

        try:
            try:
                conn = pg.connect(url)
            except Exception as exc:  # noqa: BLE001 - the one failure init may cure
                if not (create and not readonly and pg_create.missing_database(exc)):
                    raise
                pg_create.create_database(url)  # like a missing file at init
                conn = pg.connect(url)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - psycopg's errors, said in words
            raise StoreError(
                f"无法连接PostgreSQL数据库：{pg.safe_url(url)}（{safe_text(pg.reason(exc), url)}）",
                "open_failed",
            ) from None
        try:
            if not conn.initialised():
                if not conn.empty():
                    raise _not_mzdesk(pg.safe_url(url), "数据库里已有别的程序的数据表")
                if not create or readonly:
                    raise StoreError(
                        f"PostgreSQL数据库还不是民政桌面数据库，请先运行 mzdesk init：{pg.safe_url(url)}",
                        "no_database",
                    )
                pg.create_schema(conn, len(MIGRATIONS))
        except BaseException:
            conn.close()
            raise
        store = cls(conn, url, operator or default_operator(), readonly=readonly)  # type: ignore[arg-type]
        store.files_stem = pg.files_stem(url)
        if store.schema_version < len(MIGRATIONS):
            conn.close()
            # the migrations are SQLite steps: a receiver is made at the current version
            raise StoreError(
                f"PostgreSQL数据库由较旧的民政桌面创建（版本{store.schema_version}，本程序为"
                f"{len(MIGRATIONS)}），不能自动升级：请用 pg_dump 备份后，用本程序在新数据库上"
                f"重新 mzdesk init，再导入各乡镇的完整批次：{pg.safe_url(url)}",
                "pg_needs_upgrade",
            )
        try:
            with clear_errors(url):
                if readonly:
                    _require_current(store)
                else:
                    from .audit import attach, install

                    install(store)
                    store.migrate()
                    attach(store)
        except BaseException:
            conn.close()
            raise
        return store

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql`` (a receiver site, ``models/pg.py``)."""
        return getattr(self.conn, "dialect", "sqlite")

    def close(self) -> None:
        # a checkpoint still running keeps its own connection and ends on its own (the
        # interpreter waits for it at exit); waiting here would stall a GUI worker's end
        self.conn.close()

    def require_alone(self, doing: str) -> None:
        """Raise ``in_use`` when another connection (the window, another command) has the
        file open: replacing or rewriting the database under it would leave that program
        working on content it no longer matches, or writing into a file that was replaced.

        A WAL database can leave WAL mode only when no other connection is open, so the
        switch to DELETE and back is the test (it does not wait for the other program).
        """
        if self.path == ":memory:":
            return
        try:
            self.conn.execute("PRAGMA journal_mode = DELETE").fetchall()
        except sqlite3.OperationalError:
            raise StoreError(
                f"数据库正被其他程序打开（民政桌面窗口或另一条命令），无法{doing}；"
                f"请先关闭它再试: {self.path}",
                "in_use",
            ) from None
        self.conn.execute("PRAGMA journal_mode = WAL").fetchall()

    # -- large transactions ----------------------------------------------
    @contextlib.contextmanager
    def checkpoint_after(self) -> Iterator[None]:
        """For one large transaction: copy its WAL into the database file after it returns.

        In WAL mode a COMMIT appends to the ``-wal`` file; SQLite then copies those pages
        into the database (the automatic checkpoint) inside the same call: for a 500 MB sync
        import that is seconds of the user's wait.  Here the automatic checkpoint is off for
        the duration and one PASSIVE checkpoint runs afterwards on a thread with its own
        connection, while the caller goes on.  Nothing about durability changes: a committed
        transaction is in the WAL, which every connection reads and recovery replays.  A
        checkpoint that cannot finish (a reader on an older snapshot) leaves the rest to the
        next automatic one.  Joined to an outer transaction, that one's commit decides.
        """
        if self.path == ":memory:" or self.conn.in_transaction or self.dialect != "sqlite":
            yield
            return
        try:
            with self.pragma("wal_autocheckpoint", 0):
                yield
        finally:
            self._spawn(self._checkpoint)

    @contextlib.contextmanager
    def pragma(self, name: str, value: int) -> Iterator[None]:
        """``PRAGMA name = value`` for the duration, then back to what it was (a larger page
        cache for a bulk write, a synced commit for an export, ...)."""
        old = self.conn.execute(f"PRAGMA {name}").fetchone()[0]
        self.conn.execute(f"PRAGMA {name} = {int(value)}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA {name} = {int(old)}")

    def _checkpoint(self) -> None:
        try:
            conn = _connect(self.path, self.key)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                conn.close()
        except Exception:  # noqa: BLE001 - the WAL stays; the next checkpoint copies it
            pass

    def _spawn(self, fn) -> None:
        # not a daemon: a process that ends now waits for the copy (cheaper than redoing it)
        self.checkpointer = threading.Thread(target=fn, name="mzdesk-checkpoint")
        self.checkpointer.start()

    # -- schema ---------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> list[int]:
        """Apply every migration newer than the file; each in its own transaction."""
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StoreError(
                f"数据库版本({current})比本程序({len(MIGRATIONS)})新，请升级mzdesk",
                "schema_too_new",
            )
        applied = []
        for version in range(current + 1, len(MIGRATIONS) + 1):
            with self.transaction():
                MIGRATIONS[version - 1](self.conn)
                self.conn.execute(f"PRAGMA user_version = {version}")
            applied.append(version)
        return applied

    # -- transactions ---------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One user action = one transaction; nested calls join the outer one."""
        if self.readonly:
            raise StoreError(
                f"数据库以只读方式打开，不能修改：{self.path}（程序错误：此命令应以读写方式打开）",
                "read_only_store",
            )
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        with clear_errors(self.path):  # busy after BUSY_TIMEOUT_MS: "请稍后再试"
            self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            for hook in self.after_begin:
                hook(self)
            yield self.conn
            for hook in self.before_commit:
                hook(self)
        except BaseException as exc:
            self._depth = 0
            # SQLite has already rolled back after some errors (disk full, I/O error): a
            # second ROLLBACK would fail and hide the error that says what happened
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            clear = store_error(exc, self.path) if _mappable(exc) else None
            if clear is not None:
                raise clear from exc
            raise
        self._depth = 0
        try:
            self.conn.execute("COMMIT")
        except BaseException as exc:
            # a COMMIT that fails (disk full, I/O error, busy) may leave the transaction
            # open: roll it back, so that nothing of it lands later with another commit
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            clear = store_error(exc, self.path) if _mappable(exc) else None
            if clear is not None:
                raise clear from exc
            raise

    def stamp(self, new: bool) -> dict[str, str]:
        """created/updated columns for a row written now by this operator."""
        ts = now_iso()
        cols = {"updated_at": ts, "updated_by": self.operator}
        if new:
            cols.update(created_at=ts, created_by=self.operator)
        return cols

    # -- small query helpers -------------------------------------------
    @property
    def db(self) -> sqlite_utils.Database:
        """The sqlite-utils ``Database`` on this connection, imported on first use
        (about 0.1 s that the window's start-up does not need to pay)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def one(self, sql: str, params: tuple | dict = ()) -> dict | None:
        cur = self.conn.execute(sql, params)
        row = cur.fetchone()
        return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))

    def scalar(self, sql: str, params: tuple | dict = ()):
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def integrity_check(self) -> list[str]:
        rows = [r[0] for r in self.conn.execute("PRAGMA integrity_check")]
        fk = self.conn.execute("PRAGMA foreign_key_check").fetchall()
        problems = [] if rows == ["ok"] else rows
        problems += [f"foreign key: {r}" for r in fk]
        return problems
