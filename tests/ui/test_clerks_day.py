"""A clerk's day (民政办的一天), driven through the real window on a 1366×768 screen.

One walk, in the order a township clerk works: the first start on an empty site, the
intake of a three-member household typed with the keyboard (Enter moves between
fields, one member read from the ID-card simulator), an application 申请 → 调查 →
评议 (where the category has it) → the 公示 PDF, the care booklet and the home-visit
checklist PDFs, a roster import from a generated Excel file, and the month's
statistics.  Every PDF is opened (``pdftotext``) and every window is checked to be
owned by the main window.  No sleeps: background work is waited for with
``qtbot.waitUntil``; message boxes are patched (a real modal box would hang).

With ``MZ_SCREENSHOTS=docs/clerks-day`` (``make screenshot``) the walk saves what the
screen shows at each step: ``01-start.png``, ``02-main.png`` ... (the windows at their
places on a 1366×768 desktop above a 40-pixel taskbar).  Without it nothing is written.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QPoint, QRect, QSettings, QSize, Qt
from PySide6.QtGui import QColor, QFont, QInputMethodEvent, QPainter, QPixmap, QScreen
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QLineEdit,
    QMessageBox,
    QTableWidget,
    QWidget,
)

from mzdesk.app import FirstRunDialog, open_or_create
from mzdesk.models import enrolment as enr
from mzdesk.models.categories import lifecycle_settings
from mzdesk.models.ids import mask_id
from mzdesk.ui.household_dialog import COL, HouseholdDialog
from mzdesk.ui.main_window import MainWindow
from mzdesk.ui.screen_fit import TITLE_BAR
from tests.helpers import make_id, require_tool
from tests.roster.books import member_per_row
from tests.ui.test_dialog_parents import ShownWindows, assert_in_front_of
from tests.visits.test_gui import tick

pytestmark = pytest.mark.gui

SCREEN = QRect(0, 0, 1366, 768)
TASKBAR = 40
AVAILABLE = QRect(0, 0, 1366, 768 - TASKBAR)  # 1366×728, as under a Windows taskbar
HOTLINE = "0558-8123456"
HEAD_ID = make_id("19500101", 11)
CHILD_ID = make_id("20150303", 13)


class Camera:
    """Screenshots of the desktop as the clerk sees it, only when asked for."""

    def __init__(self, folder: str | None) -> None:
        self.folder = Path(folder) if folder else None
        self.count = 0
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)
            for old in self.folder.glob("[0-9][0-9]-*.png"):
                old.unlink()

    def snap(self, name: str, *windows: QWidget) -> None:
        self.count += 1
        if self.folder is None:
            return
        QApplication.processEvents()
        shot = QPixmap(SCREEN.size())
        shot.fill(QColor("#3a6ea5"))
        p = QPainter(shot)
        for w in windows:  # placed as a window manager does: the title bar at move()'s point
            title = QRect(w.frameGeometry().topLeft(), QSize(w.width(), TITLE_BAR))
            top_left = title.bottomLeft() + QPoint(0, 1)
            p.fillRect(title, QColor("#dfe6ee"))
            p.setPen(QColor("#1b1b1b"))
            p.setFont(QFont(QApplication.font().family(), 10))
            p.drawText(title.adjusted(10, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, window_title(w))
            p.drawPixmap(top_left, w.grab())
        p.fillRect(QRect(0, SCREEN.height() - TASKBAR, SCREEN.width(), TASKBAR), QColor("#202020"))
        p.end()
        shot.save(str(self.folder / f"{self.count:02d}-{name}.png"))


def fits(w: QWidget) -> bool:
    """The window with a title bar fits the available screen (its frame placed in it)."""
    f = w.frameGeometry()
    return (
        f.width() <= AVAILABLE.width()
        and f.height() + TITLE_BAR <= AVAILABLE.height()
        and AVAILABLE.contains(QRect(f.topLeft(), QSize(f.width(), f.height() + TITLE_BAR)))
    )


def window_title(w: QWidget) -> str:
    title = w.windowTitle()
    return f"{title} - 民政桌面" if title else "民政桌面"


def pdf_text(path: Path) -> str:
    out = subprocess.run(
        [require_tool("pdftotext"), "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def type_into(qtbot, widget: QWidget, text: str) -> None:
    """Type ``text`` and press Enter, as the clerk does."""
    target = widget.lineEdit() if isinstance(widget, QComboBox) else widget
    type_text(qtbot, target, text)
    qtbot.keyClick(target, Qt.Key.Key_Return)


def type_text(qtbot, widget: QWidget, text: str) -> None:
    """Type ``text``: digits and letters on the keys, Chinese through the input method
    (which commits whole words)."""
    target = widget.lineEdit() if isinstance(widget, QComboBox) else widget
    for chunk in re.findall(r"[\x00-\x7f]+|[^\x00-\x7f]+", text):
        if chunk.isascii():
            qtbot.keyClicks(target, chunk)
        else:
            commit = QInputMethodEvent()
            commit.setCommitString(chunk)
            QApplication.sendEvent(target, commit)


def type_cell(qtbot, table: QTableWidget, row: int, attr: str, text: str) -> None:
    """Type into a member cell: start editing, type (or choose), Enter commits."""
    table.setCurrentCell(row, COL[attr])
    table.editItem(table.item(row, COL[attr]))
    editor = QApplication.focusWidget()
    if isinstance(editor, QComboBox):
        editor.setCurrentIndex(editor.findText(text))
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    else:
        assert isinstance(editor, QLineEdit), editor
        type_into(qtbot, editor, text)
    qtbot.waitUntil(lambda: table.item(row, COL[attr]).text() == text, timeout=3000)  # queued


@pytest.fixture
def boxes(monkeypatch):
    """Confirmations answered 是; every warning box recorded instead of shown."""
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    return shown


@pytest.fixture
def office_settings(tmp_path):
    """The PC's settings (window size, reader) in a fresh folder of this test's own."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings")
    )


