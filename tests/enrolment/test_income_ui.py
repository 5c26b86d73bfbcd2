"""pytest-qt: the 收入核算 dialog opened from the enrolment panel, rendered and saved."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QMessageBox

from mzdesk.models import enrolment as enr
from mzdesk.ui.enrolment_panel import EnrolmentPanel
from tests.enrolment.conftest import ready
from tests.enrolment.test_income import set_incomes

pytestmark = pytest.mark.gui


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: seen.append(a[2]))
    return seen


@pytest.fixture
def panel(qtbot, store, registry, family, clock):
    clock(dt.date(2026, 12, 5))
    set_incomes(registry, family.id, 张三丰={"wage": 150000}, 李四妹={"farm": 20000})
    ready(store, family.id, fen=0)
    p = EnrolmentPanel(store, family.id)
    qtbot.addWidget(p)
    return p


def test_the_dialog_shows_the_working_and_saves_the_proposal(panel, store, warnings):
    assert panel.income_button.isEnabled()
    dlg = panel.open_income()
    rows = [[dlg.table.item(i, j).text() for j in range(3)] for i in range(dlg.table.rowCount())]
    sections = [r[0] for r in rows]
    assert sections[0] == "收入项" and "扣除项" in sections and sections[-1] == "核算"
    labels = [r[1] for r in rows]
    for label in (
        "工资性收入",
        "农业经营收入",
        "收入合计",
        "就业成本（张三丰）",
        "扣除合计",
        "人均月收入",
        "保障标准",
        "差额",
        "补差",
    ):
        assert label in labels, label
    # (1500 + 200) × 12 = 20400 元, less 3600 元 就业成本 = 16800 元 for 3 persons:
    # (12930 − 16800) < 0, below 150%: 低保边缘, nothing proposed
    assert "低保边缘家庭" in dlg.result.text() and dlg.amount.text() == "0.00"
    # a 刚性支出 of 6000 元 brings it under the standard: 2130 元 × 3 ÷ 36 = 177.5 → 178 元
    dlg.rigid["medical"].setText("6000")
    assert dlg.recompute()
    assert "符合低保条件" in dlg.result.text() and dlg.amount.text() == "178.00"
    assert dlg.save()
    e = enr.for_household(store, panel.household_id)[0]
    assert e.monthly_fen == 17800
    assert panel.list.item(0, 5).text() == "178.00"  # the panel refreshed
    assert warnings == []


def test_an_override_without_a_reason_is_refused_once(panel, store, warnings):
    dlg = panel.open_income()
    dlg.amount.setText("300")
    assert not dlg.save()
    assert len(warnings) == 1 and "必须填写原因" in warnings[0]
    dlg.reason.setText("户主大病，另有支出")
    assert dlg.save()
    last = enr.history(store, enr.for_household(store, panel.household_id)[0].id)[-1]
    assert last["reason"] == "户主大病，另有支出" and last["detail"]["income_calc"]["override"]


def test_the_dialog_fits_a_township_screen_and_paints(panel):
    dlg = panel.open_income()
    hint = dlg.sizeHint()  # 1366×768 with a taskbar leaves about 1366×728
    assert dlg.width() <= 1366 and dlg.height() <= 728
    assert hint.width() <= 1366 and hint.height() <= 728
    image = dlg.grab().toImage()
    assert image.width() == dlg.width() and not image.isNull()
