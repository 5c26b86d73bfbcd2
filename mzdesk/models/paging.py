"""The household list one page at a time (keyset paging), for a county of a million.

A page is (filter and sort, the last row's key, how many) → the next rows, never
"every id of the list": ``WHERE key = last key AND id > last id``, then ``WHERE key >
last key``, ``ORDER BY key, id LIMIT n``, each a seek into the (status, key) index where
the previous page stopped, so page 1 and page 3,000 cost the same (measured in
``bench/bench_county_list.py``).

Use (``store`` an open :class:`~mzdesk.models.store.Store`)::

    plan = list_plan(store, ListFilter(sort="head"))
    first = next_page(store, plan, None, 100)
    second = next_page(store, plan, first.after, 100)

How a filter is answered depends on how many households it leaves (the plan decides
once per filter, not per page):

* few (a search, a village, a township, a rare category): SQLite starts from the
  filter's own index and sorts what it finds, once per filter (unary ``+`` on the sort
  terms keeps it from walking the sort index over every household instead); the ids,
  at most :data:`SELECTIVE_MAX`, are then paged in memory, their count is their number;
* many (the whole list, 低保 in a county where a third of the households hold it, "no
  category"): it walks the sort index and checks each household, stopping after a page.

The township of a household at the county is the site it came from: the sync import
keeps a *base* per record and sender (``sync_base``: peer, table, uid), which is what
the county also uses to decide what goes back to that township (``sync/scope.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .query import SORT_COLUMNS, ListFilter, search_household_ids, township_filter
from .store import Store

PAGE = 100
# a filter leaving at most this many households is answered from the filter's index
SELECTIVE_MAX = 30_000
# sort terms that may hold NULL (none today: every list column is NOT NULL); the keyset
# conditions spell NULLs out for those (``IS``, ``OR … IS NULL``), which costs the index
# range, so only where needed
NULLABLE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ListPlan:
    """A filter and sort, resolved once: the WHERE clause, its parameters, the sort terms,
    whether the filter is selective, and the number of households it leaves."""

    where: tuple[str, ...]
    params: tuple
    keys: tuple[str, ...]  # sort expressions, the id last
    descending: bool
    selective: bool
    total: int
    # the total was counted from the enrolments alone, on the rule that a household
    # with a live enrolment is not deleted (models/registry.py refuses to); exact then
    estimated: bool = False
    # a selective filter's whole list, in order (at most SELECTIVE_MAX ids): found with
    # one query, then paged in memory; None: paged by key in SQL
    ids: tuple[int, ...] | None = None


@dataclass
class Page:
    """Rows of one page: ids in display order and the key to ask for the next page."""

    ids: list[int] = field(default_factory=list)
    after: tuple | None = None  # the last row's sort key (id last); None: nothing shown yet
    done: bool = False  # no row after this page


def sort_keys(sort: str) -> tuple[str, ...]:
    """The sort's terms with the id last (a total order, so no row repeats or goes missing
    between pages)."""
    order = SORT_COLUMNS.get(sort, "h.id")
    keys = tuple(part.strip() for part in order.split(","))
    return keys if keys[-1] == "h.id" else (*keys, "h.id")


def townships(store: Store) -> list[tuple[str, str]]:
    """The sender sites (townships) whose households this site holds: (code, name)."""
    return [
        (code, name)
        for code, name in store.conn.execute(
            "SELECT code, name FROM sync_sites WHERE role = 'township' ORDER BY code"
        )
    ]


# a live enrolment: the terms the enrolments_live* indexes are built on
LIVE = "e.state = 'active' AND e.status = 'active'"


def _category_count(store: Store, category: str) -> int:
    """Households holding a live enrolment of the category (from one covering index)."""
    return store.scalar(
        f"SELECT count(DISTINCT household_id) FROM enrolments e WHERE e.category = ? AND {LIVE}",
        (category,),
    )


def list_plan(store: Store, f: ListFilter) -> ListPlan:
    """Resolve the filter: its WHERE terms, whether it is selective, and its count."""
    where: list[str] = []
    params: list = []
    narrow: list[int] = []  # upper bounds of what each filter leaves
    if f.text.strip():
        hits = search_household_ids(store, f.text)
        where.append("h.id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(hits))
        narrow.append(len(hits))
    if f.village:
        where.append("h.village = ?")
        params.append(f.village)
        narrow.append(SELECTIVE_MAX)  # a village is a few thousand households at most
    if f.site:
        sql, p = township_filter(f.site)
        where.append(sql)
        params += p
        narrow.append(SELECTIVE_MAX)
    from_enrolments = False  # counted from the enrolments' index, not household by household
    n = 0
    if f.category == "none":
        # probed per household (walking the sort index, or the few a filter leaves)
        where.append(
            f"NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.household_id = h.id AND {LIVE})"
        )
        from_enrolments = not narrow
    elif f.category:
        n = _category_count(store, f.category)
        if n <= SELECTIVE_MAX and (not narrow or n < min(narrow)):
            # the category is the narrowest filter: start from its index
            where.append(
                f"h.id IN (SELECT household_id FROM enrolments e WHERE e.category = ? AND {LIVE})"
            )
            narrow.append(n)
        else:  # checked per household, walking the sort index or the few others leave
            where.append(
                "EXISTS (SELECT 1 FROM enrolments e WHERE e.household_id = h.id "
                f"AND e.category = ? AND {LIVE})"
            )
            from_enrolments = not narrow
        params.append(f.category)
    selective = bool(narrow) and min(narrow) <= SELECTIVE_MAX
    if f.status in ("active", "deleted"):
        # +: with a selective filter the (status, key) list indexes would walk all rows
        where.insert(0, "+h.status = ?" if selective else "h.status = ?")
        params.insert(0, f.status)
    keys = sort_keys(f.sort)
    # a whole-county category (or "none") counted household by household costs a probe
    # each (0.2-0.3 s at 350,000): counted from the enrolments' index instead, on the rule
    # that a deleted household holds no live enrolment (exact under 全部状态)
    estimated = from_enrolments and f.status in ("active", "deleted")
    if from_enrolments and f.category == "none":
        total = store.scalar(
            "SELECT count(*) FROM households h"
            + (" WHERE h.status = ?" if f.status in ("active", "deleted") else ""),
            (f.status,) if f.status in ("active", "deleted") else (),
        )
        if f.status != "deleted":
            total -= store.scalar(
                f"SELECT count(DISTINCT household_id) FROM enrolments e WHERE {LIVE}"
            )
    elif from_enrolments:
        total = 0 if f.status == "deleted" else n
    elif selective:
        # a few thousand households: their ids in order, once (the count is their number,
        # a later page a slice), instead of the filter's lookups again for every page
        direction = " DESC" if f.descending else ""
        sql = "SELECT h.id FROM households h WHERE " + " AND ".join(where)
        sql += " ORDER BY " + ", ".join("+" + k + direction for k in keys)
        (found,) = store.conn.execute(
            f"SELECT json_group_array(id) FROM ({sql})", tuple(params)
        ).fetchone()
        ids = tuple(json.loads(found))
        return ListPlan(tuple(where), tuple(params), keys, f.descending, True, len(ids), ids=ids)
    else:
        total = store.scalar(
            "SELECT count(*) FROM households h"
            + (" WHERE " + " AND ".join(where) if where else ""),
            tuple(params),
        )
    return ListPlan(tuple(where), tuple(params), keys, f.descending, selective, total, estimated)


def _levels(keys: tuple[str, ...], after: tuple, descending: bool) -> list[tuple[str, list]]:
    """ "Strictly after this key" in the list's order, as one condition per level, the
    deepest first: level i keeps the first i terms equal and moves the i-th on.

    Each level is a plain range of the sort index (equal prefix, one range column), which
    SQLite seeks to directly; a row value ``(key, id) > (?, ?)`` only seeks on the key
    and then reads every tie (a county's 330,000 households share six member counts and
    a few import stamps).  NULLs sort where SQLite puts them: first ascending, last
    descending."""
    terms = list(keys)
    out = []
    for i in range(len(keys) - 1, -1, -1):
        parts, p = [], []
        for k, t, v in zip(keys[:i], terms[:i], after[:i], strict=True):
            parts.append(f"{t} IS ?" if v is None or k in NULLABLE else f"{t} = ?")
            p.append(v)
        t, v, nullable = terms[i], after[i], keys[i] in NULLABLE
        if v is None:
            if descending:
                continue  # nothing sorts after NULL descending
            parts.append(f"{t} IS NOT NULL")
        elif descending:
            parts.append(f"({t} < ? OR {t} IS NULL)" if nullable else f"{t} < ?")
            p.append(v)
        else:
            parts.append(f"{t} > ?")  # a NULL compares unknown: it sorts before anyway
            p.append(v)
        out.append((" AND ".join(parts), p))
    return out


def _position(plan: ListPlan, household_id: int) -> int:
    """Where the household is in a selective plan's ids; -1: not there."""
    assert plan.ids is not None
    try:
        return plan.ids.index(household_id)
    except ValueError:
        return -1


