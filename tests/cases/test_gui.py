"""The cases page: a case from application to payment through its dialogs; a refusal
stays in the dialog beside its field; the statistics page shows the month's cases."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QMessageBox

from mzdesk.models import cases
from mzdesk.ui.cases_page import CasesPage
from mzdesk.ui.stats_dashboard import StatsDashboard

pytestmark = pytest.mark.gui
D = dt.date


@pytest.fixture(autouse=True)
def no_message_boxes(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError(f"a message box was shown: {a[1:3]}")

    for name in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, refuse)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)


@pytest.fixture
def page(qtbot, store, family):
    p = CasesPage(store)
    qtbot.addWidget(p)
    p.show()
    return p


def test_a_case_through_the_page(qtbot, page, store, family):
    dlg = page.add_clicked()
    w = dlg.widgets
    w["household"].setText(str(family.id))
    assert w["member"].count() == 3  # 全户 and the two members
    w["member"].setCurrentIndex(2)
    w["kind"].setCurrentIndex(w["kind"].findData("temporary"))
    w["case_type"].setCurrentIndex(w["case_type"].findData("urgent"))
    w["cause"].setCurrentIndex(w["cause"].findData("accident"))
    w["amount"].setText("12000000")  # over the 100,000 元 cap: refused beside the field
    w["applied_on"].setText("2026-11-02")
    assert not dlg.try_accept()
    assert dlg.errors["amount"].isVisible() and dlg.isVisible()
    w["amount"].setText("800")
    assert dlg.try_accept()
    (c,) = cases.list_cases(store)
    assert (c.name, c.stat_key, c.amount_fen, c.state) == (
        "李四妹",
        "临时救助-急难型",
        80000,
        "pending",
    )
    assert page.model.rowCount() == 1 and page.current().id == c.id
    assert page.decide_btn.isEnabled() and not page.document_btn.isEnabled()
    # 小额先行: paid before the decision, then the documents
    pay = page.pay_clicked()
    pay.widgets["on"].setText("2026-11-03")
    assert pay.try_accept()
    assert cases.get(store, c.id).state == "awaiting_documents"
    assert "待补材料 1 件" in page.summary.text()
    doc = page.document_clicked()
    doc.widgets["on"].setText("2026-11-01")  # before the payment: refused beside the date
    assert not doc.try_accept() and doc.errors["on"].isVisible()
    doc.widgets["on"].setText("2026-11-20")
    assert doc.try_accept()
    assert cases.get(store, c.id).state_label == "已发放"


def test_a_refusal_needs_its_reason_in_the_dialog(qtbot, page, store, family):
    c = cases.add(store, family.id, "medical", applied_on=D(2026, 11, 2), amount_fen=50000)
    page.refresh()
    page.select(c.id)
    dlg = page.decide_clicked()
    dlg.widgets["decision"].setCurrentIndex(dlg.widgets["decision"].findData("refused"))
    dlg.widgets["on"].setText("2026-11-05")
    assert not dlg.try_accept()
    assert "理由" in dlg.errors["note"].text()
    dlg.widgets["note"].setText("已享受其他救助")
    assert dlg.try_accept()
    assert cases.get(store, c.id).state_label == "不予救助"
    assert not page.pay_btn.isEnabled()


def test_the_statistics_page_shows_the_months_cases(qtbot, store, family):
    c = cases.add(store, family.id, "medical", applied_on=D(2026, 11, 2), amount_fen=50000)
    cases.decide(store, c.id, "approved", on=D(2026, 11, 3))
    cases.pay(store, c.id, on=D(2026, 11, 4))
    dash = StatsDashboard(store, month=D(2026, 11, 1))
    qtbot.addWidget(dash)
    rows = {
        dash.cases_table.item(r, 0).text(): [
            dash.cases_table.item(r, i).text() for i in range(1, 4)
        ]
        for r in range(dash.cases_table.rowCount())
    }
    assert rows["医疗救助"] == ["1", "500.00", "500.00"]
    assert rows["临时救助-急难型"] == ["0", "0.00", "0.00"]
