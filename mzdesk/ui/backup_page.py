"""Backup page (备份与恢复): automatic backups, back up to a folder or USB stick, restore.

The lead's main window should also call :func:`backup_on_exit` when it closes
and :func:`daily_backup_if_due` after login (both are core calls, no dialogs).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import backup as bk
from ..models.errors import MzError
from ..models.store import Store
from . import file_dialogs, ops

REASONS = {
    "exit": "退出时",
    "daily": "每日",
    "manual": "手动",
    "pre-restore": "恢复前",
    "pre-upgrade": "升级前",
}


def backup_on_exit(store: Store) -> bk.BackupInfo:
    return bk.auto_backup(store, "exit")


def daily_backup_if_due(store: Store) -> bk.BackupInfo | None:
    return bk.auto_backup(store, "daily") if bk.daily_backup_due(store) else None


class BackupPage(QWidget):
    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.folder = QLabel(f"自动备份目录：{bk.backup_dir(store)}（保留{bk.KEEP_DAYS}天）")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["时间", "类型", "文件"])
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for text, slot in (
            ("立即备份到…", self.backup_to_folder),
            ("从选中的备份恢复", self.restore_selected),
            ("从文件恢复…", self.restore_file),
        ):
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, s=slot: s())
            buttons.addWidget(b)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.folder)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.refresh()

    def refresh(self) -> None:
        rows = bk.list_backups(bk.backup_dir(self.store))
        self.table.setRowCount(len(rows))
        for i, (when, reason, path) in enumerate(rows):
            for j, t in enumerate(
                (f"{when:%Y-%m-%d %H:%M:%S}", REASONS.get(reason, reason), str(path))
            ):
                self.table.setItem(i, j, QTableWidgetItem(t))

    def backup_to_folder(self, folder: str | None = None) -> bk.BackupInfo | None:
        folder = folder or file_dialogs.pick_folder(self, "backup", "选择备份目录（可选U盘）")
        if not folder:
            return None
        done = ops.run(
            self,
            lambda: bk.auto_backup(self.store, "manual", folder, keep_days=10_000),
            title="备份",
        )
        if not done:
            return None
        info = done.value
        self.status.setText(f"已备份到 {info.path}（{info.households} 户，校验通过）")
        self.refresh()
        return info

    def restore_selected(self) -> bk.BackupInfo | None:
        row = self.table.currentRow()
        return self.restore_path(self.table.item(row, 2).text()) if row >= 0 else None

    def restore_file(self) -> bk.BackupInfo | None:
        path = file_dialogs.open_file(self, "backup", "选择备份文件", "mzdesk 备份 (*.sqlite)")
        return self.restore_path(path) if path else None

    def restore_path(self, path: str) -> bk.BackupInfo | None:
        inspected = ops.run(self, lambda: bk.inspect_backup(path, self.store.key), title="恢复")
        if not inspected:
            return None
        info = inspected.value
        question = (
            f"用备份 {Path(path).name}（{info.site_code} {info.site_name}，{info.households} 户）"
            "替换当前数据库？当前数据会先另存为“恢复前”备份。"
        )
        if QMessageBox.question(self, "恢复", question) != QMessageBox.Yes:
            return None
        done = ops.run(
            self, lambda: bk.restore(self.store, path), title="恢复", on_error=self._unconfirmable
        )
        if not done:
            if done.error.code not in bk.CONFIRMABLE:
                return None
            what = done.error.message.removesuffix(bk.FORCE_HINT).replace("；", "。\n")
            if QMessageBox.question(self, "恢复", what + "。\n仍要恢复吗？") != QMessageBox.Yes:
                return None
            done = ops.run(self, lambda: bk.restore(self.store, path, force=True), title="恢复")
            if not done:
                return None
        result = done.value
        self.status.setText(f"已恢复：{result.households} 户。请重新打开各窗口。")
        self.refresh()
        return result

    def _unconfirmable(self, exc: MzError) -> None:
        """A refusal the clerk may override is asked about instead of shown (restore_path)."""
        if exc.code not in bk.CONFIRMABLE:
            ops.show_error(self, "恢复", exc)
