"""Shared fixtures: a fresh database with a site."""

from __future__ import annotations

import datetime as dt
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from mzdesk.hooks import register_hooks  # noqa: E402
from mzdesk.models.registry import Registry  # noqa: E402
from mzdesk.models.site import init_site  # noqa: E402
from mzdesk.models.store import Store  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _start_up_hooks() -> None:
    """The hooks the window and the CLI register at start (mzdesk.hooks)."""
    register_hooks()


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store.open(tmp_path / "mz.sqlite", operator="tester")
    init_site(s, "341623101", "青山镇")
    yield s
    s.close()


@pytest.fixture
def registry(store) -> Registry:
    return Registry(store)


@pytest.fixture
def today() -> dt.date:
    return dt.date(2026, 11, 23)


@pytest.fixture
def clock(monkeypatch):
    """``clock(day)``: the day the date bounds take as today (mzdesk.models.dates), for a
    test that plays a case forward (a review six months after the confirmation)."""

    def set_day(day: dt.date) -> None:
        monkeypatch.setattr("mzdesk.models.dates.current_day", lambda: day)

    return set_day
