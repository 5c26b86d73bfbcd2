"""Review (issue 25, keyset paging): filters and search text holding quotes and LIKE
wildcards (``%`` ``_``) are matched as text, never as patterns; an empty list, a list of
one, and deleted households page as the reference list (``query.list_household_ids``)."""

from __future__ import annotations

import pytest

from mzdesk.models.paging import list_plan, next_page, rank_of
from mzdesk.models.query import SORT_COLUMNS, ListFilter, list_household_ids
from tests.helpers import household, make_id

HOSTILE = ["O'Brien村", "100%村", "a_b村", "axb村", "'; DROP TABLE households; --", '"村"']


def pages(store, f: ListFilter, size: int) -> list[int]:
    plan = list_plan(store, f)
    out, after = [], None
    for _ in range(1000):
        page = next_page(store, plan, after, size)
        out += page.ids
        after = page.after
        if page.done:
            assert plan.total == len(out) or plan.estimated
            return out
    raise AssertionError("paging never ended")


def check(store, f: ListFilter) -> list[int]:
    want = list_household_ids(store, f)
    for size in (1, 2, 100):
        assert pages(store, f, size) == want, (f, size)
    plan = list_plan(store, f)
    for pos, hid in enumerate(want):
        assert rank_of(store, plan, hid) == pos
    return want


@pytest.fixture
def hostile(registry):
    ids = {}
    for i, village in enumerate(HOSTILE):
        h = registry.save(household(village, (f"张{i}", "户主", make_id("19600101", i + 1))))
        ids[village] = h.id
    gone = registry.save(household("100%村", ("李删", "户主", make_id("19600101", 50))))
    registry.delete(gone.id, "迁出")
    ids["deleted"] = gone.id
    return ids


def test_a_village_with_quotes_or_wildcards_is_itself_only(store, hostile):
    for village in HOSTILE:
        for sort in SORT_COLUMNS:
            for descending in (False, True):
                f = ListFilter(village=village, sort=sort, descending=descending)
                assert check(store, f) == [hostile[village]]
    assert check(store, ListFilter(village="100%村", status="deleted")) == [hostile["deleted"]]
    assert sorted(check(store, ListFilter(village="100%村", status="all"))) == sorted(
        [hostile["100%村"], hostile["deleted"]]
    )
    assert check(store, ListFilter(village="%")) == []
    assert check(store, ListFilter(village="a%")) == []
    assert check(store, ListFilter(village="___村")) == []
    assert store.scalar("SELECT count(*) FROM households") == len(HOSTILE) + 1


@pytest.mark.parametrize("text", ["%", "_", "'", "%'--", "a_b", "*", "[a]", "张%", "张_"])
def test_search_text_with_wildcards_matches_no_more_than_text(store, hostile, text):
    for sort in ("id", "head"):
        got = check(store, ListFilter(text=text, sort=sort))
        assert hostile["deleted"] not in got
        if text in ("%", "_", "'", "%'--", "*", "[a]"):
            assert got == []  # nobody's name or village is made of those


def test_an_empty_list_and_a_list_of_one(store, registry):
    for sort in SORT_COLUMNS:
        for status in ("active", "deleted", "all"):
            f = ListFilter(sort=sort, status=status)
            assert check(store, f) == []
            plan = list_plan(store, f)
            assert next_page(store, plan, None, 100).done
            assert rank_of(store, plan, 1) is None
    only = registry.save(household("红旗村", ("王一", "户主", make_id("19500101", 1))))
    for sort in SORT_COLUMNS:
        for descending in (False, True):
            assert check(store, ListFilter(sort=sort, descending=descending)) == [only.id]
    assert check(store, ListFilter(status="deleted")) == []
    assert check(store, ListFilter(category="none")) == [only.id]
    registry.delete(only.id, "迁出")
    assert check(store, ListFilter()) == []
    assert check(store, ListFilter(status="deleted")) == [only.id]
    assert check(store, ListFilter(category="none", status="deleted")) == [only.id]
