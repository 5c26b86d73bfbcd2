"""Keyboard-first entry that never loses what was typed.

Enter in a field moves to the next field (it never presses 添加成员 nor saves), Ctrl+S
saves, secondary buttons are never the default.  Every dialog checks before it closes:
a refused lifecycle step (登记调查, 民主评议, 新申请, 停发) keeps the dialog open with what
was typed and the problem beside its field; red text clears as soon as the field is fixed;
the summary lists every problem, each a link to its field.  Alt shortcuts are unique in
each window; the title bar names the program once.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QWidget,
)

from mzdesk.models import enrolment as enr
from mzdesk.models.registry import Registry
from mzdesk.ui.enrolment_panel import EnrolmentPanel
from mzdesk.ui.household_dialog import HouseholdDialog
from tests.helpers import household, make_id

pytestmark = pytest.mark.gui
TODAY = dt.date(2026, 12, 5)


@pytest.fixture(autouse=True)
def pinned_day(clock):
    clock(TODAY)


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: seen.append(a[2]))
    return seen


@pytest.fixture
def answers(monkeypatch):
    """QMessageBox.question answered from a list (Yes when empty); the questions asked."""
    asked: list[str] = []
    replies: list = []

    def question(parent, title, text, *a, **k):
        asked.append(text)
        return replies.pop(0) if replies else QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked, replies


@pytest.fixture
def family(registry):
    h = household(
        "红旗村",
        ("张三丰", "户主", make_id("19500101", 1)),
        ("李四妹", "配偶", make_id("19520202", 2)),
        village_group="一组",
    )
    return registry.save(h, today=dt.date(2026, 11, 23))


@pytest.fixture
def form(qtbot, store, family, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    dlg = HouseholdDialog(store, family.id)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    yield dlg
    dlg.hide()


def type_in(w: QWidget, text: str) -> None:
    """Key presses carrying ``text`` (Chinese too, as an input method sends them)."""
    for ch in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(w, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, ch))


def retype(qtbot, w: QLineEdit, text: str) -> None:
    """Replace the text of ``w`` as a clerk does (select all, type)."""
    w.setFocus()
    w.selectAll()
    qtbot.keyClick(w, Qt.Key.Key_Delete)
    type_in(w, text)


# -- the household form ----------------------------------------------------------------------
def test_enter_in_a_field_moves_to_the_next_and_adds_no_member(qtbot, form, store):
    phone = form.fields["phone"]
    retype(qtbot, phone, "13800001234")
    qtbot.keyClick(phone, Qt.Key.Key_Return)
    assert form.isVisible()  # not saved and closed
    assert len(form.members) == 2 and form.table.rowCount() == 2  # no empty 子 row
    assert QApplication.focusWidget() is not phone
    assert store.scalar("SELECT phone FROM households") != "13800001234"
    # Ctrl+S saves
    qtbot.keyClick(form, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not form.isVisible()
    assert Registry(store).get(form.household.id).phone == "13800001234"


def test_secondary_buttons_are_never_the_default(form):
    for b in form.findChildren(QPushButton):
        if b is not form.save_btn:
            assert not b.autoDefault() and not b.isDefault(), b.text()


def test_a_red_label_clears_as_soon_as_the_field_is_fixed(qtbot, form):
    phone = form.fields["phone"]
    retype(qtbot, phone, "12")
    assert not form.save()
    assert form.errors["phone"].isVisible()
    retype(qtbot, phone, "13800001234")  # no wait: at once, not after a timer
    assert not form.errors["phone"].isVisible()
    assert form.summary.problems == []


def test_the_summary_lists_every_problem_each_leading_to_its_field(qtbot, form):
    retype(qtbot, form.fields["phone"], "12")
    form.add_member(relation="子", focus=False)  # a member without a name
    assert not form.save()
    messages = form.summary.messages()
    assert len(messages) >= 2
    assert form.summary.text().startswith(f"有{len(messages)}处需要修改：")
    for m in messages:
        assert m in form.summary.text()
    phone_at = next(i for i, p in enumerate(form.summary.problems) if p.field == "phone")
    member_at = next(i for i, p in enumerate(form.summary.problems) if p.row == 2)
    form.summary.activate(member_at)
    assert form.table.currentRow() == 2
    form.summary.activate(phone_at)
    assert QApplication.focusWidget() is form.fields["phone"]


def test_the_member_detail_collapses(form):
    assert form.detail.isVisible()
    form.detail_toggle.click()
    assert not form.detail.isVisible()
    form.detail_toggle.click()
    assert form.detail.isVisible()


# -- lifecycle dialogs ------------------------------------------------------------------------
@pytest.fixture
def panel(qtbot, store, family):
    e = enr.create(
        store,
        family.id,
        "rural_dibao",
        cls="二类",
        monthly_fen=50000,
        applied_on=dt.date(2026, 11, 20),
    )
    p = EnrolmentPanel(store, family.id)
    qtbot.addWidget(p)
    p.enrolment_id = e.id
    return p


def test_the_survey_keeps_what_was_typed_and_its_date_is_editable(qtbot, panel, store, warnings):
    assert panel.act("investigate")
    dlg = panel._survey_clicked()
    assert dlg.isVisible()
    w = dlg.widgets
    w["a"].setText("刘干事")
    w["v"].setText("核对通过，收入低于标准")
    w["c"].setText("符合条件")
    assert not dlg.try_accept()
    assert dlg.isVisible() and warnings == []  # shown beside the field, not in a box
    assert "两名调查人员" in dlg.errors["b"].text() and dlg.errors["b"].isVisible()
    assert dlg.summary.messages() == ["入户调查至少需要两名调查人员"]
    assert (w["a"].text(), w["v"].text(), w["c"].text()) == (
        "刘干事",
        "核对通过，收入低于标准",
        "符合条件",
    )
    type_in(w["b"], "陈干事")  # the red text goes as soon as the field is edited
    assert not dlg.errors["b"].isVisible() and dlg.summary.problems == []
    retype(qtbot, w["on"], "2026-12-31")  # in the future: refused by the date rules
    assert not dlg.try_accept() and dlg.errors["on"].isVisible()
    retype(qtbot, w["on"], "2026-12-02")
    assert dlg.try_accept() and not dlg.isVisible()
    e = enr.get(store, panel.enrolment_id)
    assert str(e.investigated_on) == "2026-12-02"


def test_the_deliberation_date_is_editable_and_checked(qtbot, panel, store, warnings):
    enr.start_investigation(store, panel.enrolment_id)
    enr.record_investigation(store, panel.enrolment_id, ["刘", "陈"], "通过", dt.date(2026, 12, 1))
    panel.refresh()
    dlg = panel._deliberate_clicked()
    assert not dlg.try_accept()  # nobody attended
    assert dlg.errors["n"].isVisible() and dlg.isVisible()
    dlg.widgets["n"].setValue(11)
    assert not dlg.errors["n"].isVisible()
    retype(qtbot, dlg.widgets["on"], "2026-11-20")  # before the survey
    assert not dlg.try_accept() and "入户调查日期" in dlg.errors["on"].text()
    retype(qtbot, dlg.widgets["on"], "2026-12-03")
    assert dlg.try_accept()
    last = enr.history(store, panel.enrolment_id)[-1]
    assert last["action"] == "deliberate" and last["detail"]["on"] == "2026-12-03"
    assert warnings == []


def test_a_new_application_keeps_what_was_typed(qtbot, panel, store, warnings):
    dlg = panel._apply_clicked()
    dlg.widgets["cls"].setText("一类")
    dlg.widgets["amount"].setText("abc")
    assert not dlg.try_accept() and dlg.isVisible()
    assert dlg.errors["amount"].isVisible() and dlg.widgets["cls"].text() == "一类"
    assert warnings == []


def test_a_stop_asks_first_keeps_the_reason_and_takes_its_date(
    qtbot, store, family, answers, monkeypatch
):
    from tests.enrolment.conftest import publicised

    monkeypatch.setattr("mzdesk.models.notice._today", lambda: dt.date(2026, 11, 23))
    asked, replies = answers
    e, _ = publicised(store, family.id)
    enr.submit(store, e.id, today=dt.date(2026, 12, 8))
    enr.confirm(store, e.id, today=dt.date(2026, 12, 15))
    p = EnrolmentPanel(store, family.id)
    qtbot.addWidget(p)
    p.list.selectRow([x.id for x in p.enrolments].index(e.id))
    dlg = p._reason_then("stop", "停发原因")
    assert not dlg.try_accept()  # no reason: refused beside the field, asked nothing yet
    assert dlg.errors["r"].isVisible() and dlg.isVisible()
    type_in(dlg.widgets["r"], "迁出本县")
    assert not dlg.errors["r"].isVisible()
    retype(qtbot, dlg.widgets["on"], "2026-12-20")
    replies.append(QMessageBox.StandardButton.No)
    n = len(asked)
    assert not dlg.try_accept()  # the clerk said no: nothing happens, nothing lost
    assert len(asked) == n + 1 and "不能撤销" in asked[-1]
    assert enr.get(store, e.id).state == "active" and dlg.widgets["r"].text() == "迁出本县"
    assert dlg.try_accept()
    assert enr.get(store, e.id).state == "stopped"


# -- Alt shortcuts, title -------------------------------------------------------------------
MNEMONIC = re.compile(r"&([^&\s])")


def mnemonics(texts) -> list[str]:
    return [m.group(1).upper() for t in texts for m in [MNEMONIC.search(t or "")] if m]


def duplicates(keys: list[str]) -> set[str]:
    return {k for k in keys if keys.count(k) > 1}


def widget_texts(w: QWidget) -> list[str]:
    texts = [b.text() for b in w.findChildren(QAbstractButton) if b.isVisibleTo(w)]
    texts += [lab.text() for lab in w.findChildren(QLabel) if lab.buddy() is not None]
    return texts


def test_alt_shortcuts_are_unique_in_each_window(qtbot, store, form):
    from mzdesk.ui.main_window import MainWindow

    win = MainWindow(store)
    qtbot.addWidget(win)
    bar = [a.text() for a in win.menuBar().actions() if a.isVisible()]
    assert duplicates(mnemonics(bar + widget_texts(win.centralWidget()))) == set(), bar
    for menu in win.menuBar().findChildren(QMenu):
        items = [a.text() for a in menu.actions()]
        assert duplicates(mnemonics(items)) == set(), (menu.title(), items)
    assert duplicates(mnemonics(widget_texts(form))) == set()
    for dlg in QApplication.topLevelWidgets():
        if isinstance(dlg, QDialog) and dlg.isVisible():
            assert duplicates(mnemonics(widget_texts(dlg))) == set(), dlg.windowTitle()


def test_the_title_bar_names_the_program_once(qtbot, store):
    from mzdesk.ui.main_window import MainWindow

    app = QApplication.instance()
    old = app.applicationDisplayName()
    app.setApplicationDisplayName("民政桌面")
    try:
        win = MainWindow(store)
        qtbot.addWidget(win)
        title = win.windowTitle()
        # what the window system shows: the title, then " — " and the display name
        shown = f"{title} — 民政桌面" if title and title != "民政桌面" else "民政桌面"
        assert shown.count("民政桌面") == 1 and "青山镇" in shown
    finally:
        app.setApplicationDisplayName(old)


def test_enter_in_the_import_path_box_does_not_open_the_chooser(qtbot, store, monkeypatch):
    from mzdesk.ui.import_dialog import ImportDialog

    opened = []
    monkeypatch.setattr(ImportDialog, "browse", lambda self: opened.append(1))
    dlg = ImportDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.path_edit.setFocus()
    qtbot.keyClick(dlg.path_edit, Qt.Key.Key_Return)
    assert opened == []
    for b in dlg.findChildren(QPushButton):
        assert not b.autoDefault(), b.text()
    dlg.hide()


def test_chinese_labels_use_full_width_colons(qtbot, store, form):
    from mzdesk.ui.import_dialog import ImportDialog

    dlg = ImportDialog(store)
    qtbot.addWidget(dlg)
    for w in (form, dlg):
        for lab in w.findChildren(QLabel):
            assert not re.search(r"[\u4e00-\u9fff]:", lab.text()), lab.text()
