"""The household list one page at a time (keyset paging), for a county of a million.

A page is (filter and sort, the last row's key, how many) → the next rows, never
"every id of the list": ``WHERE (sort key, id) > (last key, last id) ORDER BY sort key,
id LIMIT n`` walks the (status, key) index from where the previous page stopped, so
page 1 and page 3,000 cost the same (measured in ``bench/bench_county_list.py``).

>>> plan = list_plan(store, ListFilter(sort="head"))          # doctest: +SKIP
>>> first = next_page(store, plan, None, 100)                 # doctest: +SKIP
>>> second = next_page(store, plan, first.after, 100)         # doctest: +SKIP

How a filter is answered depends on how many households it leaves (the plan decides
once per filter, not per page):

* few (a search, a village, a township, a rare category): SQLite starts from the
  filter's own index and sorts what it finds; unary ``+`` on the sort terms keeps it
  from walking the sort index over every household instead;
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
# predicate spells NULLs out for those, a row value compares NULL as unknown
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


def _category_count(store: Store, category: str) -> int:
    return store.scalar(
        "SELECT count(*) FROM enrolments WHERE category = ? AND state = 'active' "
        "AND +status = 'active'",
        (category,),
    )


def list_plan(store: Store, f: ListFilter) -> ListPlan:
    """Resolve the filter: its WHERE terms, whether it is selective, and its count."""
    where: list[str] = []
    params: list = []
    narrow: list[int] = []  # upper bounds of what each filter leaves
    if f.text.strip():
        ids = search_household_ids(store, f.text)
        where.append("h.id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(ids))
        narrow.append(len(ids))
    if f.village:
        where.append("h.village = ?")
        params.append(f.village)
        narrow.append(SELECTIVE_MAX)  # a village is a few thousand households at most
    if f.site:
        sql, p = township_filter(f.site)
        where.append(sql)
        params += p
        narrow.append(SELECTIVE_MAX)
    dense_category = False
    if f.category == "none":
        where.append(
            "h.id NOT IN (SELECT household_id FROM enrolments e "
            "WHERE e.state = 'active' AND e.status = 'active')"
        )
    elif f.category:
        n = _category_count(store, f.category)
        if n <= SELECTIVE_MAX:
            where.append(
                "h.id IN (SELECT household_id FROM enrolments e WHERE e.category = ? "
                "AND e.state = 'active' AND e.status = 'active')"
            )
            narrow.append(n)
        else:  # checked per household while walking the sort index
            dense_category = True
            where.append(
                "EXISTS (SELECT 1 FROM enrolments e WHERE e.household_id = h.id "
                "AND e.category = ? AND +e.state = 'active' AND +e.status = 'active')"
            )
        params.append(f.category)
    selective = bool(narrow) and min(narrow) <= SELECTIVE_MAX
    if f.status in ("active", "deleted"):
        # +: with a selective filter the (status, key) list indexes would walk all rows
        where.insert(0, "+h.status = ?" if selective else "h.status = ?")
        params.insert(0, f.status)
    keys = sort_keys(f.sort)
    plan = ListPlan(tuple(where), tuple(params), keys, f.descending, selective, 0)
    total = _count(store, plan, dense_category, f)
    return ListPlan(plan.where, plan.params, keys, f.descending, selective, total)


def _count(store: Store, plan: ListPlan, dense_category: bool, f: ListFilter) -> int:
    where, params = list(plan.where), list(plan.params)
    if dense_category:
        # counted from the category's index, not by a probe per household
        i = where.index(next(w for w in where if w.startswith("EXISTS")))
        where[i] = (
            "h.id IN (SELECT household_id FROM enrolments e WHERE e.category = ? "
            "AND e.state = 'active' AND e.status = 'active')"
        )
    sql = "SELECT count(*) FROM households h"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return store.scalar(sql, tuple(params))


def _after(keys: tuple[str, ...], after: tuple, descending: bool, plus: str) -> tuple[str, list]:
    """SQL for "strictly after this key" in the list's order, NULLs where SQLite puts
    them (first ascending, last descending)."""
    terms = [plus + k for k in keys]
    nullable = any(k in NULLABLE for k in keys)
    if None not in after and not (descending and nullable):
        # a row value: SQLite answers it as a range of the sort index; NULL in a row
        # compares unknown, which is right ascending (a NULL sorts before any value)
        op = "<" if descending else ">"
        return f"({', '.join(terms)}) {op} ({', '.join('?' * len(terms))})", list(after)
    ors, params = [], []
    for i, (term, value) in enumerate(zip(terms, after, strict=True)):
        parts, p = [], []
        for t, v in zip(terms[:i], after[:i], strict=True):
            parts.append(f"{t} IS ?")
            p.append(v)
        if value is None:
            if descending:
                continue  # nothing sorts after NULL descending
            parts.append(f"{term} IS NOT NULL")
        elif descending:
            parts.append(f"({term} < ? OR {term} IS NULL)")
            p.append(value)
        else:
            parts.append(f"{term} > ?")
            p.append(value)
        ors.append("(" + " AND ".join(parts) + ")")
        params += p
    return ("(" + " OR ".join(ors) + ")" if ors else "0"), params


def next_page(store: Store, plan: ListPlan, after: tuple | None, limit: int = PAGE) -> Page:
    """The ``limit`` households after ``after`` (None: the first page)."""
    plus = "+" if plan.selective else ""
    direction = " DESC" if plan.descending else ""
    where, params = list(plan.where), list(plan.params)
    if after is not None:
        sql, p = _after(plan.keys, after, plan.descending, plus)
        where.append(sql)
        params += p
    sql = f"SELECT {', '.join(plan.keys)} FROM households h"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY " + ", ".join(plus + k + direction for k in plan.keys) + " LIMIT ?"
    rows = store.conn.execute(sql, (*params, limit)).fetchall()
    if not rows:
        return Page([], after, True)
    return Page([r[-1] for r in rows], tuple(rows[-1]), len(rows) < limit)


def rank_of(store: Store, plan: ListPlan, household_id: int) -> int | None:
    """The household's 0-based position in the list, None if the filter leaves it out."""
    where, params = list(plan.where), list(plan.params)
    cond = " AND ".join(["h.id = ?", *where])
    key = store.conn.execute(
        f"SELECT {', '.join(plan.keys)} FROM households h WHERE {cond}", (household_id, *params)
    ).fetchone()
    if key is None:
        return None
    # "before it" is "after it" in the other direction
    plus = "+" if plan.selective else ""
    sql, p = _after(plan.keys, tuple(key), not plan.descending, plus)
    where.append(sql)
    return store.scalar(
        "SELECT count(*) FROM households h WHERE " + " AND ".join(where), (*params, *p)
    )