def next_page(store: Store, plan: ListPlan, after: tuple | None, limit: int = PAGE) -> Page:
    """The ``limit`` households after ``after`` (None: the first page)."""
    if plan.ids is not None:
        start = 0
        if after is not None:
            start = _position(plan, after[-1]) + 1
            if start == 0:  # a key from another list: nothing follows it here
                return Page([], after, True)
        ids = list(plan.ids[start : start + limit])
        if not ids:
            return Page([], after, True)
        return Page(ids, (ids[-1],), start + len(ids) >= len(plan.ids))
    direction = " DESC" if plan.descending else ""
    head = f"SELECT {', '.join(plan.keys)} FROM households h WHERE "
    order = " ORDER BY " + ", ".join(k + direction for k in plan.keys) + " LIMIT ?"
    levels = [("1 = 1", [])] if after is None else _levels(plan.keys, after, plan.descending)
    rows: list[tuple] = []
    for cond, p in levels:
        sql = head + " AND ".join([*plan.where, cond]) + order
        rows += store.conn.execute(sql, (*plan.params, *p, limit - len(rows))).fetchall()
        if len(rows) >= limit:
            break
    if not rows:
        return Page([], after, True)
    return Page([r[-1] for r in rows], tuple(rows[-1]), len(rows) < limit)


def rank_of(store: Store, plan: ListPlan, household_id: int) -> int | None:
    """The household's 0-based position in the list, None if the filter leaves it out."""
    if plan.ids is not None:
        pos = _position(plan, household_id)
        return None if pos < 0 else pos
    where, params = list(plan.where), list(plan.params)
    cond = " AND ".join(["h.id = ?", *where])
    key = store.conn.execute(
        f"SELECT {', '.join(plan.keys)} FROM households h WHERE {cond}", (household_id, *params)
    ).fetchone()
    if key is None:
        return None
    # "before it" is "after it" in the other direction: a count per level
    total = 0
    for sql, p in _levels(plan.keys, tuple(key), not plan.descending):
        total += store.scalar(
            "SELECT count(*) FROM households h WHERE " + " AND ".join([*where, sql]),
            (*params, *p),
        )
    return total
