"""The ID check character is a hint only after the clerk re-checked the digits."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from mzdesk.models.ids import check_char
from mzdesk.ui.household_dialog import COL, HouseholdDialog
from tests.helpers import make_id

pytestmark = pytest.mark.gui


def wrong(number: str) -> str:
    """``number`` with a wrong last character."""
    right = check_char(number[:17])
    return number[:17] + ("1" if right != "1" else "2")


@pytest.fixture
def form(qtbot, store, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    dlg = HouseholdDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.fields["village"].setCurrentText("红旗村")
    dlg.table.item(0, COL["name"]).setText("张三丰")
    yield dlg
    dlg.hide()


def test_the_first_wrong_number_asks_to_recheck_without_the_answer(form):
    form.table.item(0, COL["id_number"]).setText(wrong(make_id("19600101", 11)))
    assert not form.save()
    text = form.id_hint.text()
    assert form.id_hint.isVisible()
    assert "校验不通过：请对照证件逐位核对" in form.members_error.text()
    assert "请对照证件逐位核对" in text and "已逐位核对</a>" in text
    assert "末位应为" not in text


def test_a_second_wrong_number_gives_the_check_character(form):
    first = wrong(make_id("19600101", 11))
    form.table.item(0, COL["id_number"]).setText(first)
    assert not form.save()
    second = wrong(make_id("19600101", 13))  # the clerk changed a digit: still wrong
    form.table.item(0, COL["id_number"]).setText(second)
    form.validate_now()
    key = id(form.members[0])
    assert form.id_hint.hint_for(key) == f"按前17位计算，末位应为{check_char(second[:17])}"
    assert f"末位应为{check_char(second[:17])}" in form.id_hint.text()


def test_the_rechecked_link_gives_the_check_character(form):
    number = wrong(make_id("19600101", 11))
    form.table.item(0, COL["id_number"]).setText(number)
    assert not form.save()
    form.id_hint.linkActivated.emit(str(id(form.members[0])))  # the clerk clicks 已逐位核对
    assert f"末位应为{check_char(number[:17])}" in form.id_hint.text()
    form.table.item(0, COL["id_number"]).setText(make_id("19600101", 11))  # now right
    form.validate_now()
    assert form.id_hint.isHidden() and form.id_hint.text() == ""
