"""What a PostgreSQL county must keep as SQLite does, beyond the shared scenarios."""

from __future__ import annotations

import pytest

from mzdesk.models.audit import verify
from mzdesk.models.demo import generate_demo
from tests.sync.sites import edit, link, make_site

from .conftest import pg_site

pytestmark = pytest.mark.pg


@pytest.fixture
def pair(tmp_path, pg_server, pg_template):
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = pg_site(pg_server, "341623", "县民政局", "county", pg_template)
    generate_demo(t.store, 8, seed=5)
    link(t, c)
    yield t, c
    t.store.close()
    c.store.close()


def test_a_record_changed_twice_at_the_county_goes_down_twice(pair):
    """The change log's INSERT OR REPLACE gives the record a new sequence number on
    PostgreSQL too, so a second change after an export is exported again."""
    t, c = pair
    c.import_(t.export(c))
    uid = c.store.scalar("SELECT uid FROM households ORDER BY id LIMIT 1")
    edit(c.store, "households", uid, notes="县局第一次")
    assert t.import_(c.export(t)).tables["households"].updated == 1
    edit(c.store, "households", uid, notes="县局第二次")
    assert t.import_(c.export(t)).tables["households"].updated == 1
    assert t.store.scalar("SELECT notes FROM households WHERE uid = ?", (uid,)) == "县局第二次"


def test_a_failed_transaction_leaves_no_gap_in_the_audit_chain(pair):
    t, c = pair
    c.import_(t.export(c))
    uid = c.store.scalar("SELECT uid FROM households ORDER BY id LIMIT 1")
    with pytest.raises(RuntimeError), c.store.transaction():
        c.store.conn.execute("UPDATE households SET notes = 'x' WHERE uid = ?", (uid,))
        raise RuntimeError("rolled back")
    edit(c.store, "households", uid, notes="之后")
    result = verify(c.store.conn)
    assert result.ok, result.problem


def test_localtime_is_this_machine_s_not_the_server_s(pg_server, pg_url, monkeypatch):
    """SQLite's 'localtime' is the machine's zone; the server may run in another one."""
    import datetime as dt
    import time

    from mzdesk.models.store import Store

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        store = Store.open(pg_url, operator="t")
        stamp = store.scalar("SELECT strftime('%Y-%m-%d %H:%M', 'now', 'localtime')")
        store.close()
        now = dt.datetime.now()
        assert stamp in {
            now.strftime("%Y-%m-%d %H:%M"),
            (now - dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M"),
        }
    finally:
        monkeypatch.undo()
        time.tzset()
