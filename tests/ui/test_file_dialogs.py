"""One helper for every file dialog: Qt's own (translated) dialog, Documents first, last folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog

from mzdesk.ui import file_dialogs


def test_start_in_documents_then_remember_the_folder_per_purpose(qapp, tmp_path, monkeypatch):
    QStandardPaths.setTestModeEnabled(True)
    QSettings("mzdesk", "mzdesk").remove("file_dialogs")
    try:
        docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        Path(docs).mkdir(parents=True, exist_ok=True)
        seen = []
        target = tmp_path / "备份盘" / "x.sqlite"
        target.parent.mkdir()

        def fake(parent, title, start, filt, selected, options):
            seen.append((start, options))
            return str(target), ""

        monkeypatch.setattr(QFileDialog, "getOpenFileName", fake)
        assert file_dialogs.open_file(None, "backup", "选择备份文件", "*.sqlite") == str(target)
        assert seen[0][0] == docs
        assert seen[0][1] & QFileDialog.Option.DontUseNativeDialog  # translated labels
        file_dialogs.open_file(None, "backup", "选择备份文件", "*.sqlite")
        assert seen[1][0] == str(target.parent)  # remembered for this purpose
        assert file_dialogs.start_folder("roster") == docs  # not for another one
    finally:
        QSettings("mzdesk", "mzdesk").remove("file_dialogs")
        QStandardPaths.setTestModeEnabled(False)


def test_no_file_dialog_bypasses_the_helper():
    ui = Path(file_dialogs.__file__).parent
    for path in ui.glob("*.py"):
        if path.name != "file_dialogs.py":
            assert "QFileDialog." not in path.read_text(encoding="utf-8"), path.name
