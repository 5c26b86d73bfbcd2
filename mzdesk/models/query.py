"""Finding households: the list view's queries and find-as-you-type search.

Search answers from indexes only, whatever the query's length (most Chinese
name queries are one or two characters, which a trigram index cannot serve):

* Chinese text: prefix of the name, or of the given name (name minus surname);
* Latin letters: prefix of the pinyin initials (``zsf``) or full pinyin;
* digits: prefix or suffix of an ID number or a phone number (suffixes through
  a reversed-string index); a fragment in the middle of an ID (a birth date)
  falls back to a bounded scan when nothing else matched.

>>> classify("张三")
'name'
>>> classify("zsf")
'pinyin'
>>> classify("0012")
'digits'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .ids import normalise_phone, to_halfwidth
from .store import Store

SEARCH_LIMIT = 1000

SORT_COLUMNS = {
    "id": "h.id",
    "head": "h.head_py",
    "village": "h.village, h.village_group",
    "members": "h.member_count",
    "updated": "h.updated_at",
    "phone": "h.phone",
}

_GLOB_META = re.compile(r"[*?\[\]]")


@dataclass
class ListFilter:
    """What the household list shows: filters, search text and sort."""

    text: str = ""
    village: str | None = None
    site: str | None = None  # at a county: the township (sender site) the household came from
    category: str | None = None  # a category code, "none" (no enrolment) or None (all)
    status: str = "active"  # active / deleted / all
    sort: str = "id"
    descending: bool = False


def normalise_query(text: str) -> str:
    q = _GLOB_META.sub("", "".join(to_halfwidth(text or "").split()))
    if re.fullmatch(r"[+(（]?[0-9][0-9\-－—()（）.]*", q) and re.search(r"[\-－—()（）.+]", q):
        q = normalise_phone(q)  # a phone typed with its separators, as it is written down
    return q


def classify(q: str) -> str:
    if not q:
        return "empty"
    if all(c.isdigit() or c in "xX" for c in q) and any(c.isdigit() for c in q):
        return "digits"
    if q.isascii() and q.isalpha():
        return "pinyin"
    return "name"


def search_household_ids(store: Store, text: str, limit: int = SEARCH_LIMIT) -> list[int]:
    """Households matching the text, best matches first, at most ``limit``."""
    q = normalise_query(text)
    kind = classify(q)
    if kind == "empty":
        return []
    probes: list[tuple[str, tuple]] = []
    # no LIMIT in SQL: rows stream and the loop below stops at ``limit`` households
    # (several members of one household count once; cheaper than DISTINCT's temp b-tree)
    member = "SELECT household_id FROM members WHERE {col} GLOB ? AND status = 'active'"
    # +status: otherwise SQLite prefers the (status, phone) list index and scans 100k rows
    house = "SELECT id FROM households WHERE {col} GLOB ? AND +status = 'active'"
    if kind == "digits":
        q = q.upper()
        probes += [
            (member.format(col="id_number"), (q + "*",)),
            (member.format(col="id_rev"), (q[::-1] + "*",)),
        ]
        if len(q) >= 4 and q.isdigit() and q[:2] in ("18", "19", "20"):
            # a birth date (year, month, day...), the middle of an ID: an expression
            # index on substr(id_number, 7) answers the range; "~" sorts after digits and X
            probes.append(
                (
                    "SELECT household_id FROM members WHERE substr(id_number, 7) >= ? "
                    "AND substr(id_number, 7) < ? AND status = 'active'",
                    (q, q + "~"),
                )
            )
        probes += [
            (house.format(col="phone"), (q + "*",)),
            (house.format(col="phone_rev"), (q[::-1] + "*",)),
        ]
    elif kind == "pinyin":
        q = q.lower()
        probes += [
            (member.format(col="py_initials"), (q + "*",)),
            (member.format(col="py_full"), (q + "*",)),
        ]
    else:
        probes += [
            (member.format(col="name"), (q + "*",)),
            (member.format(col="name_tail"), (q + "*",)),
        ]
    found: dict[int, None] = {}

    def collect(sql: str, params: tuple) -> bool:
        """Add the households the rows name; True once ``limit`` is reached."""
        for (hid,) in store.conn.execute(sql, params):
            found.setdefault(hid, None)
            if len(found) >= limit:
                return True
        return False

    for sql, params in probes:
        if collect(sql, params):
            return list(found)
    phone_like = len(q) == 11 and q.startswith("1")
    if not found and kind == "digits" and 6 <= len(q) < 18 and not phone_like:
        # any other fragment in the middle of an ID: a scan of every member (~50-250 ms at
        # 100k households), so only for long fragments that nothing indexed matched
        sql = "SELECT household_id FROM members WHERE status = 'active' AND instr(id_number, ?) > 0"
        collect(sql, (q,))
    return list(found)


def _selective(f: ListFilter) -> bool:
    """A filter that leaves a few thousand households at most (not "all" or "no category")."""
    return bool(f.village or f.site or f.text.strip() or f.category not in (None, "", "none"))


def township_filter(site: str) -> tuple[str, tuple]:
    """The households a township sent, at the county: the sync import keeps a base per
    record and sender (``sync_base``), as ``sync/scope.py`` reads it for what goes back.

    The ids are found by a join on the uid index alone (covering), so the list then reads
    each household by its rowid: 20-25% faster than ``h.uid IN (…)`` at 12,000 households."""
    return (
        "h.id IN (SELECT t.id FROM sync_base b JOIN households t ON t.uid = b.uid "
        "WHERE b.peer = ? AND b.tbl = 'households')",
        (site,),
    )


def _where(f: ListFilter) -> tuple[list[str], list]:
    where, params = [], []
    if f.status in ("active", "deleted"):
        # +: with a selective filter the (status, key) list indexes would walk all rows
        where.append("+h.status = ?" if _selective(f) else "h.status = ?")
        params.append(f.status)
    if f.village:
        where.append("h.village = ?")
        params.append(f.village)
    if f.site:
        sql, p = township_filter(f.site)
        where.append(sql)
        params += p
    if f.category == "none":
        # one list of enrolled households, built once (a correlated NOT EXISTS costs a
        # lookup per household; household_id is NOT NULL, so NOT IN is safe)
        where.append(
            "h.id NOT IN (SELECT household_id FROM enrolments e "
            "WHERE e.state = 'active' AND e.status = 'active')"
        )
    elif f.category:
        where.append(
            "h.id IN (SELECT household_id FROM enrolments e WHERE e.category = ? "
            "AND e.state = 'active' AND e.status = 'active')"
        )
        params.append(f.category)
    return where, params


SEARCH_CAP_MESSAGE = f"仅显示前{SEARCH_LIMIT}户，请输入更多条件"


def search_capped(store: Store, text: str) -> bool:
    """Did the search text hit :data:`SEARCH_LIMIT` (so the list may miss households)?"""
    if not text.strip():
        return False
    return len(search_household_ids(store, text)) >= SEARCH_LIMIT


def count_text(store: Store, n: int, text: str, estimated: bool = False) -> str:
    """The status-bar count: ``共 n 户``, plus the cap notice when the search was capped;
    ``共约 n 户`` when the count was taken from the enrolments (models/paging.py)."""
    total = f"共约 {n} 户" if estimated else f"共 {n} 户"
    if search_capped(store, text):
        return f"{total}（{SEARCH_CAP_MESSAGE}）"
    return total


def list_household_ids(store: Store, f: ListFilter) -> list[int]:
    """Ids of the households the list shows, in display order.

    Only ids are loaded (100,000 ints); the list model fetches the columns of
    the rows in view, a page at a time, with :func:`household_rows`.
    """
    where, params = _where(f)
    if f.text.strip():
        ids = search_household_ids(store, f.text)
        if not ids:
            return []
        where.append("h.id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(ids))
    order = SORT_COLUMNS.get(f.sort, "h.id")
    direction = " DESC" if f.descending else ""
    # with a selective filter, unary + stops ORDER BY from walking a sort index over every
    # household: SQLite then starts from the filter (village index, category, search hits)
    # and sorts the few rows it finds
    plus = "+" if _selective(f) else ""
    order_sql = ", ".join(plus + part.strip() + direction for part in order.split(","))
    sql = "SELECT h.id FROM households h"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {order_sql}, {plus}h.id{direction}"
    # one JSON array instead of 100,000 Python row tuples: about twice as fast
    (ids,) = store.conn.execute(f"SELECT json_group_array(id) FROM ({sql})", params).fetchone()
    return json.loads(ids)


def household_rows(store: Store, ids: list[int]) -> dict[int, dict]:
    """Display columns for these households (one page of the list)."""
    if not ids:
        return {}
    sql = (
        "SELECT h.id, h.head_name, h.head_id_number, h.village, h.village_group, h.area_type, "
        "h.member_count, h.phone, h.status, h.updated_at, "
        "(SELECT group_concat(category) FROM (SELECT DISTINCT category FROM enrolments e "
        " WHERE e.household_id = h.id AND +e.state = 'active' AND +e.status = 'active')) "
        "AS categories "
        "FROM households h WHERE h.id IN (SELECT value FROM json_each(?))"
    )
    cur = store.conn.execute(sql, (json.dumps(ids),))
    cols = [d[0] for d in cur.description]
    return {row[0]: dict(zip(cols, row, strict=True)) for row in cur}


def household_members(store: Store, household_id: int, active_only: bool = True) -> list[dict]:
    """The household's members in form order: id, uid, name, relation (pickers, labels)."""
    sql = "SELECT id, uid, name, relation FROM members WHERE household_id = ?"
    if active_only:
        sql += " AND status = 'active'"
    cur = store.conn.execute(sql + " ORDER BY seq, id", (household_id,))
    return [dict(zip(("id", "uid", "name", "relation"), r, strict=True)) for r in cur]