@pytest.fixture
def reader(office_settings):
    """The office's ID-card reader: the simulator (a real one is a driver setting)."""
    s = QSettings("mzdesk", "mzdesk")
    assert s.value("idcard/backend", "none") == "none"  # a fresh PC
    s.setValue("idcard/backend", "sim")
    yield
    s.remove("idcard")


def test_a_clerks_day(qtbot, tmp_path, monkeypatch, boxes, reader):
    monkeypatch.setattr(QScreen, "availableGeometry", lambda self: QRect(AVAILABLE))
    camera = Camera(os.environ.get("MZ_SCREENSHOTS"))
    spy = ShownWindows()
    QApplication.instance().installEventFilter(spy)
    today = dt.date.today()

    # -- 1. first start: a new database for the township, no demo --------------------------
    def first_run(dlg: FirstRunDialog) -> QDialog.DialogCode:
        dlg.demo.setChecked(False)
        dlg.code.setText("341623101")
        dlg.name.setText("青山镇民政办")
        dlg.show()
        qtbot.waitExposed(dlg)
        camera.snap("start", dlg)
        dlg.hide()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(FirstRunDialog, "exec", first_run)
    store, demo = open_or_create(tmp_path / "office" / "mz.sqlite")
    assert store is not None and demo == 0
    try:
        win = MainWindow(store)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        assert fits(win)
        assert win.households.model.rowCount() == 0
        camera.snap("main", win)

        hid = intake(qtbot, win, camera)
        apply_to_notice(qtbot, win, store, hid, camera, today)
        notice_pdf(qtbot, win, store, camera, tmp_path)
        booklet_and_checklist(qtbot, win, hid, camera, tmp_path, monkeypatch, today)
        roster_import(qtbot, win, store, camera, tmp_path)
        statistics(qtbot, win, camera)

        assert boxes == []  # not one warning box the whole day
        assert_in_front_of(win, [w for w in spy.shown if not isinstance(w, FirstRunDialog)])
        assert spy.orphans == ["FirstRunDialog 欢迎使用民政桌面"]  # before there is a window
        for w in spy.shown:
            if w is not win and shiboken6.isValid(w):
                w.hide()
        win.close()
    finally:
        QApplication.instance().removeEventFilter(spy)
        store.close()


