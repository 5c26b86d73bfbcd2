"""This site's records as batch content: the uid <-> id maps, each record's content
JSON as :mod:`changelog` defines it, its household, and the hashes a peer is known
to have (``sync_base``) or about to get (``sync_pending``).  Used by the export and
import (:mod:`export`, :mod:`apply`) and by withdrawal (:mod:`scope`)."""

from __future__ import annotations

import json

from ..models.store import Store
from . import changelog
from .batch import record_head
from .changelog import TableCodec

CHUNK = 500  # uids per ``IN (…)`` query


def chunks(items: list, n: int = CHUNK):
    for i in range(0, len(items), n):
        yield items[i : i + n]


class Maps:
    """uid <-> local id maps per table, loaded on first use."""

    def __init__(self, store: Store):
        self.store = store
        self._uid_of: dict[str, dict[int, str]] = {}
        self._id_of: dict[str, dict[str, int]] = {}

    def uid_of(self, table: str) -> dict[int, str]:
        if table not in self._uid_of:
            self._uid_of[table] = dict(self.store.conn.execute(f"SELECT id, uid FROM {table}"))
        return self._uid_of[table]

    def id_of(self, table: str) -> dict[str, int]:
        if table not in self._id_of:
            self._id_of[table] = dict(self.store.conn.execute(f"SELECT uid, id FROM {table}"))
        return self._id_of[table]

    def forget(self, table: str) -> None:
        self._uid_of.pop(table, None)
        self._id_of.pop(table, None)

    def uid_maps(self, codec: TableCodec) -> dict[str, dict[int, str]]:
        return {t: self.uid_of(t) for t in set(codec.fks.values())}

    def id_maps(self, codec: TableCodec) -> dict[str, dict[str, int]]:
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
    if sql is None:  # BLOB columns: encode in Python
        uid_maps = maps.uid_maps(codec)
        parent = (
            dict(store.conn.execute(f"SELECT id, household_id FROM {hh[1]}"))
            if hh and hh[1]
            else None
        )
        for row in rows(store, codec.table, uids):
            uid, meta, content = codec.encode(row, uid_maps)
            hid = None if hh is None else row[hh[0]]
            if parent is not None:
                hid = parent.get(hid)
            yield row["id"], uid, json.dumps(meta, ensure_ascii=False), content, hid
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
