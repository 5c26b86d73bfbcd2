"""Ask for the database passphrase of an encrypted database (before the operator login).

``open_encrypted(path, parent)`` asks with a password field until the key opens
the file (at most :data:`ATTEMPTS` tries) and returns the open :class:`Store`,
or None when the user cancels.  ``$MZDESK_DB_KEY`` is tried first when set.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget

from ..models.cipher import ENV_KEY
from ..models.errors import StoreError
from ..models.store import Store
from . import ops

ATTEMPTS = 5


def ask_passphrase(parent: QWidget | None, path: Path, retry: bool) -> str | None:
    label = "密码错误，请重新输入数据库密码：" if retry else "此数据库已加密，请输入数据库密码："
    text, ok = QInputDialog.getText(
        parent, f"数据库密码 - {path.name}", label, QLineEdit.EchoMode.Password
    )
    return text if ok else None


def open_encrypted(
    path: Path,
    parent: QWidget | None = None,
    ask: Callable[[QWidget | None, Path, bool], str | None] = ask_passphrase,
) -> Store | None:
    """Open the encrypted database at ``path``; None if the user gives up."""
    env = os.environ.get(ENV_KEY)
    if env:
        try:
            return Store.open(path, create=False, key=env)
        except StoreError as exc:
            if exc.code != "wrong_key":
                raise
    for attempt in range(ATTEMPTS):
        key = ask(parent, path, attempt > 0)
        if not key:
            return None
        try:
            return Store.open(path, create=False, key=key)
        except StoreError as exc:
            if exc.code != "wrong_key":
                raise
    ops.show_error(parent, "数据库密码", "密码错误次数过多，程序将退出。")
    return None
