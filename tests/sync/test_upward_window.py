"""The window of a province receiver (issue 25, item 4): a read view of what its counties
forwarded — the households list, statistics and the data exchange page, no township work
pages (notices, 入户, runs)."""

from __future__ import annotations

import os
from pathlib import Path

from .test_upward import region

SHOT = Path(__file__).resolve().parents[2] / "docs" / "province-window.png"


def test_a_province_window_shows_the_forwarded_households_to_read(qtbot, tmp_path):
    from mzdesk.ui.main_window import MainWindow

    r = region(tmp_path)
    win = MainWindow(r.province.store)
    qtbot.addWidget(win)
    win.resize(1366, 728)
    titles = [win.tabs.tabText(i) for i in range(win.tabs.count())]
    assert titles == ["家庭档案", "统计", "数据交换"]
    total = r.province.store.scalar("SELECT count(*) FROM households")
    assert total == 4 * 6
    qtbot.waitUntil(lambda: win.households.model.rowCount() == total, timeout=5000)
    if os.environ.get("MZDESK_SCREENSHOTS"):
        win.show()
        qtbot.waitExposed(win)
        win.grab().save(str(SHOT))


def test_the_first_run_dialog_offers_city_and_province_without_a_demo(qtbot, tmp_path):
    from mzdesk.app import FirstRunDialog

    dlg = FirstRunDialog(tmp_path / "p.sqlite")
    qtbot.addWidget(dlg)
    roles = [dlg.role.itemData(i) for i in range(dlg.role.count())]
    assert roles[-2:] == ["city", "province"]
    dlg.role.setCurrentIndex(roles.index("province"))
    assert not dlg.demo.isChecked() and not dlg.demo.isEnabled()
    dlg.code.setText("34")
    dlg.name.setText("安徽省民政厅")
    dlg.accept()
    assert dlg.values() == ("34", "安徽省民政厅", "province") and not dlg.error.text()
    dlg.role.setCurrentIndex(roles.index("county"))
    assert dlg.demo.isEnabled()
