"""The simulator fills a member end to end in the household form; 测试连接 on the settings page."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from mzdesk.idcard import SimulatedReader
from mzdesk.models.registry import Registry
from mzdesk.ui.household_dialog import HouseholdDialog
from mzdesk.ui.idcard_settings import IdCardSettings, configured_reader, fill_member
from tests.helpers import household, make_id


def test_simulator_fills_a_member_and_the_form_saves_it(qtbot, store, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    hid = Registry(store).save(household("红旗村", ("张三丰", "户主", make_id("19600101", 11)))).id
    dlg = HouseholdDialog(store, hid)
    qtbot.addWidget(dlg)
    dlg.show()
    card = SimulatedReader().read()
    assert fill_member(dlg, card, row=1) == []  # a new row, nothing typed before
    assert dlg.save()
    saved = Registry(store).get(hid)
    m = [m for m in saved.members if m.id_number == card.id_number][0]
    assert m.name == "王秀英" and m.gender == "F" and str(m.birth_date) == "1956-03-08"
    dlg.hide()


def test_settings_page_tests_the_connection(qtbot):
    try:
        page = IdCardSettings()
        qtbot.addWidget(page)
        page.backend.setCurrentIndex(page.backend.findData("none"))
        assert page.test_connection() == "未使用读卡器" and configured_reader() is None
        page.backend.setCurrentIndex(page.backend.findData("sim"))
        assert "连接正常" in page.test_connection()
        page.backend.setCurrentIndex(page.backend.findData("termb"))
        page.dll.setText("/nonexistent/libtermb.so")
        assert "无法加载读卡器驱动" in page.test_connection()
    finally:
        QSettings("mzdesk", "mzdesk").remove("idcard")


def test_the_form_has_a_read_button_only_with_a_reader(qtbot, store, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    hid = Registry(store).save(household("红旗村", ("张三丰", "户主", make_id("19600101", 11)))).id
    s = QSettings("mzdesk", "mzdesk")
    try:
        s.setValue("idcard/backend", "none")
        plain = HouseholdDialog(store, hid)
        qtbot.addWidget(plain)
        assert plain.read_card_btn is None  # no reader, no error
        s.setValue("idcard/backend", "sim")
        dlg = HouseholdDialog(store, hid)
        qtbot.addWidget(dlg)
        dlg.show()
        dlg.table.setCurrentCell(-1, -1)
        dlg.read_card_btn.click()
        assert [m.name for m in dlg.members] == ["张三丰", "王秀英"]
        assert dlg.save()
        dlg.hide()
    finally:
        s.remove("idcard")


def test_the_reader_settings_open_from_the_file_menu(qtbot, store):
    from mzdesk.ui.idcard_settings import IdCardSettings
    from mzdesk.ui.main_window import MainWindow

    win = MainWindow(store)
    qtbot.addWidget(win)
    assert win.act_reader in win.file_menu.actions()
    win.act_reader.trigger()
    dialogs = [w for w in win.findChildren(IdCardSettings)]
    assert dialogs and dialogs[0].window().windowTitle() == "身份证读卡器设置"
