"""pytest-qt: enrolment panel, work queues and the county review queue."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QMessageBox

from mzdesk.models import enrolment as enr
from mzdesk.models import notice as nt
from mzdesk.ui.county_review import CountyReview
from mzdesk.ui.enrolment_panel import EnrolmentPanel
from mzdesk.ui.work_queues import WorkQueues
from tests.enrolment.conftest import publicised, ready
from tests.reviews.conftest import county_sets

pytestmark = pytest.mark.gui
AFTER = dt.date(2026, 12, 8)


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: seen.append(a[2]))
    return seen


def test_panel_walks_the_lifecycle(qtbot, store, family, warnings):
    county_sets(store, "on")  # the county's 民主评议 setting (default 视情)
    p = EnrolmentPanel(store, family.id)
    qtbot.addWidget(p)
    assert p.list.rowCount() == 0 and not p.buttons["investigate"].isEnabled()
    assert p.apply("rural_dibao", cls="二类", monthly_fen=76000)
    assert p.list.rowCount() == 1 and p.list.item(0, 3).text() == "申请"
    assert p.buttons["investigate"].isEnabled() and not p.buttons["submit"].isEnabled()
    assert p.act("investigate")
    assert not p.act("record_investigation", investigators=["刘"], verification="通过")
    assert warnings == ["入户调查至少需要两名调查人员"]
    assert p.act("record_investigation", investigators=["刘", "陈"], verification="通过")
    assert p.note.text() == "尚不能公示：尚未进行民主评议"
    assert p.act("deliberate", attendance=9, result="同意")
    assert p.list.item(0, 3).text() == "评议" and p.note.text() == ""
    assert [p.history.item(i, 2).text() for i in range(p.history.rowCount())] == [
        "登记申请",
        "开始调查",
        "登记调查结果",
        "登记民主评议",
    ]
    assert p.history.item(0, 1).text() == "tester"
    assert not p.apply("rural_dibao")  # the second live 低保 is refused
    assert "同一人同一类别" in warnings[-1]


def test_panel_review_and_stop(qtbot, store, family, warnings, clock):
    e, _ = publicised(store, family.id)
    enr.submit(store, e.id, today=AFTER)
    enr.confirm(store, e.id, today=dt.date(2026, 12, 15))
    p = EnrolmentPanel(store, family.id)
    qtbot.addWidget(p)
    assert p.buttons["review"].isEnabled() and p.buttons["stop"].isEnabled()
    clock(dt.date(2027, 6, 1))  # the review six months on
    assert p.act(
        "review", outcome="change", monthly_fen=50000, reason="收入增加", today=dt.date(2027, 6, 1)
    )
    assert p.list.item(0, 5).text() == "500.00"
    assert not p.act("stop", reason="")
    clock(dt.date(2027, 8, 3))
    assert p.act("stop", reason="迁出", today=dt.date(2027, 8, 3))
    assert p.list.item(0, 3).text() == "停发" and not p.buttons["review"].isEnabled()


def test_work_queues_count_and_activate(qtbot, store, family, single):
    e = ready(store, family.id)
    enr.create(store, single.id, "tekun", member_id=single.members[0].id)
    w = WorkQueues(store, today=dt.date(2026, 11, 23))
    qtbot.addWidget(w)
    assert (w.count("investigate"), w.count("notice"), w.count("publicised")) == (1, 1, 0)
    assert w.tabs.tabText(0) == "待调查 (1)"
    nt.create_notice(store, nt.NoticeSpec(dt.date(2026, 12, 1), hotline="1"), enrolment_ids=[e.id])
    w.refresh()
    assert (w.count("notice"), w.count("publicised")) == (0, 1)
    with qtbot.waitSignal(w.householdActivated) as sig:
        t = w.tables["publicised"]
        t.doubleClicked.emit(t.model().index(0, 1))
    assert sig.args == [family.id]


def test_county_review_confirms_and_rejects(qtbot, store, family, single, warnings):
    a, nid = publicised(store, family.id)
    b, _ = publicised(
        store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理"
    )
    nt.close_objection(
        store,
        nt.add_objection(store, nid, a.id, "村民甲", "有车", dt.date(2026, 12, 2)),
        "核实",
        "不成立",
    )
    for e in (a, b):
        enr.submit(store, e.id, today=AFTER)
    w = CountyReview(store)
    qtbot.addWidget(w)
    assert w.list.rowCount() == 2 and "乡镇端" in w.banner.text()
    html = w.detail.toPlainText()
    assert "调查人" in html and "公示" in html
    first = w.current_id()
    assert not w.reject_selected("  ")
    assert warnings and "必须填写原因" in warnings[-1]
    assert w.confirm_selected(today=dt.date(2026, 12, 15))
    assert enr.get(store, first).state == "active" and w.list.rowCount() == 1
    assert w.reject_selected("有赡养人且有能力赡养", today=dt.date(2026, 12, 15))
    assert w.list.rowCount() == 0 and not w.confirm_btn.isEnabled()
    states = {enr.get(store, a.id).state, enr.get(store, b.id).state}
    assert states == {"active", "rejected"}


def test_panel_refuses_an_amount_above_the_cap(qtbot, store, family, warnings):
    """新申请 with 1,000,000,000 元 typed (an ID in the amount box): refused beside the
    amount, nothing recorded, the dialog stays open with what was typed."""
    p = EnrolmentPanel(store, family.id)
    qtbot.addWidget(p)
    dlg = p._apply_clicked()
    dlg.widgets["amount"].setText("1000000000")
    assert not dlg.try_accept()
    assert dlg.isVisible() and dlg.widgets["amount"].text() == "1000000000"
    assert "超过上限" in dlg.errors["amount"].text() and warnings == []
    assert store.scalar("SELECT count(*) FROM enrolments") == 0
    dlg.widgets["amount"].setText("760")
    assert dlg.try_accept() and not dlg.isVisible()
    assert p.list.rowCount() == 1 and p.list.item(0, 5).text() == "760.00"


def _details(w) -> dict[int, str]:
    shown = {}
    for row in range(w.list.rowCount()):
        w.list.selectRow(row)
        shown[w.current_id()] = w.detail.toPlainText()
    return shown


def test_county_review_shows_typed_text_verbatim(qtbot, store, family):
    """An objection reading "月收入<500元" is shown whole; it was cut at "<" (read as a tag)."""
    a, nid = publicised(store, family.id)
    oid = nt.add_objection(
        store, nid, a.id, "村民甲", "反映其月收入<500元不实，儿子有车", dt.date(2026, 12, 2)
    )
    nt.close_objection(store, oid, "入户核实 <车辆登记在女婿名下>", "不成立")
    enr.submit(store, a.id, today=AFTER)
    w = CountyReview(store)
    qtbot.addWidget(w)
    shown = _details(w)[a.id]
    assert "反映其月收入<500元不实，儿子有车" in shown
    assert "<车辆登记在女婿名下>" in shown


def test_county_review_flags_declared_relatives(qtbot, store, family, single):
    """The county visits every relative of staff and cadres: the review says who is one."""
    from mzdesk.models import relatives

    a, _ = publicised(store, family.id)
    b, _ = publicised(
        store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理"
    )
    relatives.declare(
        store, "王主任", "cadre", "红旗村", "张三丰", family.members[0].id_number, "parent"
    )
    for e in (a, b):
        enr.submit(store, e.id, today=AFTER)
    w = CountyReview(store)
    qtbot.addWidget(w)
    shown = _details(w)
    assert "近亲属备案对象：张三丰是村(居)委会成员王主任的父母" in shown[a.id]
    assert "近亲属备案" not in shown[b.id]
