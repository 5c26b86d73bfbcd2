"""Pages that take seconds at a county load in a worker (ui/background_refresh.py)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWidget

from mzdesk.ui import background_refresh
from mzdesk.ui.background_refresh import Refresher
from mzdesk.ui.worker import running_tasks

pytestmark = pytest.mark.gui


@pytest.fixture
def county_size(monkeypatch):
    """Every database counts as a county's: the pages load in a worker."""
    monkeypatch.setattr(background_refresh, "BACKGROUND_MIN_HOUSEHOLDS", 0)


def test_a_small_database_loads_inline(qtbot, store):
    page = QWidget()
    qtbot.addWidget(page)
    shown = []
    r = Refresher(page, store, "读取", lambda s: s.scalar("SELECT 41 + 1"), shown.append)
    assert not r.background
    r.refresh()
    assert shown == [42] and r.task is None  # no thread: shown before refresh returns


def test_a_county_loads_in_a_worker_and_shows_only_the_newest(qtbot, store, county_size):
    page = QWidget()
    qtbot.addWidget(page)
    shown = []
    r = Refresher(page, store, "读取", lambda s: "default", shown.append)
    assert r.background
    r.refresh(lambda s: "older")
    r.refresh(lambda s: s.scalar("SELECT 'newer'"))  # its own connection in the worker
    qtbot.waitUntil(lambda: not running_tasks(), timeout=5000)  # both have ended
    assert shown == ["newer"]  # the older one, finished first or not, is never shown


def test_the_statistics_page_fills_from_the_worker(qtbot, store, county_size):
    from mzdesk.ui.stats_dashboard import StatsDashboard

    page = StatsDashboard(store)
    qtbot.addWidget(page)
    assert page.refresher.background
    qtbot.waitUntil(lambda: page.stats is not None, timeout=5000)
    assert "没有在保对象" in page.summary.text()


def test_the_review_queue_fills_from_the_worker(qtbot, store, county_size):
    from mzdesk.ui.county_review import CountyReview

    page = CountyReview(store)
    qtbot.addWidget(page)
    assert page.refresher.background
    qtbot.waitUntil(lambda: not running_tasks(), timeout=5000)
    assert page.rows == [] and page.detail.toPlainText() == "没有待审核的对象"


def test_the_work_queues_fill_from_the_worker(qtbot, store, county_size):
    from mzdesk.ui.work_queues import WorkQueues

    page = WorkQueues(store)
    qtbot.addWidget(page)
    assert page.refresher.background
    qtbot.waitUntil(lambda: not running_tasks(), timeout=5000)
    assert page.tabs.tabText(page.tabs.count() - 1) == "办理时限 (0超期/0)"
