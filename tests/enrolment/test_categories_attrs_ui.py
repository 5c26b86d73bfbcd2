"""The 特困 panel on the enrolment tab: shown for 特困 only, saves 集中/分散 with the
institution or the carer, shows the care amount of the chosen self-care level, and fits
a 1366×768 screen inside the household dialog."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QMessageBox

from mzdesk.models import enrolment as enr
from mzdesk.models import support
from mzdesk.ui.enrolment_panel import EnrolmentPanel
from mzdesk.ui.household_dialog import HouseholdDialog
from mzdesk.ui.pages import household_tabs
from tests.helpers import make_id

pytestmark = pytest.mark.gui
CARER = make_id("19700505", 7)


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: seen.append(a[2]))
    return seen


def test_panel_shows_for_tekun_only_and_saves_the_carer(qtbot, store, single, family, warnings):
    enr.create(store, family.id, "rural_dibao", cls="二类")
    p = EnrolmentPanel(store, family.id)
    qtbot.addWidget(p)
    assert p.support.isHidden()  # 低保: no 供养方式
    e = enr.create(store, single.id, "tekun", member_id=single.members[0].id, cls="全自理")
    p = EnrolmentPanel(store, single.id)
    qtbot.addWidget(p)
    s = p.support
    assert not s.isHidden() and s.enrolment.id == e.id
    assert s.level.currentText() == "具备生活自理能力" and s.care_text() == "100.00 元/月"
    s.level.setCurrentIndex(s.level.findData("unable"))
    assert s.care_text() == "600.00 元/月"  # shown as soon as the level is chosen
    s.mode.setCurrentIndex(s.mode.findData("dispersed"))
    assert s.pages.currentIndex() == 1
    s.carer_name.setText("李照料")
    s.carer_id.setText("34162319700505007")  # 17 characters
    assert not s.save()
    assert warnings and "照料人身份证号应为18位" in warnings[-1]
    s.carer_id.setText(CARER)
    s.care_from.setText("2026-12-01")
    s.care_to.setText("2027-11-30")
    assert s.save()
    got = support.get(store, e.id)
    assert (got.mode, got.carer_name, got.carer_id_number) == ("dispersed", "李照料", CARER)
    assert (got.care_to, got.level, got.care_fen) == ("2027-11-30", "unable", 60000)
    assert p.list.item(0, 1).text() == "特困人员供养 全护理"  # the class follows the level
    s.mode.setCurrentIndex(s.mode.findData("concentrated"))
    assert s.pages.currentIndex() == 0
    s.institution.setText("青山镇敬老院")
    assert s.save()
    assert support.get(store, e.id).institution == "青山镇敬老院"


def test_level_is_read_only_once_active(qtbot, store, single, warnings):
    from tests.enrolment.conftest import publicised

    e, _ = publicised(
        store, single.id, category="tekun", member_id=single.members[0].id, cls="半自理"
    )
    enr.submit(store, e.id, today=dt.date(2026, 12, 8))
    enr.confirm(store, e.id, today=dt.date(2026, 12, 15))
    p = EnrolmentPanel(store, single.id)
    qtbot.addWidget(p)
    assert not p.support.level.isEnabled() and "复核" in p.support.level.toolTip()
    assert p.support.care_text() == "300.00 元/月"
    p.support.mode.setCurrentIndex(p.support.mode.findData("concentrated"))
    p.support.institution.setText("县福利院")
    assert p.support.save() and warnings == []
    enr.stop(store, e.id, today=dt.date(2026, 12, 20), reason="死亡")
    p.refresh()
    assert not p.support.save_btn.isEnabled() and not p.support.mode.isEnabled()
    assert p.support.institution.text() == "县福利院"  # still shown


def test_household_dialog_with_the_panel_fits_1366x768(qtbot, store, single):
    e = enr.create(store, single.id, "tekun", member_id=single.members[0].id, cls="半护理")
    support.save(store, e.id, "分散", carer_name="李照料", carer_id_number=CARER)
    dlg = HouseholdDialog(store, single.id)
    qtbot.addWidget(dlg)
    for title, panel in household_tabs(store, single.id, dlg):
        dlg.add_tab(title, panel)
    dlg.tabs.setCurrentIndex(1)
    dlg.resize(1366, 728)  # a 1366×768 screen under a taskbar
    dlg.show()
    panel = dlg.tabs.currentWidget().support
    assert panel.isVisible()
    # the whole dialog fits a 1366×728 work area (the 基本信息 tab scrolls; it asked for
    # 835 px before), the 特困 panel included
    assert dlg.minimumSizeHint().height() <= 728 and dlg.minimumSizeHint().width() <= 1366
    assert dlg.size().height() == 728  # not pushed past the screen by a minimum size
    for w in (panel.carer_name, panel.carer_id, panel.care_from, panel.save_btn):
        assert w.width() >= w.minimumSizeHint().width()  # nothing squeezed below its hint
