"""Backups (备份) and restore (恢复) with SQLite's online backup API.

* :func:`backup_to` copies a consistent snapshot of an open database (other
  connections may keep writing), into ``<dest>.partial``, verifies it with
  ``PRAGMA integrity_check`` and only then renames it to ``dest``: a crash or a
  pulled USB stick never leaves a half-written file under the real name.
* :func:`auto_backup` writes ``mzdesk-<site>-<YYYYmmdd-HHMMSS>-<reason>.sqlite``
  into the backup folder (default: ``backups/`` beside the database) on exit
  and once a day (:func:`daily_backup_due`), and removes automatic backups
  older than ``keep_days`` (always keeping the newest :data:`KEEP_AT_LEAST`).
* :func:`restore` refuses a file that is not a healthy mzdesk database, one
  from a newer mzdesk, or one of another site unless ``force``; it first saves
  the current database as a ``pre-restore`` backup, then copies the backup
  into the live file with the same API.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .auth import require, setup_mode
from .errors import MzError

KEEP_DAYS = 30
KEEP_AT_LEAST = 3
_AUTO = re.compile(
    r"^mzdesk-(\d+)-(\d{8}-\d{6})-(exit|daily|manual|pre-restore|pre-upgrade)\.sqlite$"
)


class BackupError(MzError):
    code = "backup"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    site_code: str | None
    site_name: str | None
    schema_version: int
    households: int
    size: int
    operators: int = 0  # operator accounts in the backup (0: nobody needs to log in)


def backup_dir(store) -> Path:
    return backup_dir_of(store.path)


def backup_dir_of(db_path: str | Path) -> Path:
    """The automatic backups' folder of the database at ``db_path``."""
    return Path(db_path).resolve().parent / "backups"


def _connect_backup(path: Path, key: str | None):
    """A read connection on a backup file: plain, or encrypted with ``key``.

    With ``key`` (an encrypted store) the file is tried through SQLCipher first, the library
    the store's own connection uses: a probe through the standard library, closed again,
    would drop the store's locks if the clerk picked the live database itself (two SQLite
    libraries do not share their lock bookkeeping; docs/reliability.md)."""
    from . import cipher
    from .errors import StoreError

    # as_uri() percent-encodes the path: a folder named "备份#2" or "50%" is a file name,
    # not a URI fragment or an escape (which would open, and create, another file)
    read_only = Path(path).absolute().as_uri() + "?mode=ro"
    if key:
        try:
            return cipher.connect(str(path), key)
        except StoreError as exc:
            if exc.code == "wrong_key":
                raise BackupError(
                    f"备份的密码与本数据库不同，无法读取: {path}", "backup_wrong_key"
                ) from None
            if exc.code != "not_encrypted":
                raise
        return sqlite3.connect(read_only, uri=True)  # a plain backup (restore refuses it)
    if cipher.is_encrypted_file(path):
        raise BackupError(
            f"不是mzdesk数据库备份，或是加密的备份（需要用加密的数据库恢复）: {path}",
            "not_a_backup",
        )
    return sqlite3.connect(read_only, uri=True)


def _check_file(path: Path, key: str | None = None) -> BackupInfo:
    """Open ``path`` read-only and check it is a healthy mzdesk database
    (an encrypted one needs the database ``key``)."""
    conn = _connect_backup(path, key)
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise BackupError(f"备份文件已损坏: {path}: {'; '.join(result[:3])}", "backup_corrupt")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"site", "households"} <= tables:
            raise BackupError(f"不是mzdesk数据库备份: {path}", "not_a_backup")
        site = conn.execute("SELECT code, name FROM site WHERE id = 1").fetchone()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        count = conn.execute("SELECT count(*) FROM households WHERE status = 'active'").fetchone()[
            0
        ]
        accounts = (
            conn.execute("SELECT count(*) FROM operators").fetchone()[0]
            if "operators" in tables
            else 0
        )
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"无法读取备份 {path}: {exc}", "backup_corrupt") from None
    finally:
        conn.close()
    return BackupInfo(
        path,
        site[0] if site else None,
        site[1] if site else None,
        version,
        count,
        path.stat().st_size,
        accounts,
    )


