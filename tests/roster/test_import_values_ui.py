"""The import dialog lists unrecognised values once and lets the clerk map them (issue 23)."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from mzdesk.ui.import_dialog import ImportDialog
from mzdesk.ui.import_values import VALUE_HEADERS
from tests.helpers import make_id


def wait(qtbot, dlg):
    qtbot.waitUntil(lambda: dlg.task is not None and not dlg.task.thread.isRunning(), timeout=20000)
    qtbot.wait(10)


def unknown_roster(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["青山镇城乡低保对象花名册"])
    ws.append(["序号", "村(社区)", "户主姓名", "身份证号码", "保障人口", "类别", "月保障金"])
    rows = [
        ("红旗村", "A类"),
        ("幸福社区", "丙类"),
        ("东风村", "丙类"),
        ("石桥", "C类"),
        ("红旗村", "丙类"),
    ]
    for i, (village, cls) in enumerate(rows, 1):
        ws.append([i, village, f"户主{i}", make_id(f"19{60 + i}0101", 20 + i), 1, cls, 400])
    wb.save(path)
    return path


@pytest.fixture
def dialog(qtbot, store, tmp_path):
    def make():
        dlg = ImportDialog(store, path=str(unknown_roster(tmp_path / "城乡.xlsx")))
        dlg.setProperty("quiet", True)
        qtbot.addWidget(dlg)
        return dlg

    return make


def test_unknown_values_are_listed_mapped_and_remembered(qtbot, store, dialog):
    dlg = dialog()
    dlg.check()
    wait(qtbot, dlg)
    table = dlg.values_table
    assert dlg.report["problem_counts"] == {"unknown_value": 2}
    assert not table.isHidden()
    rows = [
        tuple(table.item(r, c).text() for c in range(len(VALUE_HEADERS) - 1))
        for r in range(table.rowCount())
    ]
    assert rows == [("类别", "丙类", "3", "4"), ("村(社区)", "石桥", "1", "6")]
    assert dlg.import_btn.isEnabled()  # only those rows' enrolments would wait
    assert "暂不导入" in dlg.summary.text()
    table.choose(0, "三类")
    table.choose(1, "农村")
    dlg.check()
    wait(qtbot, dlg)
    assert dlg.report["problem_counts"] == {} and table.isHidden()
    dlg.do_import(confirm=False)
    wait(qtbot, dlg)
    got = store.conn.execute("SELECT category, class FROM enrolments ORDER BY id").fetchall()
    assert got == [
        ("rural_dibao", "一类"),
        ("urban_dibao", "三类"),
        ("rural_dibao", "三类"),
        ("rural_dibao", "三类"),
        ("rural_dibao", "三类"),
    ]
    # remembered with the layout: a new check of the same layout needs no choice
    again = dialog()
    again.check()
    wait(qtbot, again)
    assert again.report["problem_counts"] == {} and again.report["unchanged"] == 5


def test_screenshot(qtbot, store, dialog, tmp_path):
    """docs/roster-unknown-values.png: the dry run with the values to map."""
    dlg = dialog()
    dlg.check()
    wait(qtbot, dlg)
    dlg.values_table.choose(0, "三类")
    dlg.resize(1240, 700)
    dlg.show()
    qtbot.wait(50)
    out = tmp_path / "shot.png"
    assert dlg.grab().save(str(out))
    assert out.stat().st_size > 10_000
