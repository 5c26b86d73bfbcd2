"""The intake flow a clerk goes through, driven through the real widgets."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from mzdesk.models.registry import Registry
from mzdesk.ui.household_dialog import COL, HouseholdDialog
from mzdesk.ui.main_window import MainWindow
from tests.helpers import household, make_id

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def discard_on_teardown(monkeypatch):
    """A dialog left dirty by a test must not block teardown with a modal question."""
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)


@pytest.fixture
def window(qtbot, store):
    Registry(store).save(household("东风村", ("李四", "户主", make_id("19700101", 5))))
    w = MainWindow(store)
    qtbot.addWidget(w)
    w.show()
    return w


def set_member(dlg: HouseholdDialog, row: int, name: str, relation: str, id_number: str):
    t = dlg.table
    t.item(row, COL["name"]).setText(name)
    t.item(row, COL["relation"]).setText(relation)
    t.item(row, COL["id_number"]).setText(id_number)


def list_names(window: MainWindow) -> list[str]:
    m = window.households.model
    return [m.index(r, 1).data() for r in range(m.rowCount())]


def test_create_reopen_find_edit(qtbot, window, store):
    dlg = window.new_household()
    qtbot.addWidget(dlg)
    dlg.fields["village"].setCurrentText("红旗村")
    dlg.fields["village_group"].setText("三组")
    dlg.fields["phone"].setText("13800001234")
    dlg.activateWindow()
    qtbot.waitUntil(dlg.isActiveWindow, timeout=2000)  # shortcuts act in the active window
    # the first row is there, as 户主; add two more with the keyboard shortcut
    qtbot.keyClick(dlg, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(dlg, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert dlg.table.rowCount() == 3
    set_member(dlg, 0, "张三丰", "户主", make_id("19600101", 11))
    set_member(dlg, 1, "王芳", "配偶", make_id("19620202", 12))
    set_member(dlg, 2, "张小明", "子", "  " + make_id("19900303", 13).replace("1", "１") + " ")
    with qtbot.waitSignal(dlg.saved, timeout=3000) as saved:
        qtbot.keyClick(dlg, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    hid = saved.args[0]
    assert not dlg.isVisible()

    # the list shows and selects the new household
    assert window.households.current_household_id() == hid
    # reopen: everything came back, the full-width ID was normalised
    again = window.edit_household(hid)
    qtbot.addWidget(again)
    assert again.fields["village"].currentText() == "红旗村"
    assert [again.table.item(r, COL["name"]).text() for r in range(3)] == [
        "张三丰",
        "王芳",
        "张小明",
    ]
    assert again.table.item(2, COL["id_number"]).text() == make_id("19900303", 13)
    assert again.table.item(0, COL["gender"]).text() == "男"
    assert again.table.item(1, COL["birth_date"]).text() == "1962-02-02"
    again.done(0)

    # find it by pinyin initials, while typing
    window.households.search.setText("zsf")
    qtbot.waitUntil(lambda: window.households.model.rowCount() == 1, timeout=2000)
    assert window.households.model.household_id(0) == hid
    window.households.search.setText("zhangsanfeng")
    qtbot.waitUntil(lambda: list_names(window) == ["张三丰"], timeout=2000)

    # edit: add a fourth member; the list updates its member count
    dlg2 = window.edit_household(hid)
    qtbot.addWidget(dlg2)
    dlg2.add_member(focus=False)
    set_member(dlg2, 3, "张小红", "女", make_id("19950505", 14))
    with qtbot.waitSignal(dlg2.saved, timeout=3000):
        assert dlg2.save()
    m = window.households.model
    row = m.row_of(hid)
    assert m.index(row, 6).data() == "4"
    assert Registry(store).get(hid).members[3].name == "张小红"


def test_inline_errors_and_id_in_other_household(qtbot, window):
    dlg = window.new_household()
    qtbot.addWidget(dlg)
    dlg.fields["village"].setCurrentText("红旗村")
    bad = make_id("19800101", 21)
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")
    set_member(dlg, 0, "赵六", "户主", bad)
    dlg.validate_now()
    item = dlg.table.item(0, COL["id_number"])
    assert "校验" in item.toolTip()
    # an ID already active in 李四's household: the error names that household
    set_member(dlg, 0, "赵六", "户主", make_id("19700101", 5))
    assert not dlg.save()
    tip = dlg.table.item(0, COL["id_number"]).toolTip()
    assert "李四" in tip and "东风村" in tip
    assert dlg.isVisible()


def test_household_field_error_shown_beside_field(qtbot, window):
    dlg = window.new_household()
    qtbot.addWidget(dlg)
    set_member(dlg, 0, "孙七", "户主", make_id("19800101", 31))
    dlg.fields["phone"].setText("12ab")
    assert not dlg.save()
    assert dlg.errors["village"].isVisibleTo(dlg)
    assert "必填" in dlg.errors["village"].text()
    assert "电话" in dlg.errors["phone"].text()


def test_savings_are_saved_on_create_and_edit(qtbot, window, store):
    dlg = window.new_household()
    qtbot.addWidget(dlg)
    dlg.fields["village"].setCurrentText("红旗村")
    dlg.fields["savings_fen"].setText("3000.00")
    set_member(dlg, 0, "孙大海", "户主", make_id("19650101", 31))
    with qtbot.waitSignal(dlg.saved, timeout=3000) as saved:
        assert dlg.save()
    hid = saved.args[0]
    assert Registry(store).get(hid).savings_fen == 300000
    again = window.edit_household(hid)
    qtbot.addWidget(again)
    assert again.fields["savings_fen"].text() == "3000.00"
    again.fields["savings_fen"].setText("5000")
    assert again.save()
    assert Registry(store).get(hid).savings_fen == 500000


def test_unsaved_changes_guard(qtbot, window, monkeypatch):
    dlg = window.new_household()
    qtbot.addWidget(dlg)
    dlg.fields["village"].setCurrentText("红旗村")
    answers = iter([QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: next(answers))
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert dlg.isVisible()  # Cancel: stays open, nothing lost
    assert dlg.fields["village"].currentText() == "红旗村"
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert not dlg.isVisible()  # Discard: closed


def test_delete_asks_for_reason_and_keeps_record(qtbot, window, store, monkeypatch):
    hid = window.households.current_household_id()
    dlg = window.delete_current()
    qtbot.addWidget(dlg)
    dlg.reject()
    assert window.households.model.rowCount() == 1  # cancelled: nothing happened
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dlg = window.delete_current()
    qtbot.addWidget(dlg)
    dlg.widgets["reason"].setText("迁出本乡镇")
    assert dlg.try_accept()
    assert window.households.model.rowCount() == 0
    window.households.status.setCurrentIndex(window.households.status.findData("deleted"))
    assert window.households.model.household_id(0) == hid
    assert store.scalar("SELECT status_reason FROM households WHERE id = ?", (hid,))


def test_delete_of_a_household_being_paid_says_why_before_asking(qtbot, window, store, monkeypatch):
    import datetime as dt

    from mzdesk.models import enrolment as enr

    hid = window.households.current_household_id()
    e = enr.create(store, hid, "rural_dibao", cls="二类", monthly_fen=52000)
    store.conn.execute(
        "UPDATE enrolments SET state = 'active', start_on = ? WHERE id = ?",
        (dt.date(2027, 1, 1).isoformat(), e.id),
    )
    seen = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: seen.append(a[2]))
    assert window.delete_current() is None  # no reason asked for a deletion that cannot happen
    assert len(seen) == 1 and "农村低保 二类" in seen[0] and "停发" in seen[0]
    assert window.households.model.rowCount() == 1
    assert store.scalar("SELECT status FROM households WHERE id = ?", (hid,)) == "active"


def test_filters_and_sort(qtbot, store):
    from mzdesk.models.demo import generate_demo

    generate_demo(store, 300, seed=3)
    w = MainWindow(store)
    qtbot.addWidget(w)
    page = w.households
    total = page.model.rowCount()
    assert total == 300
    village = page.village.itemData(1)
    page.village.setCurrentIndex(1)
    assert 0 < page.model.rowCount() < total
    assert all(page.model.index(r, 3).data() == village for r in range(page.model.rowCount()))
    page.village.setCurrentIndex(0)
    page.view.sortByColumn(6, Qt.SortOrder.DescendingOrder)
    counts = [int(page.model.index(r, 6).data()) for r in range(page.model.rowCount())]
    assert counts == sorted(counts, reverse=True)


def test_deleted_household_opens_read_only_with_its_members(qtbot, window, store, monkeypatch):
    hid = window.households.current_household_id()
    Registry(store).delete(hid, "迁出本乡镇")
    dlg = window.edit_household(hid)
    qtbot.addWidget(dlg)
    assert "已注销" in dlg.windowTitle()
    assert "迁出本乡镇" in dlg.banner.text() and dlg.banner.isVisibleTo(dlg)
    assert dlg.table.rowCount() == 1
    assert dlg.table.item(0, COL["name"]).text() == "李四"
    assert dlg.table.item(0, COL["id_number"]).text() == make_id("19700101", 5)
    assert not dlg.save_btn.isVisibleTo(dlg)
    assert dlg.fields["phone"].isReadOnly()
    dlg.add_member()
    assert dlg.table.rowCount() == 1
    rev = store.scalar("SELECT rev FROM households WHERE id = ?", (hid,))
    assert not dlg.save()
    assert dlg.members_error.text() == ""
    assert store.scalar("SELECT rev FROM households WHERE id = ?", (hid,)) == rev
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("asked"))
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert not dlg.isVisible()  # nothing to lose, no question
