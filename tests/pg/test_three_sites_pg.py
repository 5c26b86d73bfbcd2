"""The three-site end-to-end test (tests/sync/test_end_to_end.py) with the county in
PostgreSQL: field laptop and township on SQLite, the county a receiver on the test server.

The scenario itself compares the county's records with the township's, row by row
(``content(c.store) == content(t.store)``): the same rows on both backends.  The same test
functions run here, with this module's ``sites`` fixture."""

from __future__ import annotations

import pytest

import tests.sync.test_end_to_end as e2e
from mzdesk.models.demo import generate_demo
from tests.sync.sites import link, make_site
from tests.sync.test_end_to_end import (  # noqa: F401 - collected here with a PG county
    test_a_checkpoint_altered_after_signing_is_refused_its_signature,
    test_a_conflict_at_the_higher_site_is_not_settled_by_the_next_batch,
    test_a_held_batch_applied_later_reports_its_counts_and_duplicates,
    test_a_malformed_checkpoint_list_refuses_the_batch_and_changes_nothing,
    test_county_flags_an_id_active_in_two_townships,
    test_records_arriving_by_sync_are_audited_by_their_batch,
    test_three_sites_rounds_conflict_lost_batch_replay,
)

from .conftest import pg_site

pytestmark = pytest.mark.pg


@pytest.fixture(autouse=True)
def _county_in_postgresql(monkeypatch, pg_server, pg_template):
    """The tests that make their own sites (``make_site`` of test_end_to_end): the county
    on the test server, the townships and field laptops in files."""

    def make(tmp, code, name, role):
        if role == "county":
            return pg_site(pg_server, code, name, role, pg_template)
        return make_site(tmp, code, name, role)

    monkeypatch.setattr(e2e, "make_site", make)


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
