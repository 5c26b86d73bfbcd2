"""The three-site end-to-end test (tests/sync/test_end_to_end.py) with the county in
PostgreSQL: field laptop and township on SQLite, the county a receiver on the test server.

The scenario itself compares the county's records with the township's, row by row
(``content(c.store) == content(t.store)``): the same rows on both backends.  The same test
functions run here, with this module's ``sites`` fixture."""

from __future__ import annotations

import pytest

from mzdesk.models.demo import generate_demo
from tests.sync.sites import link, make_site
from tests.sync.test_end_to_end import (  # noqa: F401 - collected here with a PG county
    test_a_checkpoint_altered_after_signing_is_refused_its_signature,
    test_a_malformed_checkpoint_list_refuses_the_batch_and_changes_nothing,
    test_three_sites_rounds_conflict_lost_batch_replay,
)

from .conftest import pg_site

pytestmark = pytest.mark.pg


@pytest.fixture
def sites(tmp_path, pg_server, pg_template):
    f = make_site(tmp_path, "341623101001", "青山镇入户终端", "field")
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = pg_site(pg_server, "341623", "县民政局", "county", pg_template)
    assert c.store.dialect == "postgresql"
    generate_demo(t.store, 40, seed=3)
    villages = [
        r[0] for r in t.store.conn.execute("SELECT DISTINCT village FROM households ORDER BY 1")
    ]
    link(t, f, villages=[villages[0]])
    link(t, c)
    yield f, t, c, villages
    for s in (f, t, c):
        s.store.close()
