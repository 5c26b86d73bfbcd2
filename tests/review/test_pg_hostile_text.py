"""Review (issue 25): text with quotes, wildcards and SQL in it (site names, village names,
people's names, search text) reaches the PostgreSQL receiver only as bound values: a
county on PostgreSQL and one on SQLite, fed the same township batch, answer alike."""

from __future__ import annotations

import shutil

import pytest

from mzdesk.models.duplicates import duplicate_report
from mzdesk.models.paging import list_plan, next_page
from mzdesk.models.query import SORT_COLUMNS, ListFilter, list_household_ids, search_household_ids
from mzdesk.models.registry import Registry
from mzdesk.models.stats import registry_stats
from mzdesk.models.store import Store
from mzdesk.sync.keys import load_keys
from tests.helpers import household, make_id
from tests.pg.conftest import pg_site
from tests.sync.sites import S, link, make_site

pytestmark = pytest.mark.pg

EVIL = "'); DROP TABLE households; --"
VILLAGES = ["O'Brien村", "100%村", "a_b村", "axb村", EVIL, '"村"', "问号?村", "$1村", ":name村"]


def _uids(store, ids: list[int]) -> list[str]:
    return [store.scalar("SELECT uid FROM households WHERE id = ?", (i,)) for i in ids]


def _pages(store, f: ListFilter) -> list[int]:
    plan = list_plan(store, f)
    out, after = [], None
    while True:
        page = next_page(store, plan, after, 2)
        out += page.ids
        after = page.after
        if page.done:
            return out


def test_hostile_text_is_bound_on_postgresql(tmp_path, pg_server, pg_template):
    town = make_site(tmp_path, "341623101", f"青山镇{EVIL}", "township")
    reg = Registry(town.store)
    for i, village in enumerate(VILLAGES):
        reg.save(household(village, (f"张{EVIL[:6]}{i}", "户主", make_id("19600101", i + 1))))
    lite = make_site(tmp_path, "341623", f"县'{EVIL}", "county")
    pg = pg_site(pg_server, "341623", f"县'{EVIL}", "county", template=pg_template)
    # one township, with its sequence to each county: a copy of it sends to PostgreSQL
    # (both counties have the same code; each trusts the one township key)
    town.store.close()
    shutil.copytree(town.dir, tmp_path / "copy")
    for county, d in ((lite, town.dir), (pg, tmp_path / "copy")):
        store = Store.open(d / "mz.sqlite", operator="clerk")
        sender = S(store, load_keys(store), d)
        link(sender, county)
        county.import_(sender.export(county, full=True))
    assert pg.store.scalar("SELECT name FROM site WHERE id = 1") == f"县'{EVIL}"
    assert pg.store.scalar("SELECT name FROM sync_sites WHERE code = ?", (town.code,)) == (
        f"青山镇{EVIL}"
    )
    for village in [*VILLAGES, "%", "a%", "___村", "?"]:
        for sort in ("id", "head", "village"):
            f = ListFilter(village=village, sort=sort)
            want = _uids(lite.store, list_household_ids(lite.store, f))
            assert _uids(pg.store, list_household_ids(pg.store, f)) == want, village
            assert _uids(pg.store, _pages(pg.store, f)) == want, village
    for sort in SORT_COLUMNS:  # the whole list, paged by key (two a page) on PostgreSQL
        for descending in (False, True):
            f = ListFilter(sort=sort, descending=descending)
            want = _uids(lite.store, list_household_ids(lite.store, f))
            assert _uids(pg.store, _pages(pg.store, f)) == want, (sort, descending)
    for text in ["%", "_", "'", "O'Brien", "张'", "a_b", "?", "$1", ":name", EVIL]:
        want = sorted(_uids(lite.store, search_household_ids(lite.store, text)))
        assert sorted(_uids(pg.store, search_household_ids(pg.store, text))) == want, text
    assert registry_stats(pg.store) == registry_stats(lite.store)
    assert duplicate_report(pg.store) == duplicate_report(lite.store) == []
    assert pg.store.scalar("SELECT count(*) FROM households") == len(VILLAGES)
