"""GUI: the 办理时限 tab of the work queues and the panel's 告知书 / 延期 entries."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from PySide6.QtWidgets import QMessageBox

from mzdesk.models import clocks, letters
from mzdesk.models import enrolment_states as states
from mzdesk.ui import letters_actions
from mzdesk.ui.enrolment_panel import EnrolmentPanel
from mzdesk.ui.work_queues import DEADLINES, WorkQueues


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: seen.append(a[2]))
    return seen


def test_deadlines_tab_lists_overdue_first_and_opens_the_household(qtbot, store, applied):
    w = WorkQueues(store, today=dt.date(2026, 11, 23))
    qtbot.addWidget(w)
    assert w.count(DEADLINES) == 1
    tab = w.tabs.indexOf(w.tables[DEADLINES])
    assert w.tabs.tabText(tab) == "办理时限 (1超期/1)"
    model = w.models[DEADLINES]
    assert model.index(0, 8).data() in (-2, "-2") and model.index(0, 9).data() == "已超期"
    with qtbot.waitSignal(w.householdActivated) as sig:
        t = w.tables[DEADLINES]
        t.doubleClicked.emit(t.model().index(0, 2))
    assert sig.args == [applied.household_id]
    w.today = dt.date(2026, 10, 12)  # long before the limit: not due yet, off the tab
    w.refresh()
    assert w.count(DEADLINES) == 0


def test_panel_extends_and_prints_a_letter(qtbot, store, applied, tmp_path, warnings, monkeypatch):
    p = EnrolmentPanel(store, applied.household_id)
    qtbot.addWidget(p)
    acts = p.letters.actions
    assert acts["accept"].isEnabled() and not acts["not_accept"].isEnabled()
    assert p.letters.extend_action.isEnabled()
    dlg = p.letters.extend_clicked()
    dlg.widgets["r"].setText("需核对外地房产")
    dlg.try_accept()
    assert clocks.extended(store, applied.id)["reason"] == "需核对外地房产"
    assert p.history.item(p.history.rowCount() - 1, 2).text() == "延期"
    states.not_accept(store, applied.id, "申请人户籍不在本镇", dt.date(2026, 10, 12))
    p.refresh(select=applied.id)
    assert p.letters.actions["not_accept"].isEnabled() and not p.letters.extend_action.isEnabled()
    out = tmp_path / "不予受理告知书.pdf"
    asked = []
    monkeypatch.setattr(letters_actions, "ask_save_path", lambda *a: asked.append(a[1]) or str(out))
    assert p.letters.print_letter("not_accept") == str(out)
    assert asked == ["保存不予受理告知书"] and warnings == []
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert "申请人户籍不在本镇" in text.replace("\n", "")
    assert letters.letters_given(store, applied.id)[0]["kind"] == "not_accept"
    assert p.history.item(p.history.rowCount() - 1, 2).text() == "书面告知"
    # a refusal is shown once, through ops
    assert p.letters.print_letter("stop", str(tmp_path / "s.pdf")) is None
    assert len(warnings) == 1 and "停发" in warnings[0]
