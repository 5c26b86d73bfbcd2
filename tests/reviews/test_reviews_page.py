"""The 复核与核查 page: open and close the round, record a survival check, confirm a stop
proposal, set a review plan and the 民主评议 setting, each through its dialog."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QMessageBox

from mzdesk.models import enrolment as enr
from mzdesk.models import notice_rules as nr
from mzdesk.models import reviews, survival
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.ui.reviews_page import ReviewsPage
from tests.reviews.conftest import active, county_sets, elderly

pytestmark = pytest.mark.gui
DAY = dt.date(2027, 7, 5)


@pytest.fixture
def page(qtbot, store, family, single, clock, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    clock(DAY)
    p = ReviewsPage(store, today=DAY)
    p.warnings = warnings
    p.dibao = active(store, family.id)
    p.old = elderly(store, single)
    p.refresh()
    qtbot.addWidget(p)
    p.resize(1000, 640)
    p.show()
    return p


def test_round_opens_shows_progress_and_closes(page, store, tmp_path):
    assert page.round_label.text() == "尚未开启年度全面核查。"
    dlg = page.open_round()
    dlg.widgets["on"].setText("2027-07-01")
    assert dlg.try_accept()
    assert page.round_table.model().rowCount() == 2
    assert "共2条，已复核0条，未复核2条" in page.round_label.text()
    dlg = page.open_round()  # the same year again: refused beside the year, dialog stays
    assert not dlg.try_accept() and "已经开启过" in dlg.errors["year"].text()
    dlg.reject()
    enr.review(store, page.dibao.id, "keep", today=DAY)
    page.refresh()
    page.pending_only.setChecked(True)
    assert page.round_table.model().rowCount() == 1
    page.tabs.setCurrentIndex(0)
    page.grab().save(str(tmp_path / "round.png"))
    dlg = page.close_round()
    assert not dlg.try_accept() and "还有1条记录未复核" in dlg.summary.problems[0].message
    dlg.widgets["force"].setChecked(True)
    assert dlg.try_accept()
    assert "已于2027-07-05结束" in page.round_label.text()
    assert not page.close_btn.isEnabled()


def test_survival_check_and_stop_proposal(page, store):
    assert page.due_table.model().rowCount() == 1  # 2027-H2: the 高龄 recipient
    assert page.proposal_table.model().rowCount() == 1  # 2027-H1 missed
    dlg = page.record_check()
    assert dlg.widgets["enrolment"].value() == page.old.id
    dlg.widgets["on"].setText("2027-08-01")  # in the future: refused beside the date
    assert not dlg.try_accept() and dlg.errors["on"].text()
    dlg.widgets["on"].setText("2027-07-02")
    dlg.widgets["method"].setCurrentIndex(dlg.widgets["method"].findData("video"))
    assert dlg.try_accept()
    assert page.due_table.model().rowCount() == 0
    assert [c["method"] for c in survival.checks(store, page.old.id)] == ["video"]
    dlg = page.confirm_stop()
    assert dlg.try_accept()
    assert enr.get(store, page.old.id).state == "stopped"
    assert page.proposal_table.model().rowCount() == 0 and not page.stop_btn.isEnabled()
    assert page.warnings == []


def test_plan_and_deliberation_setting(page, store, family):
    dlg = page.set_plan()
    dlg.widgets["household"].setValue(family.id)
    dlg.widgets["stability"].setCurrentIndex(dlg.widgets["stability"].findData("unstable"))
    assert dlg.try_accept()
    assert reviews.plan(store, family.id)["months"] == 3
    dlg = page.set_plan()
    dlg.widgets["household"].setValue(9999)
    assert not dlg.try_accept() and "没有编号为 9999 的家庭" in dlg.errors["household"].text()
    dlg.reject()
    assert not page.mode_btn.isEnabled()  # a township receives the county's setting
    county_sets(store, "off")
    page.refresh()
    assert "不评议" in page.mode_label.text()


def test_the_county_sets_deliberation_on_its_page(qtbot, tmp_path):
    county = Store.open(tmp_path / "county.sqlite", operator="县审核员")
    init_site(county, "341623", "县民政局", "county")
    p = ReviewsPage(county, today=DAY)
    qtbot.addWidget(p)
    assert p.mode_btn.isEnabled()
    dlg = p.set_mode()
    assert dlg.widgets["mode"].currentData() == "case"
    dlg.widgets["mode"].setCurrentIndex(dlg.widgets["mode"].findData("on"))
    assert dlg.try_accept()
    assert nr.deliberation_mode(county) == "on" and "一律评议" in p.mode_label.text()
    county.close()


def test_double_click_opens_the_household(page, qtbot, single):
    with qtbot.waitSignal(page.householdActivated) as got:
        page.due_table.doubleClicked.emit(page.due_table.model().index(0, 0))
    assert got.args == [single.id]


def test_flag_deliberation_from_the_page(page, store, family):
    e = enr.create(store, family.id, "urban_dibao", cls="二类", monthly_fen=1000)
    dlg = page.flag()
    dlg.widgets["enrolment"].setValue(e.id)
    dlg.widgets["reason"].setText("收入接近保障标准")
    assert dlg.try_accept()
    assert nr.deliberation_flagged(store, e.id)
    dlg = page.flag()
    dlg.widgets["enrolment"].setValue(page.dibao.id)  # 在保: too late to tick
    assert not dlg.try_accept() and "不能再标记" in dlg.errors["enrolment"].text()


def test_the_work_queues_have_the_calendar_tabs(qtbot, store, single, clock):
    from mzdesk.ui.work_queues import WorkQueues

    clock(DAY)
    elderly(store, single)
    w = WorkQueues(store, today=DAY)
    qtbot.addWidget(w)
    tabs = [w.tabs.tabText(i) for i in range(w.tabs.count())]
    assert "待生存认证 (1)" in tabs and "年度核查待复核 (0)" in tabs
