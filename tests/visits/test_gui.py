"""GUI: fill a checklist through the generated form, save, reopen, print."""

from __future__ import annotations

import subprocess

import pytest
from PIL import Image
from PySide6.QtWidgets import QCheckBox, QMessageBox, QRadioButton

from mzdesk.models.visits import Visits, list_tasks

pytestmark = pytest.mark.gui


def pdftext(path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def tick(form, key: str, value: str) -> None:
    """Choose ``value`` for a check item the way a user does: click its radio button."""
    for b in form.editors[key].focusables:
        if isinstance(b, QRadioButton) and b.text() == value:
            b.click()
            return
    raise AssertionError(f"no option {value} for {key}")


def test_fill_save_reopen_print(qtbot, store, village, today, tmp_path):
    from mzdesk.ui.visit_dialog import VisitDialog

    hid = village[0]
    dlg = VisitDialog(store, hid, today=today)
    qtbot.addWidget(dlg)
    form = dlg.form
    # the generated form: a radio per result, the conditional note hidden until 不符合
    assert isinstance(form.editor("members_present").findChild(QCheckBox), QCheckBox)
    assert not form.is_shown("housing_note")
    for f in form.template.check_fields():
        tick(form, f.key, "符合")
    tick(form, "housing", "不符合")
    assert form.is_shown("housing_note")
    form.editor("housing_note").insert("新建两层楼房")  # keyClicks is ASCII-only
    qtbot.keyClicks(form.editor("monthly_income"), "1,200.50")
    form.editors["members_present"].focusables[0].click()
    dlg.inv_edits[0].setText("王调查")
    dlg.conclusion_box.setCurrentText("情况有变化，需变更")
    img = tmp_path / "p.jpg"
    Image.new("RGB", (800, 600), (10, 120, 30)).save(img)
    assert dlg.add_photo_files([img]) == []

    # only one investigator: refused, nothing saved, the message is beside the field
    assert dlg.save() is False
    assert "两名" in dlg.errors["investigators"].text()
    assert store.scalar("SELECT count(*) FROM visits") == 0
    dlg.inv_edits[1].setText("赵核查")
    assert dlg.save() is True
    vid = dlg.visit.id

    again = VisitDialog(store, hid, vid, today=today)
    qtbot.addWidget(again)
    f2 = again.form
    assert f2.editors["housing"].get() == "不符合"
    assert f2.editor("housing_note").text() == "新建两层楼房"
    assert f2.editor("monthly_income").text() == "1200.50"
    assert [i.text() for i in again.inv_edits[:2]] == ["王调查", "赵核查"]
    assert len(again.photos()) == 1
    # 不符合 on housing, and the income differs from the registered 0 (consistency.py)
    assert [t["item_key"] for t in list_tasks(store, hid)] == ["housing", "income"]

    out = tmp_path / "visit.pdf"
    assert again.print_to(out) >= 1
    text = pdftext(out)
    assert "入户调查/核查表" in text and "新建两层楼房" in text and "王调查" in text
    assert "1200.50" in text and "调查人(签字)" in text and "户代表(签字)" in text
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True).stdout
    assert " no " not in fonts.split("\n", 2)[2]


def test_tab_order_follows_the_form(qtbot, store, village, today):
    from mzdesk.ui.visit_dialog import VisitDialog

    dlg = VisitDialog(store, village[0], today=today)
    qtbot.addWidget(dlg)
    order = dlg.form.focus_order()
    for a, b in zip(order[:12], order[1:13], strict=True):
        assert a.nextInFocusChain() is b or a.nextInFocusChain().focusProxy() is b


def test_booklet_dialog_table_and_conditions(qtbot, store, village, today, tmp_path):
    from mzdesk.ui.booklet_dialog import BookletDialog

    dlg = BookletDialog(store, village[0], today=today)
    qtbot.addWidget(dlg)
    f = dlg.form
    f.set_value("household_type", "农村低保户")
    f.set_value("difficulty_summary", "户主长期患病")
    f.set_value("causes", ["因病", "其他"])
    assert f.is_shown("causes_detail")
    f.set_value("helper_name", "陈干部")
    f.set_value("helper_phone", "13900000000")
    assert dlg.save() is False  # causes_detail required once 其他 is ticked
    assert "必填" in f.editors["causes_detail"].error.text()
    f.set_value("causes_detail", "子女上学")
    f.set_value("measures", [{"date": "2026-03-01", "measure": "送米面油"}])
    f.editors["measures"].table.insertRow(1)  # an empty row is ignored
    assert dlg.save() is True
    out = tmp_path / "b.pdf"
    dlg.print_to(out)
    text = pdftext(out)
    for s in (
        "关爱簿",
        "一、家庭基本情况",
        "农村低保",
        "680.00",
        "送米面油",
        "陈干部",
        "八、走访记录",
    ):
        assert s in text


