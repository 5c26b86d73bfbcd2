"""Non-modal dialogs stay in front of the main window: each one opened from the window
has a parent inside it (so the window system keeps it above, and it shares the
window's taskbar entry) instead of being a free top-level window that the main window
can cover.  Every window shown while the paths below run is checked, not only the
dialog each path returns.
"""

from __future__ import annotations

import datetime as dt

import pytest
import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QTableWidgetItem, QWidget

from mzdesk.models import enrolment as enr
from mzdesk.models.registry import Registry
from mzdesk.ui.main_window import MainWindow
from tests.helpers import household, make_id

pytestmark = pytest.mark.gui


class ShownWindows(QObject):
    """Records every window (a top-level widget) that is shown, and the titles of those
    shown without a main window owning them (checked when shown: some are deleted on
    close)."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[QWidget] = []
        self.orphans: list[str] = []

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if (
            event.type() == QEvent.Type.Show
            and isinstance(obj, QWidget)
            and obj.isWindow()
            and obj not in self.shown
        ):
            self.shown.append(obj)
            if not isinstance(obj, MainWindow) and owner_window(obj) is None:
                self.orphans.append(f"{type(obj).__name__} {obj.windowTitle()}")
        return False


def owner_window(w: QWidget) -> QWidget | None:
    """The top-level window that owns ``w`` (following parents), or None if it has none."""
    parent = w.parentWidget()
    while parent is not None and not isinstance(parent, MainWindow):
        parent = parent.parentWidget()
    return parent


def assert_in_front_of(window: MainWindow, shown: list[QWidget]) -> None:
    """Each window in ``shown`` (those still alive) is owned by ``window``."""
    for w in shown:
        if w is window or not shiboken6.isValid(w):  # a dialog deleted on close was checked
            continue
        assert owner_window(w) is window, (type(w).__name__, w.windowTitle())
        handle = w.windowHandle()
        assert handle is not None and handle.transientParent() is not None, (
            type(w).__name__,
            w.windowTitle(),
        )


@pytest.fixture
def watched(qtbot, store, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    hid = (
        Registry(store)
        .save(
            household("红旗村", ("张三丰", "户主", make_id("19500101", 1)), village_group="一组"),
            today=dt.date(2026, 11, 23),
        )
        .id
    )
    win = MainWindow(store)
    qtbot.addWidget(win)
    win.show()
    spy = ShownWindows()
    QApplication.instance().installEventFilter(spy)
    yield win, hid, spy
    QApplication.instance().removeEventFilter(spy)
    for w in spy.shown:
        if w is not win and isinstance(w, QDialog):
            w.hide()


def test_every_dialog_opened_from_the_window_stays_in_front(qtbot, store, watched):
    win, hid, spy = watched
    form = win.edit_household(hid)
    tabs = {form.tabs.tabText(i): form.tabs.widget(i) for i in range(form.tabs.count())}
    visits, enrolments = tabs["入户与跟进"], tabs["救助保障"]
    visit = visits.add_visit()  # non-modal
    booklet = visits.open_booklet()  # non-modal
    e = enr.create(store, hid, "rural_dibao", cls="二类", monthly_fen=50000)
    enrolments.refresh(select=e.id)
    income = enrolments.open_income()
    apply = enrolments._apply_clicked()
    reader = win.open_reader_settings()
    for dlg in (form, visit, booklet, income, apply, reader):
        assert dlg.isVisible() and dlg in spy.shown
    assert_in_front_of(win, spy.shown)
    assert spy.orphans == []
    assert not visit.isModal() and not booklet.isModal()


def test_todays_visits_dialog_stays_in_front(qtbot, store, watched):
    win, hid, spy = watched
    page = win.page("今日入户")
    win.tabs.setCurrentIndex(win.tabs.indexOf(page.parentWidget()))
    page.todo_table.setRowCount(1)  # a household to re-visit, as a spot check lists it
    item = QTableWidgetItem(str(hid))
    item.setData(Qt.ItemDataRole.UserRole, hid)
    page.todo_table.setItem(0, 0, item)
    page.todo_table.setCurrentCell(0, 0)
    dlg = page.start_selected()
    assert dlg is not None and dlg.isVisible()
    assert_in_front_of(win, spy.shown)
    assert spy.orphans == []
