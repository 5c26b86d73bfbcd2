"""Closing the main window while background work runs: no abort, nothing half-written."""

from __future__ import annotations

import threading

import pytest

from mzdesk.models.progress import Cancelled
from mzdesk.ui.main_window import MainWindow
from mzdesk.ui.worker import Task, running_tasks

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, store):
    w = MainWindow(store)
    qtbot.addWidget(w)
    w.show()
    return w


def test_close_cancels_a_running_task_and_waits_for_it(qtbot, window, store):
    started = threading.Event()

    def job(_store, _progress, cancel):
        started.set()
        while not cancel():
            threading.Event().wait(0.01)
        raise Cancelled()

    task = Task(window, "生成演示数据", store, job, show_dialog=False).start()
    assert started.wait(5)
    window.close()
    assert not window.isVisible()
    assert not task.thread.isRunning()  # cancelled and joined, not destroyed while running


def test_close_waits_for_a_job_that_cannot_be_cancelled(qtbot, window, store, tmp_path):
    release = threading.Event()
    out = tmp_path / "backup.sqlite"

    def job(_store, _progress, _cancel):  # like the daily backup: ignores cancel
        partial = out.with_name(out.name + ".partial")
        partial.write_bytes(b"x")
        release.wait(10)
        partial.replace(out)
        return out

    task = Task(window, "每日备份", store, job, show_dialog=False).start()
    window.close()
    assert window.isVisible()  # refused for now, with a notice naming the job
    assert "每日备份" in window._closing.labelText()
    release.set()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert not task.thread.isRunning() and not running_tasks()
    assert out.exists() and not out.with_name(out.name + ".partial").exists()
