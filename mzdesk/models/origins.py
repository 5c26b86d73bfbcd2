"""Where a household came from (来源站点): the site that sent it to this one.

A receiver (a county, later a city or province) holds the households of many sites.  A
household's origin is the sender it was received from: the peer of its ``sync_base`` row
(the record as that peer last sent or acknowledged it).  A household made here has none
and belongs to this site.  Statistics by township and the duplicate report (重复享受)
group on it.

The lookup is one SQL expression (:func:`origin_sql`) so a query can group on it without
loading a map of every household: one probe of the partial index ``sync_base_households``
(uid, households only; migration ``county_scale_indexes``).
"""

from __future__ import annotations

from .store import Store


def own_site(store: Store) -> str:
    row = store.conn.execute("SELECT code FROM site WHERE id = 1").fetchone()
    return row[0] if row else ""


def site_names(store: Store) -> dict[str, str]:
    """code -> name of this site and every site in the trust list."""
    out = {code: name for code, name in store.conn.execute("SELECT code, name FROM sync_sites")}
    row = store.conn.execute("SELECT code, name FROM site WHERE id = 1").fetchone()
    if row:
        out[row[0]] = row[1]
    return out


def origin_sql(store: Store, uid_column: str = "h.uid") -> str:
    """An SQL expression: the origin site code of the household whose uid is
    ``uid_column`` (this site's own code for a household made here, inlined as a literal:
    a validated site code is digits only)."""
    own = own_site(store)
    fallback = f"'{own}'" if own.isdigit() else "''"
    return (
        "coalesce((SELECT b.peer FROM sync_base b WHERE b.tbl = 'households' "
        f"AND b.uid = {uid_column} ORDER BY b.peer LIMIT 1), {fallback})"
    )
