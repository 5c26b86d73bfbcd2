"""The 近亲属备案 page, driven with pytest-qt (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from mzdesk.models import enrolment
from mzdesk.models.registry import Registry
from mzdesk.ui.relatives_page import RelativesPage
from tests.helpers import household, make_id

pytestmark = pytest.mark.gui

SON = make_id("19900101", 11)


def test_declare_list_flag_and_withdraw(qtbot, store, monkeypatch):
    h = Registry(store).save(
        household("红旗村", ("张三", "户主", make_id("19600101", 1)), ("张小军", "子", SON))
    )
    e = enrolment.create(store, h.id, "rural_dibao")
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warnings.append(text))
    page = RelativesPage(store)
    qtbot.addWidget(page)
    assert page.declared.rowCount() == 0 and page.flagged.rowCount() == 0
    page.declarant.setText("王主任")
    page.role.setCurrentIndex(page.role.findData("cadre"))
    page.relative.setText("张小军")
    page.id_number.setText(SON)
    page.relation.setCurrentIndex(page.relation.findData("child"))
    assert not page.declare()  # a cadre must name the village: refused, nothing written
    assert warnings and "村" in warnings[-1] and page.declared.rowCount() == 0
    page.village.setText("红旗村")
    assert page.declare()
    assert page.declared.rowCount() == 1 and page.id_number.text() == ""
    masked = SON[:6] + "********" + SON[-4:]
    assert page.declared.item(0, 5).text() == masked
    assert page.flagged.rowCount() == 1
    assert page.flagged.item(0, 0).text() == str(e.id)
    assert page.flagged.item(0, 5).text() == masked
    assert "（1）" in page.tabs.tabText(1)
    shown = [page.flagged.item(0, j).text() for j in range(page.flagged.columnCount())]
    assert SON not in "".join(shown)
    page.declared.selectRow(0)
    assert page.withdraw_selected()
    assert page.declared.rowCount() == 0 and page.flagged.rowCount() == 0
