"""Every dialog fits the screens township offices have: 1366×768 with a taskbar (1366×728
available) and 1280×720.  Its frame (with a title bar) is inside the available area, and
its OK/Save buttons are on screen, not scrolled away.

The list of dialogs is checked against every ``QDialog`` subclass in ``mzdesk.ui``: a new
dialog without an entry here fails ``test_every_dialog_has_a_fit_check``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
)

import mzdesk.ui
from mzdesk.models import enrolment as enr
from mzdesk.ui.screen_fit import TITLE_BAR
from tests.helpers import household, make_id

pytestmark = pytest.mark.gui

SCREENS = [QRect(0, 0, 1366, 728), QRect(0, 0, 1280, 720)]


def all_dialog_classes() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(mzdesk.ui.__path__):
        mod = importlib.import_module(f"mzdesk.ui.{info.name}")
        for name, cls in inspect.getmembers(mod, inspect.isclass):
            if cls.__module__ == mod.__name__ and issubclass(cls, QDialog):
                found.add(f"{info.name}.{name}")
    return found


@pytest.fixture
def family(registry):
    h = household(
        "红旗村",
        ("张三丰", "户主", make_id("19500101", 1)),
        ("李四妹", "配偶", make_id("19520202", 2)),
        ("张小宝", "孙子女", make_id("20150303", 3)),
        village_group="一组",
    )
    return registry.save(h, today=dt.date(2026, 11, 23))


def _household(store, family):
    from mzdesk.ui.household_dialog import HouseholdDialog

    return HouseholdDialog(store, family.id)


def _household_with_tabs(store, family):
    from mzdesk.ui.main_window import MainWindow

    win = MainWindow(store)
    _household_with_tabs.window = win  # kept alive for the dialog's life
    return win.edit_household(family.id)


def _enrolment(store, family):
    return enr.create(store, family.id, "rural_dibao", cls="二类", monthly_fen=50000)


def _income(store, family):
    from mzdesk.ui.income_panel import IncomeDialog

    return IncomeDialog(store, _enrolment(store, family))


def _visit(store, family):
    from mzdesk.ui.visit_dialog import VisitDialog

    return VisitDialog(store, family.id, today=dt.date(2026, 11, 23))


def _booklet(store, family):
    from mzdesk.ui.booklet_dialog import BookletDialog

    return BookletDialog(store, family.id, today=dt.date(2026, 11, 23))


def _village_print(store, family):
    from mzdesk.ui.visits_panel import VillagePrintDialog

    return VillagePrintDialog(store)


def _login(store, family):
    from mzdesk.ui.login_dialog import LoginDialog

    return LoginDialog(store)


def _first_admin(store, family):
    from mzdesk.ui.login_dialog import FirstAdminDialog

    return FirstAdminDialog(store)


def _add_operator(store, family):
    from mzdesk.ui.operators_page import AddOperatorDialog

    return AddOperatorDialog()


def _import(store, family):
    from mzdesk.ui.import_dialog import ImportDialog

    return ImportDialog(store)


def _payment_export(store, family):
    from mzdesk.ui.payment_export import PaymentExportDialog

    return PaymentExportDialog(store)


def _panel(store, family, state: str):
    from mzdesk.ui.enrolment_panel import EnrolmentPanel

    e = _enrolment(store, family)
    if state != "applied":
        enr.start_investigation(store, e.id)
    if state == "surveyed":
        enr.record_investigation(store, e.id, ["刘干事", "陈干事"], "核对通过")
    panel = EnrolmentPanel(store, family.id)
    _panel.kept = panel  # the dialog's parent lives as long as the dialog
    return panel


def _apply(store, family):
    return _panel(store, family, "applied")._apply_clicked()


def _survey(store, family):
    return _panel(store, family, "investigating")._survey_clicked()


def _deliberate(store, family):
    return _panel(store, family, "surveyed")._deliberate_clicked()


def _reject(store, family):
    return _panel(store, family, "applied")._reason_then("reject", "不予确认理由")


def _review(store, family):
    return _panel(store, family, "applied")._review_clicked()


def _cases_page(store, family):
    from mzdesk.models import cases
    from mzdesk.ui.cases_page import CasesPage

    cases.add(store, family.id, "medical", applied_on=dt.date(2026, 11, 2), amount_fen=50000)
    page = CasesPage(store)
    _cases_page.kept = page  # the dialog's parent lives as long as the dialog
    page.table.selectRow(0)
    return page


def _case_add(store, family):
    return _cases_page(store, family).add_clicked()


def _case_pay(store, family):
    return _cases_page(store, family).pay_clicked()


def _objections(store, family):
    """The objections of a published notice (ui/objections.py), one already recorded."""
    from mzdesk.models import notice as nt
    from mzdesk.ui.objections import ObjectionsDialog

    e = _enrolment(store, family)
    enr.start_investigation(store, e.id)
    enr.record_investigation(store, e.id, ["刘干事", "陈干事"], "核对通过")
    if enr.needs_deliberation(e.category):
        enr.deliberate(store, e.id, 12, "同意")
    nid = nt.create_notice(store, nt.NoticeSpec(start=dt.date.today(), hotline="0558-8123456"))
    nt.add_objection(store, nid, e.id, "村民赵某", "该户有车" * 20)
    return ObjectionsDialog(store, nid)


def _resolve_objection(store, family):
    dlg = _objections(store, family)
    _resolve_objection.kept = dlg
    dlg.obj_table.selectRow(0)
    return dlg.resolve()


def _local_category(store, family):
    from mzdesk.ui.local_categories import LocalCategoriesPage

    page = LocalCategoriesPage(store)
    _local_category.kept = page
    return page.open_editor()


def _deregister(store, family):
    from mzdesk.models.registry import Registry
    from mzdesk.ui.deregister import deregister_dialog

    return deregister_dialog(None, Registry(store), Registry(store).get(family.id))


# "module.Class" -> a factory(store, family) making one open dialog of that class
DIALOGS: dict[str, list[Callable]] = {
    "household_dialog.HouseholdDialog": [_household, _household_with_tabs],
    "income_panel.IncomeDialog": [_income],
    "visit_dialog.VisitDialog": [_visit],
    "booklet_dialog.BookletDialog": [_booklet],
    "visits_panel.VillagePrintDialog": [_village_print],
    "login_dialog.LoginDialog": [_login],
    "login_dialog.FirstAdminDialog": [_first_admin],
    "operators_page.AddOperatorDialog": [_add_operator],
    "import_dialog.ImportDialog": [_import],
    "payment_export.PaymentExportDialog": [_payment_export],
    "fields_dialog.FieldsDialog": [
        _apply,
        _survey,
        _deliberate,
        _review,
        _reject,
        _case_add,
        _case_pay,
        _resolve_objection,
        _local_category,
        _deregister,
    ],
    "objections.ObjectionsDialog": [_objections],
}


def test_every_dialog_has_a_fit_check():
    assert all_dialog_classes() == set(DIALOGS)


def accept_buttons(dlg: QDialog) -> list[QAbstractButton]:
    """The buttons that finish the dialog: its default, and the box's accept/apply ones."""
    found = [b for b in dlg.findChildren(QPushButton) if b.isDefault() and b.isVisible()]
    for box in dlg.findChildren(QDialogButtonBox):
        for b in box.buttons():
            role = box.buttonRole(b)
            if b.isVisible() and role in (
                QDialogButtonBox.ButtonRole.AcceptRole,
                QDialogButtonBox.ButtonRole.YesRole,
                QDialogButtonBox.ButtonRole.ApplyRole,
            ):
                found.append(b)
    return found