def test_panel_lists_visits_and_closes_tasks(qtbot, store, village, today, full_answers):
    from mzdesk.models.visits import Visit
    from mzdesk.ui.visits_panel import TodayVisitsView, VisitsPanel

    Visits(store).save(
        Visit(
            village[0],
            today,
            ["王调查", "赵核查"],
            dict(full_answers, income="不符合", income_note="务工"),
            conclusion="建议复核",
        ),
        today,
    )
    panel = VisitsPanel(store, village[0], today=today)
    qtbot.addWidget(panel)
    assert panel.visits_table.rowCount() == 1 and panel.tasks_table.rowCount() == 1
    panel.tasks_table.selectRow(0)
    assert panel.close_selected("已启动复核")
    assert panel.tasks_table.item(0, 0).text() == "已完成"
    view = TodayVisitsView(store, today=today)
    qtbot.addWidget(view)
    assert view.done_table.rowCount() == 1 and "已入户 1 户" in view.title.text()


def test_village_batch_in_worker(qtbot, store, village, tmp_path):
    from mzdesk.ui.visits_panel import VillagePrintDialog

    dlg = VillagePrintDialog(store)
    qtbot.addWidget(dlg)
    dlg.village_box.setCurrentText("红旗村")
    out = tmp_path / "village.pdf"
    dlg.out_edit.setText(str(out))
    dlg.start()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=20000)
    assert out.exists() and pdftext(out).count("困难群众关爱工程") == 3


