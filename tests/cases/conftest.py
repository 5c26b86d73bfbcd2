"""Fixtures for the 临时救助/医疗救助 case tests: a household, and a fixed today."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers import household, make_id

TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def family(registry, clock):
    """A household of two in 红旗村, saved with today fixed at :data:`TODAY`."""
    clock(TODAY)
    h = household(
        "红旗村",
        ("张三丰", "户主", make_id("19500101", 1)),
        ("李四妹", "配偶", make_id("19520202", 2)),
    )
    return registry.save(h, today=TODAY)
