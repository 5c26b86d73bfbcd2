"""This site's records as batch content: the uid <-> id maps, each record's content
JSON as :mod:`changelog` defines it, its household, and the hashes a peer is known
to have (``sync_base``) or about to get (``sync_pending``).  Used by the export and
import (:mod:`export`, :mod:`apply`) and by withdrawal (:mod:`scope`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import chain
from typing import Any

from ..models.store import Store
from . import changelog
from .batch import record_head
from .changelog import TableCodec

CHUNK = 500  # uids per ``IN (…)`` query


def chunks(items: list, n: int = CHUNK):
    for i in range(0, len(items), n):
        yield items[i : i + n]


_ABSENT = object()


class Lookup(dict[Any, Any]):
    """One table's uid -> id (or id -> uid) pairs, read from the database as they are asked
    for (:meth:`load` for many at once, ``CHUNK`` per ``IN (…)`` query): a county's table
    holds a million of them and a batch names a few thousand, so the memory follows the
    batch, not the county.  A key of another type than the column's is never here (as
    in a dict of the whole table); a pair is as the table was when first asked (the
    caller forgets a table it writes to: :meth:`Maps.forget`)."""

    def __init__(self, store: Store, table: str, key: str, value: str, kind: type):
        super().__init__()
        self._store = store
        self._sql = f"SELECT {key}, {value} FROM {table} WHERE {key} IN "
        self._kind = kind
        self._absent: set = set()

    def _unknown(self, k) -> bool:
        return type(k) is self._kind and not dict.__contains__(self, k) and k not in self._absent

    def load(self, keys: Iterable) -> None:
        """Read the pairs of ``keys`` not read yet (None and other types: never here)."""
        want = list({k for k in keys if self._unknown(k)})
        for chunk in chunks(want):
            self.update(
                self._store.conn.execute(self._sql + f"({', '.join('?' * len(chunk))})", chunk)
            )
        self._absent.update(k for k in want if not dict.__contains__(self, k))

    def get(self, k, default=None):
        if self._unknown(k):
            self.load((k,))
        return dict.get(self, k, default)

    def __getitem__(self, k):
        v = self.get(k, _ABSENT)
        if v is _ABSENT:
            raise KeyError(k)
        return v

    def __contains__(self, k) -> bool:
        return self.get(k, _ABSENT) is not _ABSENT


class Maps:
    """uid <-> local id lookups per table (:class:`Lookup`: only the pairs asked for)."""

    def __init__(self, store: Store):
        self.store = store
        self._uid_of: dict[str, Lookup] = {}
        self._id_of: dict[str, Lookup] = {}

    def uid_of(self, table: str) -> Lookup:
        if table not in self._uid_of:
            self._uid_of[table] = Lookup(self.store, table, "id", "uid", int)
        return self._uid_of[table]

    def id_of(self, table: str) -> Lookup:
        if table not in self._id_of:
            self._id_of[table] = Lookup(self.store, table, "uid", "id", str)
        return self._id_of[table]

    def forget(self, table: str) -> None:
        self._uid_of.pop(table, None)
        self._id_of.pop(table, None)

    def uid_maps(self, codec: TableCodec, rows: Iterable[dict] = ()) -> dict[str, dict[int, str]]:
        """The parents' id -> uid lookups, with the parents of ``rows`` (local rows) read."""
        rows = list(rows)
        for col, parent in codec.fks.items():
            self.uid_of(parent).load(r.get(col) for r in rows)
        return {t: self.uid_of(t) for t in set(codec.fks.values())}

    def id_maps(self, codec: TableCodec, rows: Iterable[dict] = ()) -> dict[str, dict[str, int]]:
        """The parents' uid -> id lookups, with the parents ``rows`` (incoming content)
        name read in bulk."""
        rows = list(rows)
        for col, parent in codec.fks.items():
            wire = codec.wire_name(col)
            self.id_of(parent).load(r.get(wire) for r in rows)
        return {t: self.id_of(t) for t in set(codec.fks.values())}


def household_column(store: Store, codec: TableCodec) -> tuple[str, str | None] | None:
    """How a table's row reaches its household: ('self'|column, parent table or None)."""
    if codec.table == "households":
        return ("id", None)
    if "household_id" in codec.columns:
        return ("household_id", None)
    for col, parent in codec.fks.items():
        if parent == "households":
            return (col, None)
        pcols = [r[1] for r in store.conn.execute(f"PRAGMA table_info({parent})")]
        if "household_id" in pcols:
            return (col, parent)
    return None


