"""Every file dialog of the app (文件对话框): one place.

Qt's own dialog (not the platform one) so the labels follow the installed
qtbase_zh_CN translator under Linux too; the first time a purpose is used the
dialog starts in the user's Documents folder, afterwards in the folder last
chosen for that purpose (remembered in QSettings, per purpose: "backup",
"export", "roster", ...).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

_OPTIONS = QFileDialog.Option.DontUseNativeDialog


def _settings() -> QSettings:
    return QSettings("mzdesk", "mzdesk")


def start_folder(purpose: str) -> str:
    """The folder last used for ``purpose``, else Documents (else home)."""
    last = _settings().value(f"file_dialogs/{purpose}", "", str)
    if last and Path(last).is_dir():
        return last
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return docs if docs and Path(docs).is_dir() else str(Path.home())


def remember(purpose: str, path: str) -> None:
    """Remember the folder of ``path`` (or ``path`` itself, a folder) for ``purpose``."""
    if not path:
        return
    p = Path(path)
    _settings().setValue(f"file_dialogs/{purpose}", str(p if p.is_dir() else p.parent))


def _start(purpose: str, name: str) -> str:
    return str(Path(start_folder(purpose)) / name) if name else start_folder(purpose)


def save_file(parent: QWidget | None, purpose: str, title: str, name: str, filt: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, _start(purpose, name), filt, "", _OPTIONS)
    remember(purpose, path)
    return path


def open_file(parent: QWidget | None, purpose: str, title: str, filt: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, start_folder(purpose), filt, "", _OPTIONS)
    remember(purpose, path)
    return path


def open_files(parent: QWidget | None, purpose: str, title: str, filt: str) -> list[str]:
    paths, _ = QFileDialog.getOpenFileNames(
        parent, title, start_folder(purpose), filt, "", _OPTIONS
    )
    if paths:
        remember(purpose, paths[0])
    return paths


def pick_folder(parent: QWidget | None, purpose: str, title: str) -> str:
    options = _OPTIONS | QFileDialog.Option.ShowDirsOnly
    path = QFileDialog.getExistingDirectory(parent, title, start_folder(purpose), options)
    remember(purpose, path)
    return path
