"""A save that fails tells the clerk what, where and why; a typed name gets its extension."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from mzdesk.models.registry import Registry
from mzdesk.ui.stats_dashboard import StatsDashboard
from mzdesk.ui.worker import Task
from tests.helpers import household, make_id

pytestmark = pytest.mark.gui


@pytest.fixture
def warnings(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    return shown


def answer_save_dialog(monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def test_stats_pdf_to_a_missing_folder_is_reported(qtbot, store, tmp_path, warnings):
    page = StatsDashboard(store)
    qtbot.addWidget(page)
    out = tmp_path / "没有这个文件夹" / "统计.pdf"
    assert page.export("pdf", str(out)) is None
    assert len(warnings) == 1
    assert str(out) in warnings[0] and "文件夹不存在" in warnings[0]


def test_stats_excel_name_typed_without_extension_gets_it(qtbot, store, tmp_path, monkeypatch):
    page = StatsDashboard(store)
    qtbot.addWidget(page)
    answer_save_dialog(monkeypatch, tmp_path / "统计")
    assert page.export("xlsx") == str(tmp_path / "统计.xlsx")
    assert (tmp_path / "统计.xlsx").is_file() and not (tmp_path / "统计").exists()


def test_blank_checklist_to_a_missing_folder_is_reported(
    qtbot, store, tmp_path, monkeypatch, warnings
):
    from mzdesk.ui.visits_panel import VisitsPanel

    h = Registry(store).save(household("红旗村", ("李四", "户主", make_id("19700101", 5))))
    panel = VisitsPanel(store, h.id)
    qtbot.addWidget(panel)
    out = tmp_path / "nope" / "空白.pdf"
    answer_save_dialog(monkeypatch, out)
    panel._print_blank()
    assert len(warnings) == 1 and str(out) in warnings[0] and "空白核查表" in warnings[0]


def test_a_file_error_in_a_worker_is_explained(qtbot, store, tmp_path):
    out = tmp_path / "nope" / "x.xlsx"

    def job(_store, _progress, _cancel):
        out.write_bytes(b"")

    task = Task(None, "导出", store, job, show_dialog=False)
    with qtbot.waitSignal(task.error, timeout=5000) as failed:
        task.start()
    code, message = failed.args
    assert code == "os_error" and str(out) in message and "文件夹不存在" in message