def household_count(store: Store) -> int:
    """Every household ever registered, deleted ones included."""
    return store.conn.execute("SELECT count(*) FROM households").fetchone()[0]


def villages(store: Store) -> list[str]:
    """The villages of active households, in order: one seek into the (status, village)
    index per village, not a read of every household (80 ms at a county's 350,000)."""
    return [
        r[0]
        for r in store.conn.execute(
            "WITH RECURSIVE v(name) AS ("
            " SELECT min(village) FROM households WHERE status = 'active'"
            " UNION ALL SELECT (SELECT min(village) FROM households"
            "  WHERE status = 'active' AND village > v.name) FROM v WHERE v.name IS NOT NULL"
            ") SELECT name FROM v WHERE name IS NOT NULL"
        )
    ]


def find_households(store: Store, text: str, limit: int = 50) -> list[dict]:
    """What ``mzdesk households find`` prints: matching households, active ones."""
    ids = list_household_ids(store, ListFilter(text=text))[:limit]
    rows = household_rows(store, ids)
    return [
        {
            "id": hid,
            "head_name": rows[hid]["head_name"],
            "village": rows[hid]["village"],
            "group": rows[hid]["village_group"],
            "members": rows[hid]["member_count"],
            "phone": rows[hid]["phone"],
            "categories": [c for c in (rows[hid]["categories"] or "").split(",") if c],
        }
        for hid in ids
    ]