def test_escape_does_not_drop_a_filled_checklist(qtbot, store, village, today, monkeypatch):
    """Esc / 关闭 / the close button on a filled visit asks first; Cancel keeps it all."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from mzdesk.ui.visit_dialog import VisitDialog

    asked = []
    answers = iter([QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save])
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: (asked.append(a[1]), next(answers))[1]
    )
    dlg = VisitDialog(store, village[0], today=today)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)  # nothing typed yet: closes without asking
    assert not dlg.isVisible() and asked == []

    dlg.show()
    for f in dlg.form.template.check_fields():
        tick(dlg.form, f.key, "符合")
    dlg.form.editors["members_present"].focusables[0].click()
    dlg.inv_edits[0].setText("王调查")
    dlg.inv_edits[1].setText("赵核查")
    dlg.conclusion_box.setCurrentText("情况属实")
    qtbot.keyClick(dlg.inv_edits[1], Qt.Key.Key_Escape)
    assert dlg.isVisible() and len(asked) == 1  # Cancel: still open, nothing lost
    assert dlg.form.editors["housing"].get() == "符合"
    dlg.close()  # Save: saved, then closed
    assert not dlg.isVisible() and len(asked) == 2
    assert store.scalar("SELECT count(*) FROM visits") == 1


def test_escape_does_not_drop_booklet_edits(qtbot, store, village, today, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from mzdesk.ui.booklet_dialog import BookletDialog

    asked = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *a, **k: (asked.append(a[1]), QMessageBox.StandardButton.Cancel)[1],
    )
    dlg = BookletDialog(store, village[0], today=today)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.form.set_value("helper_name", "陈干部")
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert dlg.isVisible() and asked == ["未保存的关爱簿"]
    assert dlg.form.editor("helper_name").text() == "陈干部"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert not dlg.isVisible()


def test_visit_date_typed_the_usual_ways(qtbot, store, village, today):
    """2026/11/20 is read as a date; a date that is not one says what is wrong with it
    (it said 请填写入户日期, "fill in the date", beside a filled box)."""
    from mzdesk.ui.visit_dialog import VisitDialog

    dlg = VisitDialog(store, village[0], today=today)
    qtbot.addWidget(dlg)
    for f in dlg.form.template.check_fields():
        tick(dlg.form, f.key, "符合")
    dlg.form.editors["members_present"].focusables[0].click()
    dlg.inv_edits[0].setText("王调查")
    dlg.inv_edits[1].setText("赵核查")
    dlg.conclusion_box.setCurrentText("情况属实")
    dlg.date_edit.setText("2026-11-31")
    assert dlg.save() is False
    msg = dlg.errors["visit_date"].text()
    assert "2026-11-31" in msg and "年-月-日" in msg and "请填写" not in msg
    dlg.date_edit.setText("2026/11/20")
    assert dlg.save() is True
    assert Visits(store).get(dlg.visit.id).visit_date.isoformat() == "2026-11-20"
    assert dlg.date_edit.text() == "2026-11-20"


def test_member_boxes_of_a_big_household_fit_the_dialog(qtbot, store, registry, today):
    """Ten people present: every box is reachable without scrolling the checklist sideways."""
    from mzdesk.ui.visit_dialog import VisitDialog
    from tests.helpers import household, make_id

    names = [
        "欧阳明月",
        "司马长风",
        "诸葛青云",
        "上官飞燕",
        "慕容秋水",
        "东方不白",
        "令狐小冲",
        "独孤求败",
        "公孙大娘",
        "西门吹雪",
    ]
    people = [
        (n, "户主" if i == 0 else "子", make_id("19700101", i + 1)) for i, n in enumerate(names)
    ]
    hid = registry.save(household("红旗村", *people, village_group="一组"), today).id
    dlg = VisitDialog(store, hid, today=today)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    assert dlg.form.horizontalScrollBar().maximum() == 0
    boxes = dlg.form.editors["members_present"].focusables
    assert [b.text() for b in boxes] == names
    view = dlg.form.viewport().rect()
    for b in boxes:
        corner = b.mapTo(dlg.form.viewport(), b.rect().bottomRight())
        assert corner.x() <= view.right(), b.text()


def test_a_past_visit_keeps_who_was_present_after_they_left(
    qtbot, store, registry, village, full_answers, today, tmp_path
):
    """李红0 was present at the visit and has since left the household: reopening and
    saving the visit keeps her, shown as 已移出; printing it names her."""
    from mzdesk.models.visits import Visit
    from mzdesk.ui.visit_dialog import VisitDialog

    hid = village[0]
    h = registry.get(hid)
    spouse = next(m for m in h.members if m.name == "李红0")
    v = Visits(store).save(
        Visit(
            hid,
            today,
            ["王调查", "赵核查"],
            dict(full_answers, members_present=[spouse.uid]),
            conclusion="情况属实",
        ),
        today,
    )
    h.members = [m for m in h.members if m.uid != spouse.uid]
    registry.save(h, today)

    dlg = VisitDialog(store, hid, v.id, today=today)
    qtbot.addWidget(dlg)
    boxes = dlg.form.editor("members_present").findChildren(QCheckBox)
    assert [(b.text(), b.isChecked()) for b in boxes] == [
        ("张红0", False),
        ("李红0（已移出）", True),
    ]
    dlg.conclusion_box.setCurrentText("建议复核")
    assert dlg.save() is True, dlg.summary.text()
    assert Visits(store).get(v.id).answers["members_present"] == [spouse.uid]
    out = tmp_path / "c.pdf"
    assert dlg.print_to(out) >= 1
    assert "李红0（已移出）" in pdftext(out)

    # a new visit cannot name her: she is no longer in the household
    new = VisitDialog(store, hid, today=today)
    qtbot.addWidget(new)
    names = [b.text() for b in new.form.editor("members_present").findChildren(QCheckBox)]
    assert names == ["张红0"]


def test_county_reviewer_visits_the_spot_checked_households(qtbot, county, today, monkeypatch):
    """今日入户 on the county's database: the sampled households are listed, 开始入户 opens
    a 抽查复核 visit (the only kind offered), and saving it ticks the household off."""
    from mzdesk.models.spotcheck import draw_sample, save_sample, spot_check_progress
    from mzdesk.ui.visits_panel import TodayVisitsView

    s = save_sample(county, draw_sample(county, percent=10, seed=1))
    view = TodayVisitsView(county, today=today)
    qtbot.addWidget(view)
    assert view.todo_table.rowCount() == 2 and "全县抽查" in view.todo_table.item(0, 3).text()
    monkeypatch.setattr(
        QMessageBox,
        "question",  # a failing test must not block on a dialog
        lambda *a: QMessageBox.StandardButton.Discard,
    )
    view.todo_table.selectRow(0)
    dlg = view.start_selected()
    qtbot.addWidget(dlg)
    assert [dlg.kind_box.itemData(i) for i in range(dlg.kind_box.count())] == ["spot_check"]
    for f in dlg.form.template.check_fields():
        tick(dlg.form, f.key, "符合")
    dlg.form.editors["members_present"].focusables[0].click()
    dlg.inv_edits[0].setText("县局王")
    dlg.inv_edits[1].setText("县局赵")
    dlg.conclusion_box.setCurrentText("情况属实")
    assert dlg.save() is True, dlg.summary.text()
    assert spot_check_progress(county, s.id)["done"] == 1
    assert view.todo_table.rowCount() == 1