def rows(store: Store, table: str, uids: list[str] | None):
    cur = store.conn.cursor()
    if uids is None:
        cur.execute(f"SELECT * FROM {table} ORDER BY id")
        names = [d[0] for d in cur.description]
        for r in cur:
            yield dict(zip(names, r, strict=True))
        return
    for chunk in chunks(uids):
        cur.execute(f"SELECT * FROM {table} WHERE uid IN ({', '.join('?' * len(chunk))})", chunk)
        names = [d[0] for d in cur.description]
        for r in cur.fetchall():
            yield dict(zip(names, r, strict=True))


def encoded(store: Store, codec: TableCodec, uids: list[str] | None, maps: Maps):
    """(id, uid, meta JSON, content JSON, household id) of all rows, or of ``uids``."""
    hh = household_column(store, codec)
    sql = changelog.select_sql(codec, hh)
    if sql is None:  # BLOB columns: encode in Python, CHUNK rows at a time
        parent = Lookup(store, hh[1], "id", "household_id", int) if hh and hh[1] else None
        hcol = hh[0] if hh else ""
        batch: list[dict] = []
        for row in chain(rows(store, codec.table, uids), [None]):
            if row is not None:
                batch.append(row)
                if len(batch) < CHUNK:
                    continue
            uid_maps = maps.uid_maps(codec, batch)
            if parent is not None:
                parent.load(r[hcol] for r in batch)
            for r in batch:
                uid, meta, content = codec.encode(r, uid_maps)
                hid = r[hcol] if hcol else None
                if parent is not None:
                    hid = parent.get(hid)
                yield r["id"], uid, json.dumps(meta, ensure_ascii=False), content, hid
            batch = []
        return
    if uids is None:
        yield from store.conn.execute(sql + " ORDER BY t.id")
        return
    for chunk in chunks(uids):
        yield from store.conn.execute(
            sql + f" WHERE t.uid IN ({', '.join('?' * len(chunk))})", chunk
        )


FETCH = 2000  # rows per fetch in :func:`exported`


def exported(store: Store, codec: TableCodec, uids: list[str] | None, maps: Maps):
    """Lists of (uid, record head, content JSON, household id) of all rows, or of ``uids``:
    head and content as UTF-8 bytes, ready for a batch (:func:`changelog.line_sql`)."""
    sql = changelog.line_sql(codec, household_column(store, codec))
    if sql is None:  # BLOB columns: encoded in Python
        out = []
        for _id, uid, meta, content, hid in encoded(store, codec, uids, maps):
            out.append((uid, record_head(uid, meta).encode("utf-8"), content.encode("utf-8"), hid))
            if len(out) == FETCH:
                yield out
                out = []
        if out:
            yield out
        return
    if uids is None:
        cur = store.conn.execute(sql + " ORDER BY t.id")
        while rows := cur.fetchmany(FETCH):
            yield rows
        return
    for chunk in chunks(uids):
        yield store.conn.execute(
            sql + f" WHERE t.uid IN ({', '.join('?' * len(chunk))})", chunk
        ).fetchall()


def pending_hashes(store: Store, peer: str, table: str, uids: list[str]) -> dict[str, str]:
    """The latest unacknowledged content hash sent to ``peer`` per record."""
    out: dict[str, str] = {}
    for chunk in chunks(uids):
        out.update(
            store.conn.execute(
                f"SELECT uid, hash FROM sync_pending WHERE peer = ? AND tbl = ? AND uid IN "
                f"({', '.join('?' * len(chunk))}) ORDER BY seq",
                (peer, table, *chunk),
            )
        )
    return out


def base_hashes(
    store: Store, peer: str, table: str, uids: list[str], cols: str = "hash, batch_id"
) -> dict:
    out = {}
    for chunk in chunks(uids):
        for r in store.conn.execute(
            f"SELECT uid, {cols} FROM sync_base WHERE peer = ? AND tbl = ? AND uid IN "
            f"({', '.join('?' * len(chunk))})",
            (peer, table, *chunk),
        ):
            out[r[0]] = r[1] if len(r) == 2 else r[1:]
    return out
