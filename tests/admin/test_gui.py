"""The admin widgets, driven with pytest-qt (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from mzdesk.models import auth
from mzdesk.models import backup as bk
from mzdesk.ui.audit_view import AuditView
from mzdesk.ui.backup_page import BackupPage
from mzdesk.ui.login_dialog import FirstAdminDialog, LoginDialog
from mzdesk.ui.operators_page import AddOperatorDialog, OperatorsPage
from tests.helpers import household, make_id

pytestmark = pytest.mark.gui


def test_first_admin_then_login_with_lockout_message(qtbot, store):
    first = FirstAdminDialog(store)
    qtbot.addWidget(first)
    first.password.setText("admin-pass-1")
    first.again.setText("admin-pass-2")
    assert not first.create() and "不一致" in first.message.text()
    first.again.setText("admin-pass-1")
    assert first.create() and store.operator == "admin"
    store.operator = "nobody"
    login = LoginDialog(store)
    qtbot.addWidget(login)
    login.name.setText("admin")
    login.password.setText("wrong-one")
    assert not login.try_login() and "还可尝试4次" in login.message.text()
    login.password.setText("admin-pass-1")
    assert login.try_login() and store.operator == "admin"


def test_operators_page_adds_resets_and_locks(qtbot, accounts, monkeypatch):
    page = OperatorsPage(accounts)
    qtbot.addWidget(page)
    assert page.table.rowCount() == 5
    dialog = AddOperatorDialog(page)
    dialog.name.setText("li")
    dialog.password.setText("li-pass-12")
    dialog.role.setCurrentIndex(list(auth.ROLES).index("field"))
    monkeypatch.setattr(dialog, "exec", lambda: QDialog.Accepted)
    assert page.add(dialog)
    assert auth.get_operator(accounts, "li").role == "field"
    page.table.selectRow([page.table.item(i, 0).text() for i in range(6)].index("li"))
    assert page.reset_password("li-new-pass")
    assert auth.authenticate(accounts, "li", "li-new-pass")
    assert page.set_locked(True) and auth.get_operator(accounts, "li").locked


def test_operators_page_shows_the_cores_refusal(qtbot, accounts, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    auth.login(accounts, "clerk", "clerk-pass-1")
    page = OperatorsPage(accounts)
    qtbot.addWidget(page)
    page.table.selectRow(0)
    assert not page.set_locked(True)
    assert shown and "无权" in shown[0]


def test_audit_view_filters_per_household_and_operator_and_verifies(qtbot, store, registry):
    a = registry.save(household("红旗村", ("张三", "户主", make_id())))
    store.operator = "clerk-li"
    registry.save(household("青山村", ("李四", "户主", make_id(seq=3))))
    view = AuditView(store, household_id=a.id)
    qtbot.addWidget(view)
    assert view.table.rowCount() == 2  # household + member inserted
    assert "341623********" in view.table.item(0, 6).text()
    view.household.setText("")
    view.operator.setCurrentIndex(view.operator.findData("clerk-li"))
    assert {view.table.item(i, 2).text() for i in range(view.table.rowCount())} == {"clerk-li"}
    assert view.verify().ok and "审计记录完整" in view.status.text()


def test_backup_page_backs_up_to_a_folder_and_restores(
    qtbot, store, registry, tmp_path, monkeypatch
):
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.Yes)
    h = registry.save(household("红旗村", ("张三", "户主", make_id())))
    page = BackupPage(store)
    qtbot.addWidget(page)
    info = page.backup_to_folder(str(tmp_path / "usb"))
    assert info and "校验通过" in page.status.text()
    registry.delete(h.id, "误删")
    assert page.restore_path(str(info.path)).households == 1
    assert store.scalar("SELECT status FROM households WHERE id = ?", (h.id,)) == "active"
    assert page.table.rowCount() == 1  # the pre-restore copy in the automatic folder
    assert bk.list_backups(bk.backup_dir(store))[0][1] == "pre-restore"


def test_backup_page_asks_before_restoring_a_backup_without_accounts(
    qtbot, store, registry, tmp_path, monkeypatch
):
    asked = []

    def question(parent, title, text, *a):
        asked.append(text)
        return QMessageBox.Yes if len(asked) == 1 else QMessageBox.No

    monkeypatch.setattr(QMessageBox, "question", question)
    registry.save(household("红旗村", ("张三", "户主", make_id())))
    page = BackupPage(store)
    qtbot.addWidget(page)
    early = page.backup_to_folder(str(tmp_path / "usb")).path
    auth.add_operator(store, "admin", "admin-pass-1", "admin")
    store.operator = "admin"
    assert page.restore_path(str(early)) is None  # said no to the second question
    assert "不再需要登录" in asked[1] and "--force" not in asked[1]
    assert not auth.setup_mode(store)


def test_operators_page_shows_the_last_login_whole(qtbot, accounts):
    auth.login(accounts, "admin", "admin-pass-1")
    page = OperatorsPage(accounts)
    qtbot.addWidget(page)
    page.resize(700, 400)
    page.show()
    row = [page.table.item(i, 0).text() for i in range(page.table.rowCount())].index("admin")
    assert page.table.item(row, 4).text()  # a date and time
    for col in range(page.table.columnCount()):
        assert page.table.columnWidth(col) >= page.table.sizeHintForColumn(col), col


def test_audit_view_names_every_table_in_chinese_and_clears_on_bad_input(qtbot, store, registry):
    from mzdesk.models import relatives
    from mzdesk.models.audit import AUDITED_TABLES
    from mzdesk.ui.audit_view import TABLE_LABELS

    assert set(AUDITED_TABLES) <= set(TABLE_LABELS)
    a = registry.save(household("红旗村", ("张三", "户主", make_id())))
    relatives.declare(store, "王主任", "cadre", "红旗村", "张三", make_id(), "parent")
    view = AuditView(store)
    qtbot.addWidget(view)
    objects = {view.table.item(i, 3).text() for i in range(view.table.rowCount())}
    assert "近亲属备案#1" in objects and not any("declared_relatives" in o for o in objects)
    view.household.setText(f"{a.id}x")
    view.refresh()
    assert view.table.rowCount() == 0 and f"{a.id}x" in view.status.text()


def test_idle_lock_hides_the_window_content_until_unlocked(qtbot, accounts, monkeypatch):
    """Locked after idling, the window must not go on showing people's names and IDs
    behind the login dialog; they come back once the operator logs in again."""
    from PySide6.QtWidgets import QLabel, QMainWindow

    from mzdesk.ui.login_dialog import IdleLock

    window = QMainWindow()
    content = QLabel("张三 341623********0012 13800000000")
    window.setCentralWidget(content)
    qtbot.addWidget(window)
    window.show()
    lock = IdleLock(accounts, window, minutes=10)
    seen = []

    def log_in_again(dialog):
        seen.append((content.isVisible(), window.isEnabled()))
        dialog.password.setText("admin-pass-1")
        return QDialog.Accepted if dialog.try_login() else QDialog.Rejected

    monkeypatch.setattr(LoginDialog, "exec", log_in_again)
    assert lock.lock()
    assert seen == [(False, False)]
    assert content.isVisible() and window.isEnabled() and not lock.locked
