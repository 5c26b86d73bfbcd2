"""Review plans and survival checks travel up with their household; the county sees what
the township recorded (the 民主评议 setting going down: test_deliberation.py)."""

from __future__ import annotations

import datetime as dt

from mzdesk.models import reviews, survival
from mzdesk.models.registry import Registry
from tests.reviews.conftest import elderly


def test_plans_and_checks_reach_the_county(tmp_path, clock):
    from tests.sync.sites import township_county

    clock(dt.date(2027, 3, 10))
    t, c = township_county(tmp_path, 3, seed=5)
    try:
        h = Registry(t.store).get(1)
        e = elderly(t.store, h)
        reviews.set_plan(t.store, h.id, "unstable", note="务工收入不稳定")
        survival.record_check(t.store, e.id, "video", on="2027-03-01")
        report = c.import_(t.export(c))
        assert report.as_dict()["tables"]["review_plans"]["new"] == 1
        assert report.as_dict()["tables"]["survival_checks"]["new"] == 1
        cid = c.store.scalar("SELECT id FROM households WHERE uid = ?", (h.uid,))
        assert reviews.plan(c.store, cid)["months"] == 3
        ceid = c.store.scalar("SELECT id FROM enrolments WHERE uid = ?", (e.uid,))
        assert [x["method"] for x in survival.checks(c.store, ceid)] == ["video"]
        assert ceid not in {r["id"] for r in survival.due(c.store, "2027-H1")}
    finally:
        t.store.close()
        c.store.close()


def test_an_older_database_upgrades_to_the_calendar(tmp_path):
    """The newest committed fixture (before this step): the tables arrive empty, the
    民主评议 setting reads 视情, and every service answers."""
    import shutil
    from pathlib import Path

    import pytest

    from mzdesk.models import notice_rules as nr
    from mzdesk.models.errors import NotFound
    from mzdesk.models.store import Store

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    newest = max(fixtures.glob("schema_v*.sqlite"), key=lambda p: int(p.stem.split("_v")[1]))
    db = tmp_path / "old.sqlite"
    shutil.copy(newest, db)
    store = Store.open(db, operator="tester")
    try:
        for table in ("site_settings", "review_plans", "survival_checks", "review_rounds"):
            assert store.scalar(f"SELECT count(*) FROM {table}") == 0
        assert nr.deliberation_mode(store) == "case"
        assert survival.due(store, "2026-H2") == []
        with pytest.raises(NotFound):
            reviews.round_status(store)
    finally:
        store.close()
