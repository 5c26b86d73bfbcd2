"""Operators page (操作员管理, admin): accounts, roles, lock/unlock, password reset.

Every button calls ``models.auth``; the permission check happens there, so a
non-admin who reaches this page gets the core's refusal, shown once.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import auth
from ..models.store import Store
from . import ops


class AddOperatorDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("添加操作员")
        self.name, self.display, self.password = QLineEdit(), QLineEdit(), QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.role = QComboBox()
        for code, label in auth.ROLES.items():
            self.role.addItem(label, code)
        self.role.setCurrentIndex(list(auth.ROLES).index("clerk"))
        form = QFormLayout(self)
        form.addRow("账号", self.name)
        form.addRow("姓名", self.display)
        form.addRow("角色", self.role)
        form.addRow("初始密码", self.password)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class OperatorsPage(QWidget):
    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["账号", "姓名", "角色", "状态", "最近登录"])
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QHBoxLayout()
        for text, slot in (
            ("添加…", self.add),
            ("重置密码…", self.reset_password),
            ("锁定", lambda: self.set_locked(True)),
            ("解锁", lambda: self.set_locked(False)),
        ):
            b = QPushButton(text)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        ops = auth.list_operators(self.store)
        self.table.setRowCount(len(ops))
        for i, o in enumerate(ops):
            cells = (
                o.name,
                o.display_name,
                o.role_label,
                "已锁定" if o.locked else "正常",
                o.last_login_at or "",
            )
            for j, text in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()  # 最近登录 is a full date and time

    def selected(self) -> str | None:
        row = self.table.currentRow()
        return self.table.item(row, 0).text() if row >= 0 else None

    def _run(self, fn, *args) -> bool:
        return bool(ops.run(self, lambda: fn(*args), lambda _: self.refresh(), title="操作员管理"))

    def add(self, dialog: AddOperatorDialog | None = None) -> bool:
        dialog = dialog or AddOperatorDialog(self)
        if dialog.exec() != QDialog.Accepted:
            return False
        return self._run(
            auth.add_operator,
            self.store,
            dialog.name.text(),
            dialog.password.text(),
            dialog.role.currentData(),
            dialog.display.text(),
        )

    def reset_password(self, password: str | None = None) -> bool:
        name = self.selected()
        if not name:
            return False
        if password is None:
            password, ok = QInputDialog.getText(
                self, "重置密码", f"{name} 的新密码", QLineEdit.Password
            )
            if not ok:
                return False
        return self._run(auth.set_password, self.store, name, password)

    def set_locked(self, locked: bool) -> bool:
        name = self.selected()
        return bool(name) and self._run(auth.set_locked, self.store, name, locked, "管理员锁定")
