"""Short GUI actions (mzdesk.ui.ops): one busy cursor, one error dialog, one error path."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from mzdesk.models.errors import MzError
from mzdesk.models.money import parse_assistance
from mzdesk.ui import ops
from mzdesk.ui.worker import run_with_progress

pytestmark = pytest.mark.gui


@pytest.fixture
def dialogs(monkeypatch):
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append((a[1], a[2])))
    return shown


def cursor_shape():
    c = QApplication.overrideCursor()
    return None if c is None else c.shape()


def test_refused_action_shows_one_dialog_with_the_core_message(qtbot, dialogs):
    with pytest.raises(MzError) as expected:
        parse_assistance("一百块")  # the message the core gives for this input
    done = []
    outcome = ops.run(None, lambda: parse_assistance("一百块"), done.append, title="新申请")
    assert not outcome and outcome.error.message == expected.value.message
    assert dialogs == [("新申请", expected.value.message)]
    assert done == []
    assert cursor_shape() is None


def test_done_gets_the_result_under_a_busy_cursor_then_the_cursor_is_restored(qtbot, dialogs):
    during, done = [], []

    def action():
        during.append(cursor_shape())
        return parse_assistance("1,234.50")

    outcome = ops.run(None, action, lambda fen: done.append((fen, cursor_shape())))
    assert during == [Qt.CursorShape.WaitCursor]
    assert done == [(123450, None)]  # the cursor is back before on_done runs
    assert outcome and outcome.value == 123450
    assert dialogs == []
    assert cursor_shape() is None


def test_a_falsy_result_is_still_success(qtbot, dialogs):
    outcome = ops.run(None, lambda: parse_assistance("0"))
    assert outcome and outcome.value == 0


def test_own_error_handler_replaces_the_dialog(qtbot, dialogs):
    seen = []
    outcome = ops.run(None, lambda: parse_assistance("x"), on_error=lambda e: seen.append(e.code))
    assert not outcome and seen == [outcome.error.code] and dialogs == []
    assert cursor_shape() is None


def test_a_bug_is_not_swallowed_and_the_cursor_comes_back(qtbot, dialogs):
    with pytest.raises(ZeroDivisionError):
        ops.run(None, lambda: 1 / 0)
    assert dialogs == [] and cursor_shape() is None


def test_long_work_fails_into_the_same_dialog(qtbot, store, dialogs):
    def job(store, progress, cancel):
        raise MzError("批次文件已损坏", "bad_batch")

    task = run_with_progress(None, "导入同步批次", store, job)
    with qtbot.waitSignal(task.error, timeout=10_000):
        pass
    assert dialogs == [("导入同步批次", "批次文件已损坏")]


def test_every_warning_dialog_of_the_gui_is_ops_show_error():
    from pathlib import Path

    ui = Path(ops.__file__).parent
    direct = [
        f"{p.name}:{i}"
        for p in sorted(ui.glob("*.py"))
        if p.name != "ops.py"
        for i, line in enumerate(p.read_text("utf-8").splitlines(), 1)
        if "QMessageBox.warning" in line or "QMessageBox.critical" in line
    ]
    assert direct == []