def intake(qtbot, win: MainWindow, camera: Camera) -> int:
    """A three-member household: typed with the keyboard, the spouse read from her card."""
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=3000)
    qtbot.keyClick(win, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dlg = win.dialog
    assert isinstance(dlg, HouseholdDialog) and dlg.isVisible()
    dlg.activateWindow()
    qtbot.waitUntil(dlg.isActiveWindow, timeout=3000)  # shortcuts act in the active window
    save = QRect(dlg.save_btn.mapTo(dlg, QPoint(0, 0)), dlg.save_btn.size())
    assert fits(dlg) and dlg.rect().contains(save)  # 保存 on screen
    village = dlg.fields["village"]
    assert dlg.focusWidget() is village
    type_into(qtbot, village, "红旗村")
    assert dlg.focusWidget() is dlg.fields["village_group"]  # Enter moved on
    type_into(qtbot, dlg.fields["village_group"], "一组")
    qtbot.keyClick(dlg.focusWidget(), Qt.Key.Key_Return)  # 城乡: keep 农村
    assert dlg.focusWidget() is dlg.fields["address"]
    type_into(qtbot, dlg.fields["address"], "红旗村一组18号")
    type_into(qtbot, dlg.fields["phone"], "13800001234")
    dlg.cause_boxes["illness"].setFocus()
    qtbot.keyClick(dlg.cause_boxes["illness"], Qt.Key.Key_Space)  # 致困原因：因病
    assert dlg.cause_boxes["illness"].isChecked()
    assert dlg.table.rowCount() == 1  # Enter never added an empty member

    t = dlg.table
    type_cell(qtbot, t, 0, "name", "张三丰")
    type_cell(qtbot, t, 0, "id_number", HEAD_ID)
    qtbot.keyClick(dlg, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    dlg.read_card_btn.click()  # the spouse puts her card on the reader
    assert t.item(1, COL["name"]).text() == "王秀英"
    type_cell(qtbot, t, 1, "relation", "配偶")
    qtbot.keyClick(dlg, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    type_cell(qtbot, t, 2, "name", "张小宝")
    type_cell(qtbot, t, 2, "relation", "孙子女")
    # the clerk slips on a digit: first only "compare with the card", no answer to copy
    slip = CHILD_ID[:15] + ("9" if CHILD_ID[15] != "9" else "8") + CHILD_ID[16:]
    type_cell(qtbot, t, 2, "id_number", slip)
    qtbot.keyClick(dlg, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert dlg.isVisible() and dlg.id_hint.isVisible()
    assert "请对照证件逐位核对" in dlg.id_hint.text() and "末位应为" not in dlg.id_hint.text()
    dlg.id_hint.linkActivated.emit(str(id(dlg.members[2])))  # 已逐位核对
    assert "末位应为" in dlg.id_hint.text()
    camera.snap("id-check", win, dlg)
    type_cell(qtbot, t, 2, "id_number", CHILD_ID)  # the card says otherwise: fixed
    assert dlg.id_hint.isHidden()
    dlg.validate_now()
    assert dlg.problems == [] and dlg.members_error.text() == ""
    assert t.item(1, COL["gender"]).text() == "女"  # from the number the card gave
    camera.snap("intake", win, dlg)
    with qtbot.waitSignal(dlg.saved, timeout=5000) as saved:
        qtbot.keyClick(dlg, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not dlg.isVisible()
    assert win.households.model.rowCount() == 1
    return saved.args[0]


def apply_to_notice(qtbot, win, store, hid: int, camera: Camera, today: dt.date) -> None:
    """申请 → 调查 → 评议 on the household's 救助保障 tab, each step a checked dialog."""
    form = win.edit_household(hid)
    panel = form.tabs.widget(
        [form.tabs.tabText(i) for i in range(form.tabs.count())].index("救助保障")
    )
    form.tabs.setCurrentWidget(panel)
    panel.buttons["apply"].click()
    dlg = panel.dialog
    assert dlg.value("category") == "rural_dibao"  # a 农村 household: 农村低保
    dlg.widgets["cls"].setText("二类")
    dlg.widgets["amount"].setText("760")
    camera.snap("apply", win, form, dlg)
    dlg.ok_btn.click()
    assert not dlg.isVisible()
    (e,) = enr.for_household(store, hid)
    assert e.state == "applied" and e.monthly_fen == 76000

    panel.refresh(select=e.id)
    panel.buttons["investigate"].click()
    panel.buttons["record_investigation"].click()
    dlg = panel.dialog
    height = dlg.height()
    type_text(qtbot, dlg.widgets["a"], "刘干事")
    dlg.ok_btn.click()  # one investigator: refused, and what was typed stays
    assert dlg.isVisible() and dlg.widgets["a"].text() == "刘干事"
    assert "两名" in dlg.errors["b"].text()
    type_text(qtbot, dlg.widgets["b"], "陈干事")
    assert dlg.errors["b"].isHidden()  # fixed: the red text goes at once, and its room
    qtbot.waitUntil(lambda: dlg.height() == height, timeout=3000)
    type_text(qtbot, dlg.widgets["v"], "经济状况核对通过")
    type_text(qtbot, dlg.widgets["c"], "情况属实")
    camera.snap("survey", win, form, dlg)
    dlg.ok_btn.click()
    assert not dlg.isVisible()
    if "rural_dibao" in lifecycle_settings()["deliberation"]:
        panel.buttons["deliberate"].click()
        dlg = panel.dialog
        dlg.widgets["n"].setValue(15)
        dlg.ok_btn.click()
        assert not dlg.isVisible()
    e = enr.get(store, e.id)
    assert e.state not in ("applied", "investigating")
    camera.snap("enrolment", win, form)
    form.done(0)


def notice_pdf(qtbot, win, store, camera: Camera, tmp_path: Path) -> None:
    """The 公示: preview, publish, the PDF with the household and its masked ID."""
    page = win.page("公示")
    win.tabs.setCurrentIndex(win.tabs.indexOf(page.parentWidget()))
    assert page.table.rowCount() == 1
    page.hotline.setText(HOTLINE)
    page.show_id.setChecked(True)
    page.preview_btn.click()
    qtbot.waitUntil(
        lambda: page.doc.pageCount() >= 1 and page.publish_btn.isEnabled(), timeout=20000
    )
    page.publish_btn.click()
    qtbot.waitUntil(lambda: page.notice_id is not None, timeout=20000)
    out = page.save_pdf(tmp_path / "公示.pdf")
    text = pdf_text(out)
    assert "张三丰" in text and mask_id(HEAD_ID) in text and HEAD_ID not in text
    assert HOTLINE in text
    camera.snap("notice", win)


def booklet_and_checklist(qtbot, win, hid, camera, tmp_path, monkeypatch, today) -> None:
    """关爱簿 and 入户核查表, opened filled from the records, printed to PDF."""
    from mzdesk.ui import booklet_dialog, visit_dialog

    form = win.edit_household(hid)
    titles = [form.tabs.tabText(i) for i in range(form.tabs.count())]
    visits = form.tabs.widget(titles.index("入户与跟进"))
    form.tabs.setCurrentWidget(visits)

    booklet = visits.open_booklet()
    assert booklet.isVisible() and not booklet.isModal()
    assert fits(booklet)
    answers = booklet.form.answers()
    assert answers["causes"] == ["因病"]  # carried over from the household
    booklet.form.set_value("difficulty_summary", "户主年老多病，配偶无劳动能力，孙子女上学。")
    booklet.form.set_value("helper_name", "刘干事")
    booklet.form.set_value("helper_phone", "13900001111")
    camera.snap("booklet", win, form, booklet)
    booklet_pdf = tmp_path / "关爱簿.pdf"
    monkeypatch.setattr(booklet_dialog, "ask_save_path", lambda *a, **k: str(booklet_pdf))
    print_button(booklet, "保存并打印…").click()
    assert booklet.summary.text() == "" and booklet_pdf.exists(), booklet.summary.text()
    text = pdf_text(booklet_pdf)
    assert "张三丰" in text and "红旗村" in text
    booklet.done(0)

    visit = visits.add_visit()
    for f in visit.form.template.check_fields():
        tick(visit.form, f.key, "符合")
    visit.form.editors["members_present"].focusables[0].click()
    visit.inv_edits[0].setText("刘干事")
    visit.inv_edits[1].setText("陈干事")
    visit.conclusion_box.setCurrentIndex(1)
    camera.snap("checklist", win, form, visit)
    checklist_pdf = tmp_path / "入户核查表.pdf"
    monkeypatch.setattr(visit_dialog, "ask_save_path", lambda *a, **k: str(checklist_pdf))
    visit._print_clicked()
    text = pdf_text(checklist_pdf)
    assert "张三丰" in text and "刘干事" in text
    visit.done(0)
    form.done(0)


def print_button(dlg: QDialog, text: str):
    from PySide6.QtWidgets import QPushButton

    (b,) = [b for b in dlg.findChildren(QPushButton) if b.text() == text]
    return b


def roster_import(qtbot, win, store, camera: Camera, tmp_path: Path) -> None:
    """A village's 花名册 from Excel: checked, then imported in the background."""
    from mzdesk.ui.import_dialog import ImportDialog

    xlsx = tmp_path / "东风村花名册.xlsx"
    member_per_row(
        xlsx,
        [
            {
                "village": "东风村",
                "amount": 900,
                "members": [
                    ("李四", "户主", make_id("19600101", 21)),
                    ("周梅", "配偶", make_id("19610101", 22)),
                ],
            },
            {
                "village": "东风村",
                "amount": 450,
                "members": [("赵五", "户主", make_id("19450101", 23))],
            },
        ],
    )
    dlg = ImportDialog(store, win, path=str(xlsx))
    dlg.imported.connect(lambda _r: win.households.apply_filter())
    dlg.show()
    dlg.category.setCurrentIndex(dlg.category.findData("rural_dibao"))
    dlg.check_btn.click()
    qtbot.waitUntil(lambda: dlg.report is not None and dlg.import_btn.isEnabled(), timeout=20000)
    assert sum(dlg.report["problem_counts"].values()) == 0
    camera.snap("import", win, dlg)
    with qtbot.waitSignal(dlg.imported, timeout=20000):
        dlg.import_btn.click()
    assert "新增 2 户" in dlg.summary.text()
    dlg.done(0)
    assert win.households.model.rowCount() == 3


def statistics(qtbot, win, camera: Camera) -> None:
    page = win.page("统计")
    win.tabs.setCurrentIndex(win.tabs.indexOf(page.parentWidget()))
    page.refresh()
    assert page.table.rowCount() > 0 and "没有在保对象" not in page.summary.text()
    camera.snap("statistics", win)
