"""An older database gains the run tables on upgrade, with their change-log triggers."""

from __future__ import annotations

import datetime as dt

from mzdesk.models import payment_runs as pr
from mzdesk.models.migrations import MIGRATIONS
from mzdesk.models.store import Store
from tests.models.test_migrations import VERSIONS, copy_fixture


def test_the_newest_fixture_upgrades_and_its_runs_are_logged_for_sync(tmp_path):
    step = next(m for m in MIGRATIONS if m.__name__ == "payment_runs")
    before = max(v for v in VERSIONS if v < MIGRATIONS.index(step) + 1)  # before the step
    store = Store.open(copy_fixture(before, tmp_path), operator="upgrader")
    try:
        assert store.integrity_check() == []
        assert pr.list_runs(store) == []
        run = pr.create_run(store, "冬春救助", dt.date(2026, 1, 1), ["rural_dibao"], 10000)
        logged = store.scalar(
            "SELECT count(*) FROM sync_changes WHERE tbl = 'payment_runs' AND uid = ?",
            (run.uid,),
        )
        assert logged == 1
    finally:
        store.close()
