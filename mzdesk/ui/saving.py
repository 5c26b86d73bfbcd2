"""Saving a file the clerk chose: the one place a failed save is explained.

Writers raise ``OSError`` (a folder that does not exist, a read-only USB stick,
a full disk) or :class:`MzError`; handlers that save on the GUI thread call
:func:`save_reporting`, and the worker uses :func:`failure_reason` for jobs in a
thread, so the clerk always sees what failed and where, in Chinese.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtWidgets import QMessageBox, QWidget

from ..models.errors import MzError
from ..models.files import os_reason
from . import file_dialogs
from .ops import show_error

T = TypeVar("T")


def failure_reason(exc: BaseException) -> str:
    """Why a save failed, for the clerk: ``文件夹不存在`` rather than ``[Errno 2] ...``."""
    if isinstance(exc, MzError):
        return str(exc)
    if isinstance(exc, OSError):
        return os_reason(exc)
    return f"{type(exc).__name__}: {exc}"


def with_suffix(path: str, suffix: str) -> str:
    """``with_suffix('/tmp/统计', '.xlsx')`` → ``'/tmp/统计.xlsx'``; ``a.XLSX`` is kept."""
    return path if path.lower().endswith(suffix.lower()) else path + suffix


def ask_save_path(parent: QWidget | None, title: str, name: str, suffix: str, kind: str) -> str:
    """A save dialog for one file type; the name gets ``suffix`` if typed without it.

    ``kind`` is the filter label (``"PDF"``, ``"Excel"``); empty string when cancelled.
    """
    path = file_dialogs.save_file(parent, "export", title, name, f"{kind} (*{suffix})")
    return with_suffix(path, suffix) if path else ""


def save_reporting(
    parent: QWidget | None, what: str, path: str, write: Callable[[], T]
) -> T | None:
    """``write()``; if it fails, tell the clerk what was not saved, where, and why; None."""
    try:
        return write()
    except (OSError, MzError) as exc:
        show_error(
            parent, "保存失败", f"{what}没有保存。\n\n位置：{path}\n原因：{failure_reason(exc)}"
        )
        return None


def ask_to_save(parent: QWidget, title: str, text: str) -> QMessageBox.StandardButton:
    """Save / Discard / Cancel for unsaved work (Save the default): the one question every
    editing dialog asks before it closes."""
    return QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Save,
    )


class AsksBeforeClosing:
    """Mixed into a QDialog with ``is_dirty()`` and ``save() -> bool``: 关闭, Esc and the
    window's close button never drop typed work silently.  Save that fails keeps the dialog
    open (its problems are shown beside the fields)."""

    unsaved_title = "未保存的修改"
    unsaved_text = "有未保存的修改。保存吗？"

    def reject(self) -> None:
        if self.is_dirty():
            answer = ask_to_save(self, self.unsaved_title, self.unsaved_text)
            if answer == QMessageBox.StandardButton.Cancel:
                return
            if answer == QMessageBox.StandardButton.Save and not self.save():
                return
        super().reject()

    def closeEvent(self, event) -> None:  # the window's close button goes through reject()
        if self.isVisible() and self.is_dirty():
            event.ignore()
            self.reject()
        else:
            super().closeEvent(event)