def default_category(store: Store, household_id: int) -> str:
    """The category a 新申请 starts at: 农村低保 for a rural household, 城市低保 for urban."""
    row = store.conn.execute(
        "SELECT area_type FROM households WHERE id = ?", (household_id,)
    ).fetchone()
    return "urban_dibao" if row is not None and row[0] == "urban" else "rural_dibao"


def matched_members(store: Store, ids: list[int], text: str) -> dict[int, str]:
    """For a page of search hits: the member (not the head) the text matched, by household.

    So the list can say ``张三丰（匹配：张小明）`` when the search found a child.
    """
    q = normalise_query(text)
    kind = classify(q)
    if kind == "empty" or not ids:
        return {}
    if kind == "digits":
        q = q.upper()
        cond, params = "(id_number GLOB ? OR id_rev GLOB ?)", [q + "*", q[::-1] + "*"]
    elif kind == "pinyin":
        q = q.lower()
        cond, params = "(py_initials GLOB ? OR py_full GLOB ?)", [q + "*", q + "*"]
    else:
        cond, params = "(name GLOB ? OR name_tail GLOB ?)", [q + "*", q + "*"]
    sql = (
        "SELECT household_id, name FROM members WHERE status = 'active' AND relation != '户主' "
        f"AND household_id IN (SELECT value FROM json_each(?)) AND {cond} ORDER BY id"
    )
    out: dict[int, str] = {}
    for hid, name in store.conn.execute(sql, [json.dumps(ids), *params]):
        out.setdefault(hid, name)
    return out
