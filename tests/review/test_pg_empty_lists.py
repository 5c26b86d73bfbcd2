"""Review (issue 25): a list that leaves no household on the PostgreSQL receiver is an
empty list, as on SQLite (``json_group_array`` over no rows is ``[]`` there; PostgreSQL's
``json_agg`` gives NULL, which the list and the pager then failed to read)."""

from __future__ import annotations

import pytest

from mzdesk.models.paging import list_plan, next_page
from mzdesk.models.query import ListFilter, list_household_ids
from mzdesk.models.site import init_site
from mzdesk.models.store import Store

pytestmark = pytest.mark.pg


def test_an_empty_filtered_list_on_postgresql(pg_server, pg_template):
    store = Store.open(pg_server.create_db(template=pg_template), operator="tester")
    init_site(store, "341623", "县民政局", "county")
    for f in (ListFilter(), ListFilter(village="没有这个村"), ListFilter(text="无此人")):
        assert list_household_ids(store, f) == []
        plan = list_plan(store, f)
        assert plan.total == 0
        page = next_page(store, plan, None, 100)
        assert page.ids == [] and page.done
    assert store.scalar("SELECT json_group_array(id) FROM households") == "[]"
    store.close()
