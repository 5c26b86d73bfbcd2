"""``mzdesk selftest``: prove an installation (or a frozen build) works end to end.

Database (create, site, demo, audit chain, backup), a PDF with the shipped CJK
font embedded, an xlsx round trip that keeps ID numbers as text, and an age
(X25519) encryption round trip with pyrage.  Headless: no Qt.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    name: str
    status: str  # ok | fail | skip
    detail: str


def _database(tmp: Path) -> str:
    from .models.audit import verify
    from .models.backup import backup_to, inspect_backup
    from .models.demo import generate_demo
    from .models.site import init_site
    from .models.store import Store

    store = Store.open(tmp / "selftest.sqlite", operator="selftest")
    init_site(store, "341623101", "自检镇")
    ids = generate_demo(store, 50, seed=7)
    problems = store.integrity_check()
    if problems:
        raise AssertionError(f"integrity_check: {problems[:3]}")
    chain = verify(store.conn)
    if not chain.ok:
        raise AssertionError(chain.message())
    info = backup_to(store, tmp / "backup.sqlite")
    if inspect_backup(info.path).households != len(ids):
        raise AssertionError("backup lost households")
    store.close()
    return f"{len(ids)} 户演示数据，审计链 {chain.checked} 条，备份校验通过 (SQLite {_sqlite_version()})"


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def _pdf(tmp: Path) -> str:
    from .reports import fonts

    out = tmp / "selftest.pdf"
    c = fonts.new_canvas(out, title="自检")
    c.drawString(72, 760, "民政桌面自检：青山镇农村最低生活保障")
    c.showPage()
    c.save()
    data = out.read_bytes()
    if not data.startswith(b"%PDF") or b"/FontFile2" not in data:
        raise AssertionError("the CJK font is not embedded")
    if b"Helvetica" in data:
        raise AssertionError("an unembedded Helvetica is listed")
    return f"{fonts.CJK_FONT} 已嵌入 ({len(data) // 1024} KB)"


def _xlsx(tmp: Path) -> str:
    from openpyxl import Workbook, load_workbook

    out = tmp / "selftest.xlsx"
    wb = Workbook()
    ws = wb.active
    rows = [("姓名", "身份证号", "金额"), ("张三丰", "34162319800101001X", "760.00")]
    for r in rows:
        ws.append(r)
    ws["B2"].number_format = "@"
    wb.save(out)
    back = [tuple(c.value for c in row) for row in load_workbook(out).active.iter_rows()]
    if back != rows:
        raise AssertionError(f"round trip changed the cells: {back}")
    return "中文与身份证号(文本)往返一致"


def _age() -> str:
    import pyrage

    ident = pyrage.x25519.Identity.generate()
    plain = "身份证号 34162319800101001X".encode() * 100
    cipher = pyrage.encrypt(plain, [ident.to_public()])
    if plain[:20] in cipher or pyrage.decrypt(cipher, [ident]) != plain:
        raise AssertionError("age round trip failed")
    return f"X25519 加密/解密一致 ({len(cipher)} 字节)"


def _encrypted(tmp: Path) -> str:
    """SQLCipher (docs/at-rest.md): the file hides names and ID numbers; wrong key refused."""
    from .models import cipher
    from .models.backup import backup_to
    from .models.errors import StoreError
    from .models.household import Household, Member
    from .models.registry import Registry
    from .models.site import init_site
    from .models.store import Store

    path, name, id_number = tmp / "encrypted.sqlite", "张三丰", "34162319800101001X"
    store = Store.open(path, operator="selftest", key="自检-passphrase")
    init_site(store, "341623101", "自检镇")
    Registry(store).save(
        Household(
            village="红旗村", members=[Member(name=name, relation="户主", id_number=id_number)]
        )
    )
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    backup = backup_to(store, tmp / "encrypted-backup.sqlite", check_permission=False).path
    store.close()
    for f in (path, backup):
        data = f.read_bytes()
        if not cipher.is_encrypted_file(f) or name.encode() in data or id_number.encode() in data:
            raise AssertionError(f"{f.name} is readable without the passphrase")
    try:
        Store.open(path, key="wrong").close()
    except StoreError:
        pass
    else:
        raise AssertionError("a wrong passphrase opened the database")
    version = cipher.cipher_version()
    return f"SQLCipher {version}: 文件与备份中无姓名/身份证号，错误密码被拒绝"


def _existing(db_path: str) -> str:
    from .models.audit import verify
    from .models.cipher import ENV_KEY, is_encrypted_file
    from .models.store import Store

    key = os.environ.get(ENV_KEY) if is_encrypted_file(db_path) else None
    store = Store.open(db_path, create=False, key=key, readonly=True)  # checks, writes nothing
    try:
        problems = store.integrity_check()
        if problems:
            raise AssertionError(f"integrity_check: {problems[:3]}")
        chain = verify(store.conn)
        if not chain.ok:
            raise AssertionError(chain.message())
        n = store.scalar("SELECT count(*) FROM households WHERE status = 'active'")
        return f"{db_path}: {n} 户，完整性正常，审计链 {chain.checked} 条"
    finally:
        store.close()


def run_selftest(keep: bool = False, db_path: str | None = None) -> list[Result]:
    tmp = Path(tempfile.mkdtemp(prefix="mzdesk-selftest-"))
    checks = [
        ("数据库", lambda: _database(tmp)),
        ("PDF", lambda: _pdf(tmp)),
        ("xlsx", lambda: _xlsx(tmp)),
        ("加密", _age),
        ("加密数据库", lambda: _encrypted(tmp)),
    ]
    if db_path:
        checks.append(("本机数据库", lambda: _existing(db_path)))
    results = []
    try:
        for name, fn in checks:
            try:
                results.append(Result(name, "ok", fn()))
            except ModuleNotFoundError as exc:
                results.append(Result(name, "fail", f"缺少模块 {exc.name}"))
            except Exception as exc:  # noqa: BLE001 - a self-test reports every failure, never stops
                last = traceback.extract_tb(exc.__traceback__)[-1]
                results.append(
                    Result(
                        name, "fail", f"{type(exc).__name__}: {exc} ({last.filename}:{last.lineno})"
                    )
                )
    finally:
        if keep:
            results.append(Result("临时目录", "ok", str(tmp)))
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return results
