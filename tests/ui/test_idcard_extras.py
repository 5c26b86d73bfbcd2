"""ID-card reader extras in the household form: the wedge box, kept photos, expired cards,
the sdtapi driver chosen on the settings page."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from mzdesk.idcard import Card, SimulatedReader
from mzdesk.ui.household_dialog import COL, HouseholdDialog
from mzdesk.ui.idcard_settings import IdCardSettings, WedgeBox, fill_member, photo_folder
from tests.helpers import make_id
from tests.ui.test_idcard_sdtapi import compile_fake, fake_sdtapi

pytestmark = pytest.mark.gui


@pytest.fixture
def reader_settings(monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    s = QSettings("mzdesk", "mzdesk")
    yield s
    s.remove("idcard")


def open_form(qtbot, store) -> HouseholdDialog:
    dlg = HouseholdDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.fields["village"].setCurrentText("红旗村")
    return dlg


def test_a_wedge_reader_types_the_number_and_enter_fills_the_id(qtbot, store, reader_settings):
    reader_settings.setValue("idcard/backend", "wedge")
    dlg = open_form(qtbot, store)
    box = dlg.read_card_btn
    assert isinstance(box, WedgeBox)
    dlg.table.item(0, COL["name"]).setText("张三丰")
    dlg.table.setCurrentCell(0, COL["name"])
    box.setFocus()
    head = make_id("19600101", 11)
    qtbot.keyClicks(box, head.lower())  # the reader types like a keyboard ...
    qtbot.keyClick(box, Qt.Key.Key_Return)  # ... and ends with Enter
    assert dlg.members[0].id_number == head and box.text() == ""
    assert len(dlg.members) == 1  # Enter neither added a member nor left the box
    assert dlg.focusWidget() is box
    qtbot.keyClicks(box, make_id("19620202", 12))  # the next card: a new member
    qtbot.keyClick(box, Qt.Key.Key_Enter)
    assert [m.id_number for m in dlg.members] == [head, make_id("19620202", 12)]
    qtbot.keyClicks(box, head[:17] + "0" if head[17] != "0" else head[:17] + "1")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert "校验不通过" in dlg.members_error.text() and box.text() != ""  # kept to compare
    dlg.members[1].name = "王芳"
    dlg.table.item(1, COL["name"]).setText("王芳")
    dlg.table.item(1, COL["relation"]).setText("配偶")
    assert dlg.save()


def test_the_photo_is_kept_only_when_the_office_enables_it(qtbot, store, reader_settings):
    card = Card(
        "王秀英", "F", "汉", dt.date(1956, 3, 8), "红旗村", "34162319560308002X", None, b"BM1"
    )
    reader_settings.setValue("idcard/backend", "sim")
    dlg = open_form(qtbot, store)
    fill_member(dlg, card, row=0)
    folder = photo_folder(store)
    assert not folder.exists()  # off by default: nothing written
    reader_settings.setValue("idcard/keep_photo", True)
    fill_member(dlg, card, row=0)
    path = folder / "34162319560308002X.bmp"
    assert path.read_bytes() == b"BM1" and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_expired_card_is_a_warning_in_the_form(qtbot, store, reader_settings, monkeypatch):
    reader_settings.setValue("idcard/backend", "sim")
    old = Card(
        "王秀英", "F", "汉", dt.date(1956, 3, 8), "", "34162319560308002X", dt.date(2019, 1, 1)
    )
    monkeypatch.setattr(SimulatedReader, "read", lambda self: old)
    dlg = open_form(qtbot, store)
    dlg.read_card_btn.click()
    assert "证件已过有效期（2019-01-01），请提醒换证" in dlg.members_error.text()
    assert dlg.members[0].name == "王秀英"


def test_the_settings_page_tests_an_sdtapi_reader(qtbot, tmp_path, reader_settings):
    so = compile_fake(tmp_path, "sdtapi", fake_sdtapi("长期"))
    page = IdCardSettings()
    qtbot.addWidget(page)
    page.backend.setCurrentIndex(page.backend.findData("sdtapi"))
    assert page.dll.text() == "sdtapi.dll"  # the driver follows the chosen SDK
    page.dll.setText(str(so))
    assert page.test_connection() == "读卡器连接正常（端口1001）"
    page.backend.setCurrentIndex(page.backend.findData("wedge"))
    assert "无需连接" in page.test_connection()
