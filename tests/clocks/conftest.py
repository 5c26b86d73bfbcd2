"""Households with applications for the clock and letter tests."""

from __future__ import annotations

import datetime as dt

import pytest

from mzdesk.models import enrolment as enr
from tests.helpers import household, make_id

HEAD_ID = make_id("19500101", 1)


@pytest.fixture
def family(registry):
    h = household(
        "红旗村",
        ("张三丰", "户主", HEAD_ID),
        ("李四妹", "配偶", make_id("19520202", 2)),
        village_group="一组",
    )
    return registry.save(h, today=dt.date(2026, 11, 23))


@pytest.fixture
def applied(store, family):
    """A 农村低保 application of Friday 2026-10-09 (the day after the 国庆 holiday)."""
    return enr.create(
        store,
        family.id,
        "rural_dibao",
        cls="二类",
        monthly_fen=76000,
        applied_on=dt.date(2026, 10, 9),
    )