def inspect_backup(path: str | Path, key: str | None = None) -> BackupInfo:
    """Check the backup at ``path`` (a file other than the open database: a check through
    the other SQLite library would drop this process's locks on it, docs/reliability.md)."""
    return _check_file(Path(path), key)


def backup_to(store, dest: str | Path, check_permission: bool = True) -> BackupInfo:
    """Write a verified copy of the open database to ``dest`` (a file path)."""
    if check_permission:
        require(store, "backup.create")
    dest = Path(dest)
    if dest.resolve() == Path(store.path).resolve():
        raise BackupError("备份文件不能是数据库本身", "backup_onto_itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    key = getattr(store, "key", None)
    if key:  # an encrypted store's backup is encrypted with the same key (models/cipher.py)
        from sqlcipher3 import dbapi2

        target = dbapi2.connect(str(partial), isolation_level=None)
        target.execute("PRAGMA key = " + "'" + key.replace("'", "''") + "'")
        source = store.conn.raw
        db_errors: tuple[type[Exception], ...] = (sqlite3.Error, dbapi2.Error)
    else:
        target = sqlite3.connect(partial)
        source = store.conn
        db_errors = (sqlite3.Error,)
    try:
        try:
            source.backup(target, pages=4096)
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            target.close()
        with open(partial, "rb+") as fh:
            os.fsync(fh.fileno())
        info = _check_file(partial, key)
        os.replace(partial, dest)
    except BaseException as exc:
        # a full USB stick, a pulled stick, a cancel: no half backup and no journal left behind
        for leftover in (partial, partial.with_name(partial.name + "-journal")):
            leftover.unlink(missing_ok=True)
        if isinstance(exc, BackupError):
            raise
        if isinstance(exc, db_errors):  # disk full, I/O error: name the file
            raise BackupError(f"未能写入备份 {dest}：{exc}", "backup_write_failed") from exc
        raise
    return BackupInfo(
        dest, info.site_code, info.site_name, info.schema_version, info.households, info.size
    )


def _site_code(store) -> str:
    return store.scalar("SELECT code FROM site WHERE id = 1") or "0"


def list_backups(folder: str | Path) -> list[tuple[dt.datetime, str, Path]]:
    """Automatic backups in ``folder``, newest first: (time, reason, path)."""
    out = []
    folder = Path(folder)
    if folder.is_dir():
        for p in folder.iterdir():
            m = _AUTO.match(p.name)
            if m:
                out.append((dt.datetime.strptime(m.group(2), "%Y%m%d-%H%M%S"), m.group(3), p))
    return sorted(out, reverse=True)


def auto_backup(
    store,
    reason: str = "exit",
    folder: str | Path | None = None,
    keep_days: int = KEEP_DAYS,
    now: dt.datetime | None = None,
) -> BackupInfo:
    """A timestamped, verified backup into the backup folder, then rotation.

    Automatic backups run for whoever is logged in (no permission needed).
    """
    now = now or dt.datetime.now()
    folder = Path(folder) if folder else backup_dir(store)
    name = f"mzdesk-{_site_code(store)}-{now:%Y%m%d-%H%M%S}-{reason}.sqlite"
    info = backup_to(store, folder / name, check_permission=False)
    rotate(folder, keep_days, now)
    return info


def rotate(
    folder: str | Path, keep_days: int = KEEP_DAYS, now: dt.datetime | None = None
) -> list[Path]:
    """Delete automatic backups older than ``keep_days``, keeping the newest few."""
    now = now or dt.datetime.now()
    removed = []
    for i, (when, _reason, path) in enumerate(list_backups(folder)):
        if i >= KEEP_AT_LEAST and now - when > dt.timedelta(days=keep_days):
            path.unlink()
            removed.append(path)
    return removed


def daily_backup_due(store, folder: str | Path | None = None, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    folder = Path(folder) if folder else backup_dir(store)
    return not any(when.date() == today for when, _r, _p in list_backups(folder))


def convert_backups(
    db_path: str | Path, source_key: str | None, dest_key: str | None
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Encrypt (``dest_key``) or decrypt (``source_key``) the automatic backups of the
    database at ``db_path`` as the database itself was: after ``mzdesk encrypt`` a plain
    backup beside it would give away what the passphrase protects, and after ``decrypt``
    an encrypted one could no longer be restored.  Each file goes through ``.partial``
    and ``integrity_check`` (models/cipher.py); one that fails stays as it was.

    Returns (converted, [(failed, why)]).
    """
    from . import cipher

    done: list[Path] = []
    failed: list[tuple[Path, str]] = []
    for _when, _reason, path in list_backups(backup_dir_of(db_path)):
        if cipher.is_encrypted_file(path) == bool(dest_key):
            continue  # already as wanted
        try:
            cipher.convert_file(path, source_key, dest_key)
        except (MzError, sqlite3.Error, OSError) as exc:
            failed.append((path, " ".join(str(exc).split())))
        else:
            done.append(path)
    return done, failed


FORCE_HINT = "；确认无误请加 --force"
CONFIRMABLE = ("other_site", "no_accounts")  # refusals the operator may override (--force)


def restore(store, source: str | Path, force: bool = False) -> BackupInfo:
    """Replace the open database's content by the backup at ``source``."""
    require(store, "backup.restore")
    source = Path(source)
    if not source.exists():
        raise BackupError(f"备份文件不存在: {source}", "no_backup")
    if store.path != ":memory:" and source.samefile(store.path):
        # checking it would open and close a second handle on the live file: that drops
        # this process's locks (docs/reliability.md), besides restoring nothing
        raise BackupError("不能用数据库本身作为备份来恢复", "backup_onto_itself")
    key = getattr(store, "key", None)
    info = _check_file(source, key)
    from . import cipher

    if key and not cipher.is_encrypted_file(source):
        raise BackupError(
            "本数据库已加密，不能从未加密的备份恢复（以免密码保护失效）；"
            "请先用 mzdesk decrypt 解密本数据库，或用 mzdesk encrypt 加密备份",
            "backup_not_encrypted",
        )
    from .migrations import MIGRATIONS

    if info.schema_version > len(MIGRATIONS):
        raise BackupError(
            f"备份来自更新版本的mzdesk(版本{info.schema_version})，请先升级", "backup_too_new"
        )
    mine = store.scalar("SELECT code FROM site WHERE id = 1")
    problems = []  # (code, what): each needs the operator's explicit yes (--force)
    if mine and info.site_code != mine:
        problems.append(
            ("other_site", f"备份属于站点 {info.site_code} {info.site_name}，不是本站 {mine}")
        )
    if info.operators == 0 and not setup_mode(store):
        # a backup made before the first account existed: restored, nobody would have to log in
        problems.append(
            (
                "no_accounts",
                "备份中没有操作员账号：恢复后打开本程序不再需要登录，"
                "恢复后请立即用 mzdesk operators add 设置管理员账号",
            )
        )
    if problems and not force:
        raise BackupError("；".join(what for _code, what in problems) + FORCE_HINT, problems[0][0])
    store.require_alone("恢复备份")
    auto_backup(store, "pre-restore")
    src = _connect_backup(source, key)
    try:
        if key:
            src.raw.backup(store.conn.raw)
        else:
            src.backup(store.conn)
    finally:
        src.close()
    store.migrate()
    from . import audit

    if audit.triggers_stale(store.conn):
        with store.transaction():
            audit.refresh_triggers(store.conn)
    return info
