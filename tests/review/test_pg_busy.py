"""Review (issue 25): a second writer on a PostgreSQL site is told "busy" after the same
wait as on SQLite (BUSY_TIMEOUT_MS), in words and without the URL's password, instead of
waiting for ever on the writers' advisory lock.
NOT COMMITTED: fails on models/pg.py (owned elsewhere); the fix is in the report."""

from __future__ import annotations

import threading

import pytest

from mzdesk.models.errors import MzError
from mzdesk.models.site import init_site
from mzdesk.models.store import BUSY_TIMEOUT_MS, Store

pytestmark = pytest.mark.pg


def test_a_second_writer_is_told_busy(pg_server, pg_template):
    url = pg_server.create_db(template=pg_template).replace("@", ":Pw-Secret1@", 1)
    a = Store.open(url, operator="a")
    init_site(a, "341623", "县民政局", "county")
    b = Store.open(url, operator="b")
    a.conn.execute("BEGIN IMMEDIATE")
    got: list = []

    def write():
        try:
            with b.transaction():
                b.conn.execute("UPDATE site SET name = name WHERE id = 1")
            got.append("written")
        except MzError as exc:
            got.append(exc)

    t = threading.Thread(target=write, daemon=True)
    t.start()
    t.join(BUSY_TIMEOUT_MS / 1000 + 10)
    a.conn.execute("ROLLBACK")
    t.join(10)
    assert got and isinstance(got[0], MzError), got
    assert got[0].code == "busy"
    assert "Pw-Secret1" not in got[0].message
    a.close()
    b.close()
