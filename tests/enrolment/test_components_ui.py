"""pytest-qt: the enrolment panel shows an amount's parts and runs the new states."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from mzdesk.models import enrolment as enr
from mzdesk.models.components import in_force, set_components
from mzdesk.ui.enrolment_panel import EnrolmentPanel
from tests.enrolment.test_components import active

pytestmark = pytest.mark.gui
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: seen.append(a[2]))
    return seen


def column(p: EnrolmentPanel, label: str) -> int:
    headers = [p.list.horizontalHeaderItem(i).text() for i in range(p.list.columnCount())]
    return headers.index(label)


def test_panel_shows_parts_and_runs_the_new_states(qtbot, store, family, single, warnings, clock):
    clock(dt.date(2027, 3, 10))
    e = active(store, family.id)
    set_components(store, e.id, {"base": 76000, "classified": 12000}, "2027-03", "重病")
    p = EnrolmentPanel(store, family.id)
    qtbot.addWidget(p)
    parts = p.list.item(0, column(p, "金额构成")).text()
    assert parts == "保障金 760.00 + 分类施保金 120.00"
    assert p.list.item(0, column(p, "金额(元)")).text() == "880.00"
    assert p.more["suspend"].isEnabled() and not p.more["resume"].isEnabled()
    assert not p.act("suspend", from_month="2027-04", reason="")
    assert "必须填写原因" in warnings[-1]
    assert p.act("suspend", from_month="2027-04", reason="外出务工，待核实")
    assert p.list.item(0, 3).text() == "暂停" and p.more["resume"].isEnabled()
    assert p.act("resume", from_month="2027-06", reason="已核实")
    assert p.history.item(p.history.rowCount() - 1, 2).text() == "恢复发放"
    assert p.act(
        "change_amount",
        parts={"base": 70000, "classified": 12000},
        from_month="2027-07",
        reason="收入增加",
    )
    assert p.list.item(0, column(p, "金额(元)")).text() == "820.00"
    assert p.history.item(p.history.rowCount() - 1, 2).text() == "减发"
    assert in_force(store, e.id, "2027-06") == {"base": 76000, "classified": 12000}
    # a 特困 person: 基本生活费 + 照料护理费, as the county names them
    t = enr.create(store, single.id, "tekun", member_id=single.members[0].id, cls="全护理")
    set_components(store, t.id, {"base": 65000, "care": 60000})
    q = EnrolmentPanel(store, single.id)
    qtbot.addWidget(q)
    q.resize(1300, 420)
    assert q.list.item(0, column(q, "金额构成")).text() == "基本生活费 650.00 + 照料护理费 600.00"
    assert q.more["not_accept"].isEnabled()
    p.resize(1300, 420)
    p.show()
    qtbot.waitExposed(p)
    image = p.grab()
    assert not image.isNull() and image.width() >= 1000
    if os.environ.get("MZDESK_SCREENSHOTS"):  # docs/enrolment-parts.png, looked at by a person
        image.save(str(DOCS / "enrolment-parts.png"))
