"""The GUIs for what was command-line only (issue 24, item 6) and the confirmations
before irreversible steps (item 2): local categories, objections on a notice row, the
spot-check sample, 发布公示 / 注销 / 撤销导入 asking first and keeping what was typed.

Every message box is patched: a real modal one would hang the suite.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtWidgets import QMessageBox

from mzdesk.models import enrolment as enr
from mzdesk.models import notice as nt
from mzdesk.models.categories import categories
from mzdesk.models.spotcheck import draw_sample, list_spot_checks
from tests.enrolment.conftest import HOTLINE, TODAY, publicised, ready
from tests.helpers import household, make_id

pytestmark = pytest.mark.gui

YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
SAMPLE_XLSX = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "roster_sample.xlsx"


@pytest.fixture
def answer(monkeypatch):
    """``answer(YES/NO)``: what every question box says; returns the questions asked."""
    asked: list[str] = []

    def set_answer(button):
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or button)
        return asked

    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: asked.append(a[2]))
    return set_answer


@pytest.fixture
def notice_day(monkeypatch):
    monkeypatch.setattr("mzdesk.models.notice._today", lambda: TODAY)


@pytest.fixture
def families(registry, today):
    out = []
    for i, (name, v) in enumerate((("张三丰", "红旗村"), ("王老五", "东风村"), ("赵六", "红旗村"))):
        h = household(v, (name, "户主", make_id("19500101", i + 1)), village_group="一组")
        out.append(registry.save(h, today))
    return out


# -- local categories (地方类别) ------------------------------------------------------------
def test_local_categories_add_edit_retire_from_the_admin_menu(qtbot, store, answer):
    from mzdesk.ui.main_window import MainWindow

    win = MainWindow(store)
    qtbot.addWidget(win)
    admin = next(a.menu() for a in win.menuBar().actions() if a.text() == "管理(&M)")
    act = next(a for a in admin.actions() if a.text() == "地方类别")
    act.trigger()
    page = win.tabs.currentWidget()
    assert win.tabs.tabText(win.tabs.currentIndex()) == "地方类别"
    assert page.status.text() == "尚无地方类别"

    dlg = page.open_editor()
    qtbot.addWidget(dlg)
    dlg.widgets["code"].setText("县 补贴")  # not a code: refused beside the field, kept
    dlg.widgets["name"].setText("县困难群众补贴")
    assert not dlg.try_accept() and dlg.isVisible()
    assert dlg.errors["code"].isVisibleTo(dlg) and "字母" in dlg.errors["code"].text()
    assert dlg.widgets["name"].text() == "县困难群众补贴"
    dlg.widgets["code"].setText("county_aid")
    dlg.widgets["classes"].setText("一档、二档")
    assert dlg.try_accept()
    assert page.table.rowCount() == 1 and page.table.item(0, 1).text() == "县困难群众补贴"
    assert categories(store)["county_aid"]["classes"] == ["一档", "二档"]

    again = page.open_editor()  # 新增 with a code in use: refused, not overwritten
    qtbot.addWidget(again)
    again.widgets["code"].setText("county_aid")
    again.widgets["name"].setText("别的")
    assert not again.try_accept() and "已有" in again.errors["code"].text()
    again.reject()

    page.table.selectRow(0)
    edit = page.edit_selected()
    qtbot.addWidget(edit)
    assert edit.widgets["code"].isReadOnly()
    edit.widgets["review_months"].setValue(6)
    assert edit.try_accept()
    assert categories(store)["county_aid"]["review_months"] == 6

    page.table.selectRow(0)
    asked = answer(NO)
    assert not page.toggle_retired()  # "No": nothing retired
    assert "停用" in asked[0] and not categories(store)["county_aid"].get("retired")
    answer(YES)
    assert page.toggle_retired()
    assert page.table.item(0, 6).text() == "已停用" and page.retire_btn.text() == "恢复使用"
    assert categories(store)["county_aid"]["retired"] is True


# -- objections (异议) on a notice row --------------------------------------------------------
def test_objection_recorded_investigated_and_upheld_on_the_notice_row(
    qtbot, store, families, notice_day, clock, answer
):
    from mzdesk.ui.notice_builder import NoticeBuilder

    e, nid = publicised(store, families[0].id)
    clock(dt.date(2026, 12, 3))
    w = NoticeBuilder(store)
    qtbot.addWidget(w)
    assert not w.objections_btn.isEnabled()  # no notice shown yet
    w.notice_id = nid
    w._set_state()
    assert w.objections_btn.isEnabled()
    dlg = w.open_objections()
    qtbot.addWidget(dlg)
    assert dlg.rows_table.item(0, 2).text() == "张三丰" and dlg.rows_table.item(0, 6).text() == "无"

    rec = dlg.record()
    qtbot.addWidget(rec)
    rec.widgets["raised_by"].setText("村民赵某")
    rec.widgets["raised_on"].setDate(dt.date(2026, 11, 20))  # before the notice: refused
    rec.widgets["content"].setText("该户有小轿车一辆")
    assert not rec.try_accept() and rec.errors["raised_on"].isVisibleTo(rec)
    assert rec.widgets["content"].text() == "该户有小轿车一辆"  # kept
    rec.widgets["raised_on"].setDate(dt.date(2026, 12, 2))
    assert rec.try_accept()
    assert dlg.rows_table.item(0, 6).text() == "1条未结（共1条）"
    assert dlg.obj_table.item(0, 3).text() == "该户有小轿车一辆"

    inv = dlg.investigate()
    qtbot.addWidget(inv)
    inv.widgets["follow_up"].setText("入户核实：车辆为本户所有")
    assert inv.try_accept()
    assert nt.objections(store, nid)[0]["state"] == "open"

    res = dlg.resolve()
    qtbot.addWidget(res)
    assert res.widgets["follow_up"].text() == "入户核实：车辆为本户所有"  # carried over
    res.widgets["outcome"].setCurrentIndex(res.widgets["outcome"].findData("upheld"))
    res.widgets["effect"].setCurrentIndex(res.widgets["effect"].findData("reject"))
    res.widgets["note"].setText("已告知异议人")
    asked = answer(NO)
    assert not res.try_accept() and res.isVisible()  # "No": nothing happens, all kept
    assert "不予确认" in asked[0] and "张三丰" in asked[0]
    assert enr.get(store, e.id).state == "publicised"
    assert res.widgets["note"].text() == "已告知异议人"
    answer(YES)
    assert res.try_accept()
    assert enr.get(store, e.id).state == "rejected"
    assert dlg.rows_table.item(0, 6).text() == "共1条，均已处理"
    assert dlg.rows_table.item(0, 5).text() == "不予确认"
    assert dlg.obj_table.item(0, 5).text().startswith("异议成立：已告知异议人")


# -- 发布公示 asks first ------------------------------------------------------------------------
def test_publish_asks_naming_the_count_and_no_publishes_nothing(
    qtbot, store, families, notice_day, answer
):
    from mzdesk.ui.notice_builder import NoticeBuilder

    a, b = ready(store, families[0].id), ready(store, families[1].id)
    w = NoticeBuilder(store)
    qtbot.addWidget(w)
    w.start.setDate(dt.date(2026, 12, 1))
    w.hotline.setText(HOTLINE)
    w.preview()
    qtbot.waitUntil(lambda: w.publish_btn.isEnabled(), timeout=15000)
    asked = answer(NO)
    w.publish_btn.click()
    assert len(asked) == 1 and "2条保障记录" in asked[0] and "不能撤回" in asked[0]
    assert nt.list_notices(store) == []
    assert {enr.get(store, x.id).state for x in (a, b)} == {a.state}  # not moved
    assert w.publish_btn.isEnabled()  # the preview is still there to publish
    answer(YES)
    w.publish_btn.click()
    qtbot.waitUntil(lambda: w.notice_id is not None, timeout=15000)
    assert {enr.get(store, x.id).state for x in (a, b)} == {"publicised"}


# -- 注销 keeps the reason ----------------------------------------------------------------------
def test_deregistration_asks_and_keeps_the_typed_reason(qtbot, store, families, answer):
    from mzdesk.ui.main_window import MainWindow

    win = MainWindow(store)
    qtbot.addWidget(win)
    win.households.select_household(families[0].id)
    dlg = win.delete_current()
    qtbot.addWidget(dlg)
    assert not dlg.try_accept()  # no reason: said beside the field, still open
    assert dlg.errors["reason"].isVisibleTo(dlg)
    dlg.widgets["reason"].setText("全户迁出本乡镇")
    asked = answer(NO)
    assert not dlg.try_accept() and dlg.isVisible()
    assert "确定注销家庭" in asked[0]
    assert dlg.widgets["reason"].text() == "全户迁出本乡镇"  # not lost
    assert store.scalar("SELECT status FROM households WHERE id = ?", (families[0].id,)) == (
        "active"
    )
    answer(YES)
    assert dlg.try_accept()
    assert store.one(
        "SELECT status, status_reason FROM households WHERE id = ?", (families[0].id,)
    ) == {
        "status": "deleted",
        "status_reason": "全户迁出本乡镇",
    }


# -- 撤销导入 asks first ------------------------------------------------------------------------
def test_undo_of_an_import_asks_and_no_keeps_it(qtbot, store, answer):
    from mzdesk.roster.importer import batches, import_roster
    from mzdesk.ui.import_dialog import ImportDialog

    import_roster(store, SAMPLE_XLSX)
    before = store.scalar("SELECT count(*) FROM households WHERE status = 'active'")
    assert before
    dlg = ImportDialog(store)
    qtbot.addWidget(dlg)
    asked = answer(NO)
    dlg.undo_btn.setEnabled(True)
    dlg.undo_btn.click()
    assert len(asked) == 1 and "撤销" in asked[0]
    assert store.scalar("SELECT count(*) FROM households WHERE status = 'active'") == before
    assert batches(store, 1)[0]["state"] == "applied"
    answer(YES)
    dlg.undo_btn.click()
    assert store.scalar("SELECT count(*) FROM households WHERE status = 'active'") == 0


# -- 抽查 ----------------------------------------------------------------------------------------
def test_spot_check_drawn_reproducibly_saved_exported_and_printed(
    qtbot, store, families, tmp_path, answer
):
    from mzdesk.ui.main_window import MainWindow

    win = MainWindow(store)
    qtbot.addWidget(win)
    visits = next(a.menu() for a in win.menuBar().actions() if a.text() == "入户核查(&V)")
    next(a for a in visits.actions() if a.text() == "抽查(&S)…").trigger()
    page = win.tabs.currentWidget()
    page.percent.setValue(50)
    page.seed.setValue(4242)
    first = page.draw()
    expected = draw_sample(store, 50, 4242, "", "", "village")
    assert [h["id"] for h in first.households] == [h["id"] for h in expected.households]
    assert page.table.rowCount() == len(expected.households) == 2  # 红旗村 1 of 2, 东风村 1 of 1
    again = page.draw()
    assert [h["id"] for h in again.households] == [h["id"] for h in first.households]
    assert "种子4242" in page.title.text() and "未保存" in page.title.text()

    sid = page.save()
    assert sid and list_spot_checks(store)[0]["total"] == 2
    assert not page.save_btn.isEnabled()
    assert page.table.item(0, 6).text() == "待核查"

    out = page.save_xlsx(tmp_path / "s.xlsx")
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert "种子4242" in rows[0][0] and rows[1][:3] == ("序号", "家庭编号", "户主姓名")
    assert {r[2] for r in rows[2:]} == {h["head_name"] for h in first.households}

    pdf = tmp_path / "s.pdf"
    assert page.save_checklists(pdf) >= 2
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert text.count("入户调查/核查表（空白）") == 2

    page.draw()  # a new draw, then reopen the saved one from the list
    page.open_saved(sid)
    assert page.sample.id == sid and "抽查编号" in page.title.text()
