"""GUI: booklet and checklist open filled from the records; the checklist shows the
register beside the items, and a difference becomes a follow-up task."""

from __future__ import annotations

import pytest

from mzdesk.models.visits import list_tasks
from tests.visits.test_gui import tick

pytestmark = pytest.mark.gui


def test_booklet_opens_with_type_and_causes(qtbot, store, registry, village, today):
    from mzdesk.ui.booklet_dialog import BookletDialog

    h = registry.get(village[0])
    h.causes = ["illness", "no_labour"]
    registry.save(h, today)
    dlg = BookletDialog(store, village[0], today=today)
    qtbot.addWidget(dlg)
    a = dlg.form.answers()
    assert a["household_type"] == "农村低保户"
    assert a["causes"] == ["因病", "缺劳力"]


def test_checklist_difference_becomes_task(qtbot, store, registry, village, today):
    from mzdesk.ui.visit_dialog import VisitDialog

    h = registry.get(village[0])
    h.housing_area_m2 = 60
    registry.save(h, today)
    dlg = VisitDialog(store, village[0], today=today)
    qtbot.addWidget(dlg)
    assert dlg.form.validate(today)[0]["housing_area"] == 60
    assert "60平方米" in dlg.registered.text()
    for f in dlg.form.template.check_fields():
        tick(dlg.form, f.key, "符合")
    dlg.form.editors["members_present"].focusables[0].click()
    dlg.form.set_value("housing_area", 120)
    dlg._show_registered()
    assert "核查120平方米" in dlg.registered.text()
    dlg.inv_edits[0].setText("王调查")
    dlg.inv_edits[1].setText("赵核查")
    dlg.conclusion_box.setCurrentText(dlg.conclusion_box.itemText(1))
    assert dlg.save() is True
    titles = [t["title"] for t in list_tasks(store)]
    assert "核实与登记不一致：住房情况" in titles
    assert "已生成待办任务" in dlg.summary.text()
