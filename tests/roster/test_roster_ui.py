"""The import dialog and the statistics dashboard, driven with pytest-qt (offscreen)."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from mzdesk.ui.import_dialog import PROBLEM_HEADERS, ImportDialog  # noqa: E402
from mzdesk.ui.stats_dashboard import StatsDashboard  # noqa: E402
from tests.helpers import make_id  # noqa: E402
from tests.roster.books import bad_check, member_per_row  # noqa: E402


def wait(qtbot, dlg):
    qtbot.waitUntil(lambda: dlg.task is not None and not dlg.task.thread.isRunning(), timeout=20000)
    qtbot.wait(10)


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.xlsx"
    member_per_row(
        path,
        [
            {
                "village": "甲村",
                "amount": 900,
                "members": [
                    ("甲", "户主", make_id("19600101", 1)),
                    ("乙", "配偶", bad_check(make_id("19610101", 2))),
                ],
            },
            {
                "village": "乙村",
                "amount": 300,
                "class": "C类",
                "members": [("丙", "户主", 341623196201010000)],
            },
        ],
        sheet="Sheet1",
    )
    return path


def test_check_adjust_mapping_export_import_undo(qtbot, store, roster, tmp_path):
    dlg = ImportDialog(store, path=str(roster))
    dlg.setProperty("quiet", True)
    qtbot.addWidget(dlg)
    dlg.check()
    wait(qtbot, dlg)
    # no category anywhere in this file: the clerk must say which one
    assert dlg.report["problem_counts"]["unknown_category"] == 2
    assert not dlg.import_btn.isEnabled()
    assert dlg.mapping.rowCount() == 10
    dlg.category.setCurrentIndex(dlg.category.findData("rural_dibao"))
    dlg.check()
    wait(qtbot, dlg)
    assert dlg.report["problem_counts"] == {"id_checksum": 1, "id_precision_lost": 1}
    assert dlg.import_btn.isEnabled()
    # nothing cut off: ID numbers whole, the explanation whole or in its tooltip
    dlg.show()
    view = dlg.problem_view
    for col in range(len(PROBLEM_HEADERS) - 1):
        assert view.columnWidth(col) >= view.sizeHintForColumn(col), PROBLEM_HEADERS[col]
    last = len(PROBLEM_HEADERS) - 1
    assert PROBLEM_HEADERS[last] == "说明"
    for r in range(dlg.problems.rowCount()):
        assert dlg.problems.item(r, last).toolTip() == dlg.problems.item(r, last).text()
    # the problem table sorts by any column
    dlg.problem_view.sortByColumn(4, dlg.problem_view.horizontalHeader().sortIndicatorOrder())
    labels = {dlg.proxy.index(r, 4).data() for r in range(dlg.proxy.rowCount())}
    assert labels == {
        "身份证号校验不通过：请对照证件逐位核对",
        "身份证号被Excel截断",
    }  # Chinese, not the codes
    assert (
        "身份证号校验不通过：请对照证件逐位核对 1处" in dlg.summary.text()
        and "id_" not in dlg.summary.text()
    )
    out = tmp_path / "problems.xlsx"
    dlg.export_problems(str(out))
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert (rows[0][5], rows[0][-1]) == ("问题", "问题代码") and len(rows) == 3
    assert {r[5] for r in rows[1:]} == labels
    assert {r[-1] for r in rows[1:]} == {"id_checksum", "id_precision_lost"}
    # unmap the amount column: the import then records no payments
    for r in range(dlg.mapping.rowCount()):
        if dlg.mapping.item(r, 2).text() == "月保障金(元)":
            combo = dlg.mapping.cellWidget(r, 3)
            combo.setCurrentIndex(combo.findData(""))
    assert dlg.overrides()["sheets"]["Sheet1"]["columns"]["J"] is None
    dlg.check()
    wait(qtbot, dlg)
    assert dlg.report["monthly_total_fen"] == 0
    with qtbot.waitSignal(dlg.imported, timeout=20000):
        dlg.do_import(confirm=False)
    assert store.scalar("SELECT count(*) FROM households WHERE status = 'active'") == 2
    assert store.scalar("SELECT count(*) FROM members WHERE id_pending = 1") == 2
    assert "新增 2 户" in dlg.summary.text()
    dlg.undo_last(confirm=False)
    assert store.scalar("SELECT count(*) FROM households WHERE status = 'active'") == 0
    assert "已撤销" in dlg.summary.text()


def test_unreadable_file_shows_the_reason(qtbot, store, tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    dlg = ImportDialog(store, path=str(bad))
    dlg.setProperty("quiet", True)
    qtbot.addWidget(dlg)
    dlg.check()
    wait(qtbot, dlg)
    assert "不是Excel" in dlg.summary.text()
    assert dlg.report is None and not dlg.import_btn.isEnabled()


def test_cancelled_import_changes_nothing(qtbot, store, roster):
    dlg = ImportDialog(store, path=str(roster))
    dlg.setProperty("quiet", True)
    qtbot.addWidget(dlg)
    dlg.category.setCurrentIndex(dlg.category.findData("rural_dibao"))
    dlg.check()
    wait(qtbot, dlg)
    dlg.do_import(confirm=False)
    dlg.task.cancel()
    wait(qtbot, dlg)
    if "已取消" in dlg.summary.text():
        assert store.scalar("SELECT count(*) FROM households") == 0
    else:  # finished before the cancel was seen: then it is complete, never partial
        assert store.scalar("SELECT count(*) FROM households") == 2


def test_stats_dashboard_figures_chart_and_exports(qtbot, store, roster, tmp_path):
    from mzdesk.roster.importer import import_roster

    import_roster(store, roster, mapping={"category": "rural_dibao"}, month=dt.date(2026, 11, 1))
    page = StatsDashboard(store, month=dt.date(2026, 11, 1))
    qtbot.addWidget(page)
    page.resize(900, 600)
    page.show()
    assert "农村低保对象2户" in page.summary.text()
    last = page.table.rowCount() - 1
    assert (
        page.table.item(last, 0).text() == "合计" and page.table.item(last, 4).text() == "1200.00"
    )
    assert len(page.chart.bars) == 2
    page.chart.grab()  # paints without error
    assert page.export("xlsx", str(tmp_path / "s.xlsx"))
    assert page.export("pdf", str(tmp_path / "s.pdf"))
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    page.month.setDate(page.month.date().addMonths(-3))
    assert "没有在保对象" in page.summary.text() and page.chart.bars == []


@pytest.mark.parametrize("place", ["full disk", "read-only folder"])
def test_stats_export_that_cannot_be_written_says_why_and_leaves_no_file(
    qtbot, store, roster, tmp_path, monkeypatch, place
):
    from PySide6.QtWidgets import QMessageBox

    from mzdesk.roster.importer import import_roster
    from tests.places import read_only_folder, small_disk

    import_roster(store, roster, mapping={"category": "rural_dibao"}, month=dt.date(2026, 11, 1))
    page = StatsDashboard(store, month=dt.date(2026, 11, 1))
    qtbot.addWidget(page)
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[1:3]))
    folder = tmp_path / "usb"
    folder.mkdir()
    if place == "full disk":
        where, reason = small_disk(folder), "磁盘空间不足"
    else:
        where, reason = read_only_folder(folder), "磁盘是只读的"
    with where:
        before = sorted(p.name for p in folder.iterdir())
        for kind, what in (("pdf", "统计PDF"), ("xlsx", "统计Excel")):
            out = folder / f"统计.{kind}"
            assert page.export(kind, str(out)) is None
            title, text = shown.pop()
            assert title == "保存失败" and f"{what}没有保存" in text
            assert f"位置：{out}" in text and f"原因：{reason}" in text, text
        assert sorted(p.name for p in folder.iterdir()) == before
