"""Fixtures for enrolment and notice tests: households ready to enrol."""

from __future__ import annotations

import datetime as dt

import pytest

from mzdesk.models import enrolment as enr
from mzdesk.models.categories import lifecycle_settings
from mzdesk.models.notice import NoticeSpec, create_notice
from tests.helpers import household, make_id

HOTLINE = "0558-8123456"
TODAY = dt.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def notice_today(monkeypatch):
    """Notices are made on TODAY: the tests' 2026-12-01 start stays in the future (a start
    before today needs a backdate reason), whatever the machine's clock says."""
    monkeypatch.setattr("mzdesk.models.notice._today", lambda: TODAY)


@pytest.fixture
def family(registry):
    """A rural household of three in 红旗村: head 张三丰, spouse, grandchild."""
    h = household(
        "红旗村",
        ("张三丰", "户主", make_id("19500101", 1)),
        ("李四妹", "配偶", make_id("19520202", 2)),
        ("张小宝", "孙子女", make_id("20150303", 3)),
        village_group="一组",
    )
    return registry.save(h, today=dt.date(2026, 11, 23))


@pytest.fixture
def single(registry):
    """An old man living alone in 青山村: the 特困 candidate."""
    h = household("青山村", ("王老五", "户主", make_id("19400101", 5)), village_group="三组")
    return registry.save(h, today=dt.date(2026, 11, 23))


def ready(store, household_id, category="rural_dibao", member_id=None, fen=76000, cls="二类"):
    """An enrolment investigated (and deliberated when the category has it): awaiting notice."""
    e = enr.create(
        store,
        household_id,
        category,
        member_id=member_id,
        cls=cls,
        monthly_fen=fen,
        applied_on=dt.date(2026, 11, 1),
    )
    enr.start_investigation(store, e.id)
    enr.record_investigation(store, e.id, ["刘干事", "陈干事"], "核对通过", dt.date(2026, 11, 10))
    if category in lifecycle_settings()["deliberation"]:
        enr.deliberate(store, e.id, 12, "同意", dt.date(2026, 11, 15))
    return enr.get(store, e.id)


def publicised(store, household_id, start=dt.date(2026, 12, 1), **kw):
    e = ready(store, household_id, **kw)
    nid = create_notice(store, NoticeSpec(start=start, hotline=HOTLINE), enrolment_ids=[e.id])
    return enr.get(store, e.id), nid
