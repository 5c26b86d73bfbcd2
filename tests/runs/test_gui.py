"""The 一次性发放 page: create through its FieldsDialog (refusals shown beside the field, the
dialog stays open), confirm and 已发放 after a question, 作废 with a reason, the 清册 to a
file chosen through ui/file_dialogs; each dialog fits 1366×728."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from PySide6.QtCore import QDate, QRect, Qt
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QComboBox, QDateEdit, QLineEdit, QListWidget, QMessageBox

from mzdesk.models import payment_runs as pr
from mzdesk.ui import file_dialogs
from mzdesk.ui.runs_page import RunsPage
from tests.ui.test_fit import SCREENS, check_fits

pytestmark = pytest.mark.gui


@pytest.fixture
def page(qtbot, store, paid, monkeypatch):
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: pytest.fail("a question nobody answered")
    )
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: pytest.fail(f"warning: {a}"))
    w = RunsPage(store)
    qtbot.addWidget(w)
    w.resize(1200, 600)
    w.show()
    return w


def _fill(dlg, name="春节一次性生活补贴", amount="300", cats=("农村低保", "特困人员供养")):
    w = dlg.widgets
    assert isinstance(w["name"], QComboBox) and isinstance(w["month"], QDateEdit)
    w["name"].setEditText(name)
    w["month"].setDate(QDate(2027, 1, 1))
    lst = w["categories"]
    assert isinstance(lst, QListWidget)
    for i in range(lst.count()):
        item = lst.item(i)
        checked = item.text() in cats
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
    amount_edit = w["rate_fen"]
    assert isinstance(amount_edit, QLineEdit)
    amount_edit.setText(amount)


def test_create_confirm_pay_and_export_from_the_page(qtbot, page, store, monkeypatch, tmp_path):
    dlg = page.create_dialog()
    qtbot.addWidget(dlg)
    _fill(dlg, cats=())
    assert dlg.try_accept() is False  # no category: refused beside the field, still open
    assert "至少要选一个救助类别" in dlg.errors["categories"].text()
    _fill(dlg, amount="0")
    assert dlg.try_accept() is False
    assert "大于0" in dlg.errors["rate_fen"].text()
    _fill(dlg)
    assert dlg.try_accept() is True
    [run] = pr.list_runs(store)
    assert (run.name, run.month, run.rate_fen, run.state) == (
        "春节一次性生活补贴",
        "2027-01",
        30000,
        "draft",
    )
    assert page.table.rowCount() == 1 and page.table.item(0, 5).text() == "草拟"
    assert page.table.item(0, 8).text() == "1200.00"
    assert page.confirm_btn.isEnabled() and not page.export_btn.isEnabled()

    asked = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No,
    )
    page.confirm()  # answered No: nothing happens
    assert pr.get_run(store, run.id).state == "draft" and "名单固定" in asked[0]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.confirm()
    assert pr.get_run(store, run.id).state == "confirmed"
    assert page.table.item(0, 5).text() == "已确认" and page.export_btn.isEnabled()

    out = tmp_path / "春节清册"
    monkeypatch.setattr(file_dialogs, "save_file", lambda *a, **k: str(out))
    page.export()
    book = openpyxl.load_workbook(tmp_path / "春节清册.xlsx")
    assert book.active.cell(3, 5).number_format == "@"
    assert "已导出" in page.detail.text()

    assert page.grab().save(str(tmp_path / "page.png"))  # renders (docs/payment-runs.png)

    page.mark_paid()
    assert pr.get_run(store, run.id).state == "paid"
    assert not page.void_btn.isEnabled()


def test_void_needs_a_reason(qtbot, page, store, monkeypatch):
    run = pr.create_run(store, "冬春救助", "2027-01", ["rural_dibao"], 10000)
    page.refresh(select=run.id)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dlg = page.void_dialog(run.id)
    qtbot.addWidget(dlg)
    assert dlg.try_accept() is False and "作废必须填写原因" in dlg.errors["reason"].text()
    dlg.widgets["reason"].setText("标准未定")
    assert dlg.try_accept() is True
    assert pr.get_run(store, run.id).state == "void"
    assert page.table.item(0, 5).text() == "作废"


@pytest.mark.parametrize("screen", SCREENS, ids=["1366x728", "1280x720"])
def test_the_dialogs_fit(qtbot, page, store, monkeypatch, screen):
    monkeypatch.setattr(QScreen, "availableGeometry", lambda self: QRect(screen))
    run = pr.create_run(store, "冬春救助", dt.date(2027, 1, 1), ["rural_dibao"], 10000)
    for dlg in (page.create_dialog(), page.void_dialog(run.id)):
        try:
            check_fits(qtbot, dlg, screen)
        finally:
            dlg.hide()