def inside_a_scroll_area(w, top) -> bool:
    p = w.parentWidget()
    while p is not None and p is not top:
        if isinstance(p, QScrollArea):
            return True
        p = p.parentWidget()
    return False


def check_fits(qtbot, dlg: QDialog, screen: QRect) -> None:
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    name = type(dlg).__name__
    frame = QRect(dlg.frameGeometry())
    if frame.height() == dlg.height():  # offscreen: no decoration; count a title bar
        frame.setTop(frame.top() - TITLE_BAR)
    assert frame.width() <= screen.width() and frame.height() <= screen.height(), (
        name,
        frame,
    )
    hint = dlg.minimumSizeHint()
    assert hint.width() <= screen.width() and hint.height() + TITLE_BAR <= screen.height(), (
        name,
        hint,
    )
    buttons = accept_buttons(dlg)
    assert buttons, f"{name} has no OK/Save button"
    inner = dlg.rect()
    for b in buttons:
        top_left = b.mapTo(dlg, QPoint(0, 0))
        rect = QRect(top_left, b.size())
        assert inner.contains(rect), (name, b.text(), rect, inner)
        assert not inside_a_scroll_area(b, dlg), (name, b.text())


@pytest.mark.parametrize("screen", SCREENS, ids=["1366x728", "1280x720"])
@pytest.mark.parametrize(
    "factory", [f for fs in DIALOGS.values() for f in fs], ids=lambda f: f.__name__.strip("_")
)
def test_the_dialog_fits(qtbot, store, family, monkeypatch, factory, screen):
    monkeypatch.setattr(QScreen, "availableGeometry", lambda self: QRect(screen))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    dlg = factory(store, family)
    try:
        check_fits(qtbot, dlg, screen)
    finally:
        dlg.hide()


@pytest.mark.parametrize("screen", SCREENS, ids=["1366x728", "1280x720"])
def test_the_main_window_fits_and_remembers_its_size(qtbot, store, monkeypatch, tmp_path, screen):
    from PySide6.QtCore import QSettings

    from mzdesk.ui.main_window import MainWindow

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings")
    )
    monkeypatch.setattr(QScreen, "availableGeometry", lambda self: QRect(screen))
    win = MainWindow(store)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert isinstance(win, QMainWindow)
    assert win.width() <= screen.width() and win.height() + TITLE_BAR <= screen.height()
    assert win.minimumSizeHint().height() + TITLE_BAR <= screen.height()
    win.resize(1000, 600)
    win.close()
    again = MainWindow(store)
    qtbot.addWidget(again)
    again.show()
    assert (again.width(), again.height()) == (1000, 600)
    again.close()
