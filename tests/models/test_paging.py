"""Keyset paging of the household list (models/paging.py): the pages, put end to end,
are the whole list in order, for every sort key and filter, with ties and NULLs."""

from __future__ import annotations

import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mzdesk.models import paging
from mzdesk.models.paging import list_plan, next_page, rank_of, townships
from mzdesk.models.query import SORT_COLUMNS, ListFilter, list_household_ids

VILLAGES = ["红旗村", "新华村", "东风社区"]
SITES = ["341623101", "341623102"]
STAMP = "2026-06-01 09:00:00"


def all_pages(store, f: ListFilter, size: int) -> list[int]:
    plan = list_plan(store, f)
    out: list[int] = []
    after = None
    for _ in range(10_000):
        page = next_page(store, plan, after, size)
        assert len(page.ids) <= size
        out += page.ids
        after = page.after
        if page.done:
            return out
    raise AssertionError("paging never ended")


household_rows = st.lists(
    st.tuples(
        st.sampled_from(["li", "lijian", "wang", ""]),  # head_py: ties and an empty one
        st.sampled_from(VILLAGES),
        st.sampled_from(["一组", "二组"]),
        st.integers(1, 3),  # member_count
        st.sampled_from(["2026-01-01", "2026-02-01"]),  # updated_at
        st.sampled_from(["", "138", "139"]),  # phone
        st.sampled_from(["active", "active", "deleted"]),
        st.sampled_from([None, "rural_dibao", "tekun"]),  # an active enrolment
        st.sampled_from(SITES),
    ),
    max_size=40,
)

FILTERS = [
    {},
    {"village": "红旗村"},
    {"category": "rural_dibao"},
    {"category": "none"},
    {"site": "341623102"},
    {"status": "all"},
    {"status": "deleted"},
    {"village": "新华村", "category": "tekun", "site": "341623101"},
]


def fill(store, rows) -> None:
    conn = store.conn
    for i, (py, village, group, n, updated, phone, status, category, site) in enumerate(rows):
        uid = f"h{i}"
        conn.execute(
            "INSERT INTO households (id, uid, village, village_group, head_name, head_py, "
            "member_count, phone, phone_rev, status, created_at, updated_at, created_by, "
            "updated_by) VALUES (?, ?, ?, ?, '某', ?, ?, ?, ?, ?, ?, ?, 't', 't')",
            (i + 1, uid, village, group, py, n, phone, phone[::-1], status, STAMP, updated),
        )
        conn.execute(
            "INSERT INTO sync_base (peer, tbl, uid) VALUES (?, 'households', ?)", (site, uid)
        )
        if category and status == "active":  # a deleted household holds no live enrolment
            conn.execute(
                "INSERT INTO enrolments (uid, household_id, category, state, created_at, "
                "updated_at, created_by, updated_by) VALUES (?, ?, ?, 'active', ?, ?, 't', 't')",
                (f"e{i}", i + 1, category, STAMP, STAMP),
            )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=household_rows, size=st.integers(1, 7), dense=st.booleans())
def test_pages_end_to_end_are_the_sorted_list(store, monkeypatch, rows, size, dense):
    """Against the whole-list query (query.list_household_ids), the reference order; a
    category is walked per household (dense) or answered from its index (selective)."""
    monkeypatch.setattr(paging, "SELECTIVE_MAX", 0 if dense else 30_000)
    store.conn.execute("SAVEPOINT example")
    try:
        fill(store, rows)
        for extra in FILTERS:
            for sort in SORT_COLUMNS:
                for descending in (False, True):
                    f = ListFilter(sort=sort, descending=descending, **extra)
                    want = list_household_ids(store, f)
                    assert all_pages(store, f, size) == want, (f, size)
                    plan = list_plan(store, f)
                    assert plan.total == len(want)  # exact, or counted on the rule above
                    whole = not ({"village", "site"} & set(extra))
                    walked = extra.get("category") == "none" or not plan.selective
                    assert plan.estimated == bool(
                        whole and extra.get("category") and walked and f.status != "all"
                    )
                    for pos in {0, len(want) // 2, len(want) - 1} if want else ():
                        assert rank_of(store, plan, want[pos]) == pos
                    outside = set(range(1, len(rows) + 1)) - set(want)
                    if outside:
                        assert rank_of(store, plan, min(outside)) is None
    finally:
        store.conn.execute("ROLLBACK TO example")
        store.conn.execute("RELEASE example")


class _Bare:
    """What paging needs of a store: a connection and ``scalar``."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def scalar(self, sql, params=()):
        return self.conn.execute(sql, params).fetchone()[0]


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([None, "a", "b"]),
            st.sampled_from([None, "x", "y"]),
            st.sampled_from([None, 1, 2]),
        ),
        max_size=30,
    ),
    size=st.integers(1, 5),
    descending=st.booleans(),
)
def test_null_sort_keys_page_where_sqlite_sorts_them(rows, size, descending):
    """A nullable sort column (none today; the keyset predicate spells NULLs out for one):
    NULLs first ascending, last descending, as ORDER BY puts them, no row lost or repeated."""
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE households (id INTEGER PRIMARY KEY, village TEXT, village_group TEXT, "
        "member_count INTEGER, status TEXT)"
    )
    conn.executemany(
        "INSERT INTO households VALUES (?, ?, ?, ?, 'active')",
        [(i + 1, *r) for i, r in enumerate(rows)],
    )
    store = _Bare(conn)
    old = paging.NULLABLE
    paging.NULLABLE = frozenset({"h.village", "h.village_group", "h.member_count"})
    try:
        for sort, cols in (("village", (1, 2)), ("members", (3,))):

            def key(r, cols=cols):
                return tuple((r[c] is not None, r[c]) for c in cols) + ((True, r[0]),)

            ordered = sorted(((i + 1, *r) for i, r in enumerate(rows)), key=key)
            want = [r[0] for r in (reversed(ordered) if descending else ordered)]
            f = ListFilter(sort=sort, descending=descending)
            assert all_pages(store, f, size) == want
            plan = list_plan(store, f)
            for pos, hid in enumerate(want):
                assert rank_of(store, plan, hid) == pos
    finally:
        paging.NULLABLE = old


def test_townships_are_the_sender_sites(store):
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO sync_sites (code, name, role, age_recipient, sign_key, fingerprint, "
            "since) VALUES (?, ?, ?, '', '', '', ?)",
            [
                ("341623102", "王人镇民政办", "township", STAMP),
                ("341623101", "城关镇民政办", "township", STAMP),
                ("3416231010", "入户终端", "field", STAMP),
            ],
        )
    assert townships(store) == [("341623101", "城关镇民政办"), ("341623102", "王人镇民政办")]


def test_a_deep_page_seeks_into_the_sort_index_at_the_last_key(store):
    """Keyset, not OFFSET and not a sort: a later page is the rest of the last key's ties
    (key equal, id after) and then the keys after it, each a seek into the (status, key)
    index; never a scan of every tie (a county's households share six member counts)."""
    plan = list_plan(store, ListFilter(sort="members"))
    assert not plan.selective
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        next_page(store, plan, (3, 5), 100)
    finally:
        store.conn.set_trace_callback(None)
    details = [
        " ".join(r[-1] for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql))
        for sql in seen
        if "ORDER BY" in sql
    ]
    assert len(details) == 2, details  # the table is empty: both levels are asked
    assert "households_status_members (status=? AND member_count=? AND rowid>?)" in details[0]
    assert "households_status_members (status=? AND member_count>?)" in details[1]
    assert not any("TEMP B-TREE" in d for d in details), details
