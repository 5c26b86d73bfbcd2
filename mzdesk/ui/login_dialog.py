"""Login (登录), first-admin setup and the idle lock (闲置锁定).

* :class:`LoginDialog` — account + password; on success the store acts as that
  operator (``auth.login``).  Wrong passwords count towards the lockout.
* :class:`FirstAdminDialog` — setup mode only: create the first admin account.
* :class:`IdleLock` — after ``minutes`` without keyboard or mouse input, hide
  the window's content behind a :class:`LoginDialog` fixed to the same
  operator (an admin may log in instead).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ..models import auth
from ..models.errors import MzError
from ..models.store import Store
from . import ops

ERROR_STYLE = "color: #b00020;"


class LoginDialog(QDialog):
    def __init__(
        self, store: Store, parent: QWidget | None = None, fixed_operator: str | None = None
    ):
        super().__init__(parent)
        self.store = store
        self.operator: auth.Operator | None = None
        self.setWindowTitle("登录 — 民政桌面" if not fixed_operator else "已锁定 — 请重新登录")
        self.name = QLineEdit(fixed_operator or "")
        self.name.setObjectName("name")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.Password)
        self.message = QLabel()
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("账号", self.name)
        form.addRow("密码", self.password)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("登录")
        buttons.button(QDialogButtonBox.Cancel).setText("退出")
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        (self.password if fixed_operator else self.name).setFocus()

    def try_login(self) -> bool:
        done = ops.run(
            self,
            lambda: auth.login(self.store, self.name.text(), self.password.text()),
            on_error=self._refused,
        )
        if not done:
            return False
        self.operator = done.value
        self.accept()
        return True

    def _refused(self, exc: MzError) -> None:
        self.message.setText(exc.message)
        self.password.clear()


class FirstAdminDialog(QDialog):
    """First start: create the administrator account (ends setup mode)."""

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("创建管理员账号")
        self.name = QLineEdit("admin")
        self.display = QLineEdit()
        self.password = QLineEdit()
        self.again = QLineEdit()
        for w in (self.password, self.again):
            w.setEchoMode(QLineEdit.Password)
        self.message = QLabel()
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("账号", self.name)
        form.addRow("姓名", self.display)
        form.addRow(f"密码（至少{auth.MIN_PASSWORD}位）", self.password)
        form.addRow("再输一次", self.again)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("创建并登录")
        buttons.accepted.connect(self.create)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel("本数据库还没有操作员账号。请创建管理员账号，之后每次启动都需要登录。")
        )
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def create(self) -> bool:
        if self.password.text() != self.again.text():
            self.message.setText("两次输入的密码不一致")
            return False
        if not ops.run(
            self, self._add_and_login, on_error=lambda e: self.message.setText(e.message)
        ):
            return False
        self.accept()
        return True

    def _add_and_login(self) -> None:
        name, password = self.name.text(), self.password.text()
        auth.add_operator(self.store, name, password, "admin", self.display.text())
        auth.login(self.store, name, password)


def login_at_start(store: Store, parent: QWidget | None = None) -> bool:
    """What the app calls before showing the main window: False means quit."""
    dialog = (
        FirstAdminDialog(store, parent) if auth.setup_mode(store) else LoginDialog(store, parent)
    )
    return dialog.exec() == QDialog.Accepted


class IdleLock(QObject):
    """Lock ``window`` after ``minutes`` idle; install once: ``IdleLock(store, window)``."""

    def __init__(self, store: Store, window: QWidget, minutes: int = 10):
        super().__init__(window)
        self.store = store
        self.window = window
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(minutes * 60 * 1000)
        self.timer.timeout.connect(self.lock)
        self.locked = False
        QApplication.instance().installEventFilter(self)
        self.timer.start()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        if event.type() in (
            QEvent.KeyPress,
            QEvent.MouseButtonPress,
            QEvent.MouseMove,
            QEvent.Wheel,
        ):
            if not self.locked:
                self.timer.start()
        return False

    def lock(self) -> bool:
        """Show the lock dialog; returns whether the operator unlocked (else the app quits)."""
        if auth.setup_mode(self.store) or self.locked:
            return True
        self.locked = True
        self.window.setEnabled(False)
        # the names, phone numbers and IDs on screen go out of sight, not just out of reach
        content = getattr(self.window, "centralWidget", lambda: None)()
        if content is not None:
            content.setVisible(False)
        dialog = LoginDialog(self.store, self.window, fixed_operator=self.store.operator)
        self.dialog = dialog
        try:
            ok = dialog.exec() == QDialog.Accepted
        finally:
            self.locked = False
            if content is not None:
                content.setVisible(True)
            self.window.setEnabled(True)
        if not ok:
            QApplication.instance().quit()
        self.timer.start()
        return ok
