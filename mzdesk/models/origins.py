"""Where a household came from (来源站点): the township that made it, and the site that
forwarded it here.

A receiver (a county, a city or a province) holds the households of many sites.

* At a county, a household's origin is the township it was received from: the peer of its
  ``sync_base`` row (the record as that peer last sent or acknowledged it).
* At a city or province (``site.REGION_ROLES``) the sender is a county, not the township:
  the county's batch names each household's origin township and forwarding county, kept
  in ``record_origins`` (:mod:`mzdesk.sync.upward`).  That origin comes first; a
  household without one (an older county's batch) falls back to its sender.
* A household made here has neither and belongs to this site.

Statistics by township and the duplicate report (重复享受) group on it.  The lookup is one
SQL expression (:func:`origin_sql`, and :func:`via_sql` for the forwarding site) so a
query can group on it without loading a map of every household: at a county one probe of
the partial index ``sync_base_households`` (uid, households only; migration
``county_scale_indexes``), above it one more probe of ``record_origins``' primary key.
"""

from __future__ import annotations

from collections.abc import Iterable

from .site import REGION_ROLES
from .store import Store

CHUNK = 500  # bound parameters per IN (…)


def own_site(store: Store) -> str:
    row = store.conn.execute("SELECT code FROM site WHERE id = 1").fetchone()
    return row[0] if row else ""


def _own_role(store: Store) -> tuple[str, str]:
    row = store.conn.execute("SELECT code, role FROM site WHERE id = 1").fetchone()
    return (row[0], row[1]) if row else ("", "")


def site_names(store: Store) -> dict[str, str]:
    """code -> name of this site, every site in the trust list, and (at a city or
    province) the townships and counties its counties' batches named (``origin_sites``)."""
    out = {code: name for code, name in store.conn.execute("SELECT code, name FROM origin_sites")}
    out.update(store.conn.execute("SELECT code, name FROM sync_sites"))
    row = store.conn.execute("SELECT code, name FROM site WHERE id = 1").fetchone()
    if row:
        out[row[0]] = row[1]
    return out


def _literal(code: str) -> str:
    # a validated site code is digits only: safe to inline as a literal
    return f"'{code}'" if code.isdigit() else "''"


def _sender(uid_column: str) -> str:
    return (
        "(SELECT b.peer FROM sync_base b WHERE b.tbl = 'households' "
        f"AND b.uid = {uid_column} ORDER BY b.peer LIMIT 1)"
    )


def _told(column: str, uid_column: str) -> str:
    return (
        f"(SELECT o.{column} FROM record_origins o WHERE o.tbl = 'households' "
        f"AND o.record_uid = {uid_column})"
    )


def origin_sql(store: Store, uid_column: str = "h.uid") -> str:
    """An SQL expression: the origin site code (the township that made it) of the
    household whose uid is ``uid_column``: what its forwarding county said (a city or
    province only), else the site it was received from, else this site."""
    own, role = _own_role(store)
    parts = [_sender(uid_column), _literal(own)]
    if role in REGION_ROLES:
        parts.insert(0, _told("origin", uid_column))
    return f"coalesce({', '.join(parts)})"


def via_sql(store: Store, uid_column: str = "h.uid") -> str:
    """An SQL expression: the site that forwarded the household here (转报单位).  At a
    city or province: the forwarding county its batch named, else the sender; at a county
    or below: this site (a township's batch comes straight here)."""
    own, role = _own_role(store)
    if role not in REGION_ROLES:
        return _literal(own)
    return f"coalesce({_told('via', uid_column)}, {_sender(uid_column)}, {_literal(own)})"


def household_origins(store: Store, uids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """household uid -> (origin, via) by :func:`origin_sql` / :func:`via_sql`, also for a
    household that is not here (one of a set-aside record): each uid is a bound value."""
    out: dict[str, tuple[str, str]] = {}
    values = sorted(set(uids))
    for i in range(0, len(values), CHUNK):
        chunk = values[i : i + CHUNK]
        rows = " UNION ALL ".join(f"SELECT :u{n} AS uid" for n in range(len(chunk)))
        params = {f"u{n}": u for n, u in enumerate(chunk)}
        for uid, origin, via in store.conn.execute(
            f"SELECT x.uid, {origin_sql(store, 'x.uid')}, {via_sql(store, 'x.uid')} "
            f"FROM ({rows}) x",
            params,
        ):
            out[uid] = (origin, via)
    return out
