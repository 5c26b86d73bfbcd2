"""Which households a site may hold, and what follows when that changes.

A field laptop holds the households of the villages assigned to it
(``mzdesk sync assign``).  Assignments change: a village is added, one is
handed to another laptop, a household moves to another village.  So, for a
field laptop, every batch from the township

* brings the records that came **into** scope even if they did not change
  (the laptop has no base for them: :func:`newly_in_scope`), and
* asks the laptop to **withdraw** the households that left its scope
  (manifest ``withdraw``: :func:`withdraw_list`).

The laptop removes a withdrawn household with all its records
(:func:`withdraw`) only when nothing of it is waiting to go up: every record
equals what the township acknowledged.  Otherwise it keeps the household,
says so in the report, and removes it from a later batch, after its edits
went up.  Removal is local: it writes no tombstones (the township keeps the
household), and the laptop's next batch confirms it (manifest ``withdrawn``),
whereupon the township forgets what that laptop had (:func:`forget`), so a
village assigned again later travels again in full.

The laptop's audit trail keeps its entries (it is append-only and
hash-chained); the records leave the working tables, lists, searches and
exports, photos included.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from ..models.auth import require
from ..models.errors import MzError
from ..models.site import REGION_ROLES, Site
from ..models.store import Store
from . import changelog
from .changelog import TableCodec, content_hash
from .local import Maps, base_hashes, encoded, household_column

RANK = {"field": 0, "township": 1, "county": 2, "city": 3, "province": 4}
_TEMP = "temp.mz_scope_hids"


def scope(store: Store, own: Site, peer) -> set[int] | None:
    """Household ids that may go to ``peer``; None means all."""
    if RANK.get(peer.key.role, 0) > RANK.get(own.role, 0) or peer.key.role == own.role:
        return None
    if peer.key.role == "field":
        if not peer.villages:
            raise MzError(
                f"尚未给入户终端 {peer.key.code} 分配村，请先运行 mzdesk sync assign", "no_villages"
            )
        marks = ", ".join("?" * len(peer.villages))
        return {
            r[0]
            for r in store.conn.execute(
                f"SELECT id FROM households WHERE village IN ({marks})", peer.villages
            )
        }
    # county -> township: the households that township sent (we hold a base for them)
    return {
        r[0]
        for r in store.conn.execute(
            "SELECT h.id FROM households h JOIN sync_base b ON b.peer = ? AND b.tbl = 'households' "
            "AND b.uid = h.uid",
            (peer.key.code,),
        )
    }


def held_by(store: Store, own: Site, peer, table: str) -> set[str] | None:
    """The records of ``table`` that may go down to ``peer`` although they belong to no
    household; None: no limit.  A township's notices and relative declarations
    (:data:`mzdesk.sync.sender_scope.TOWNSHIP_ROOTS`) go back down only to the township that
    has them (sent them, or got them from us), never to another township."""
    from .sender_scope import TOWNSHIP_ROOTS

    lower = RANK.get(peer.key.role, 0) < RANK.get(own.role, 0)
    # a city or province sends down only what that county has: never another county's
    # standards, settings or spot checks (its batch down is mostly an acknowledgement)
    region = own.role in REGION_ROLES and lower
    if (table not in TOWNSHIP_ROOTS and not region) or not lower or peer.key.role == "field":
        return None
    return {
        r[0]
        for r in store.conn.execute(
            "SELECT uid FROM sync_base WHERE peer = ? AND tbl = ? "
            "UNION SELECT uid FROM sync_pending WHERE peer = ? AND tbl = ?",
            (peer.key.code, table, peer.key.code, table),
        )
    }


def _load_ids(store: Store, ids: Iterable[int]) -> None:
    store.conn.execute(f"DROP TABLE IF EXISTS {_TEMP}")
    store.conn.execute(f"CREATE TABLE {_TEMP} (id INTEGER PRIMARY KEY)")
    store.conn.executemany(f"INSERT OR IGNORE INTO {_TEMP} VALUES (?)", ((i,) for i in ids))


def _drop_ids(store: Store) -> None:
    store.conn.execute(f"DROP TABLE IF EXISTS {_TEMP}")


def _of_households(store: Store, codec: TableCodec) -> str | None:
    """``SELECT uid, household id FROM <table> …`` limited to the ids in the temp table."""
    hh = household_column(store, codec)
    if hh is None:
        return None
    col, parent = hh
    t = codec.table
    if parent is None:
        return f"SELECT t.uid, t.{col} FROM {t} t WHERE t.{col} IN (SELECT id FROM {_TEMP})"
    return (
        f"SELECT t.uid, p.household_id FROM {t} t JOIN {parent} p ON p.id = t.{col} "
        f"WHERE p.household_id IN (SELECT id FROM {_TEMP})"
    )


def records_of(store: Store, household_ids: Iterable[int]) -> dict[str, list[tuple[str, int]]]:
    """(uid, household id) of every synced record of these households, by table (parents first)."""
    _load_ids(store, household_ids)
    try:
        out: dict[str, list[tuple[str, int]]] = {}
        for t in changelog.synced_tables(store.conn):
            sql = _of_households(store, TableCodec.load(store.conn, t))
            if sql is not None:
                rows = store.conn.execute(sql).fetchall()
                if rows:
                    out[t] = rows
        return out
    finally:
        _drop_ids(store)


# -- township side -------------------------------------------------------------------------
def newly_in_scope(store: Store, peer: str, in_scope: set[int]) -> dict[str, list[str]]:
    """Records of in-scope households that ``peer`` neither has nor is about to get, by table."""
    out: dict[str, list[str]] = {}
    for t, rows in records_of(store, in_scope).items():
        held = {
            r[0]
            for r in store.conn.execute(
                "SELECT uid FROM sync_base WHERE peer = ? AND tbl = ? "
                "UNION SELECT uid FROM sync_pending WHERE peer = ? AND tbl = ?",
                (peer, t, peer, t),
            )
        }
        missing = [uid for uid, _hid in rows if uid not in held]
        if missing:
            out[t] = missing
    return out


def withdraw_list(store: Store, peer: str, in_scope: set[int]) -> list[str]:
    """Uids of households ``peer`` has (or is about to get) that are no longer in its scope."""
    rows = store.conn.execute(
        "SELECT h.id, h.uid FROM households h WHERE h.uid IN (SELECT uid FROM sync_base "
        "WHERE peer = ? AND tbl = 'households' UNION SELECT uid FROM sync_pending "
        "WHERE peer = ? AND tbl = 'households') ORDER BY h.id",
        (peer, peer),
    ).fetchall()
    return [uid for hid, uid in rows if hid not in in_scope]


def forget(store: Store, peer: str, household_uids: list[str]) -> int:
    """``peer`` confirmed it removed these households: drop what we knew it had of them,
    so they travel in full should its scope include them again.  Returns how many."""
    conn = store.conn
    keys = [("households", u) for u in household_uids]  # also households no longer here at all
    for t, rows in records_of(store, _ids_of(store, household_uids).values()).items():
        keys += [(t, uid) for uid, _hid in rows]
    for sql in (
        "DELETE FROM sync_base WHERE peer = ? AND tbl = ? AND uid = ?",
        "DELETE FROM sync_pending WHERE peer = ? AND tbl = ? AND uid = ?",
    ):
        conn.executemany(sql, [(peer, t, u) for t, u in keys])
    return len(set(household_uids))


def _ids_of(store: Store, household_uids: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in range(0, len(household_uids), 500):
        chunk = household_uids[i : i + 500]
        out.update(
            store.conn.execute(
                f"SELECT uid, id FROM households WHERE uid IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
        )
    return out


# -- field side ----------------------------------------------------------------------------
def withdraw(store: Store, peer: str, household_uids: list[str]) -> tuple[list[str], list[dict]]:
    """Remove the households ``peer`` withdrew, with all their records, where nothing of them
    waits to go up; returns (removed uids, kept: [{uid, village, head_name, reason}])."""
    conn = store.conn
    ids = _ids_of(store, household_uids)
    records = records_of(store, ids.values())
    unsent: dict[int, str] = {}
    open_conflicts = {
        (t, u) for t, u in conn.execute("SELECT tbl, uid FROM sync_conflicts WHERE state = 'open'")
    }
    maps = Maps(store)
    for t, rows in records.items():
        hid_of = dict(rows)
        codec = TableCodec.load(conn, t)
        uids = list(hid_of)
        base = base_hashes(store, peer, t, uids, "hash, force")
        for _rid, uid, _meta, content, _h in encoded(store, codec, uids, maps):
            hid = hid_of[uid]
            if (t, uid) in open_conflicts:
                unsent.setdefault(hid, "有未解决的冲突")
            elif uid not in base or base[uid][0] != content_hash(content):
                unsent.setdefault(hid, "有尚未上传或对方尚未确认的修改")
    kept = []
    heads = {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            f"SELECT id, village, head_name FROM households WHERE id IN "
            f"({', '.join(str(int(i)) for i in ids.values()) or 'NULL'})"
        )
    }
    removed = []
    order = list(reversed(changelog.synced_tables(conn)))  # children before parents
    by_hid: dict[int, dict[str, list[str]]] = {}
    for t, rows in records.items():
        for uid, hid in rows:
            by_hid.setdefault(hid, {}).setdefault(t, []).append(uid)
    for uid, hid in ids.items():
        village, head = heads.get(hid, ("", ""))
        if hid in unsent:
            kept.append({"uid": uid, "village": village, "head_name": head, "reason": unsent[hid]})
            continue
        conn.execute("SAVEPOINT mz_withdraw")
        try:
            for t in order:
                for u in by_hid.get(hid, {}).get(t, []):
                    conn.execute(f"DELETE FROM {t} WHERE uid = ?", (u,))
                    # local only: no tombstone goes up, the bookkeeping of the record goes
                    conn.execute("DELETE FROM sync_changes WHERE tbl = ? AND uid = ?", (t, u))
                    for book in ("sync_base", "sync_pending"):  # keyed (peer, tbl, uid, …)
                        conn.execute(
                            f"DELETE FROM {book} WHERE peer IN (SELECT code FROM "
                            "sync_sites) AND tbl = ? AND uid = ?",
                            (t, u),
                        )
        except sqlite3.IntegrityError as exc:  # e.g. another household's record refers to this one
            conn.execute("ROLLBACK TO mz_withdraw")
            conn.execute("RELEASE mz_withdraw")
            kept.append(
                {
                    "uid": uid,
                    "village": village,
                    "head_name": head,
                    "reason": f"无法删除（{type(exc).__name__}）",
                }
            )
            continue
        conn.execute("RELEASE mz_withdraw")
        removed.append(uid)
    return removed, kept


def reassign(store: Store, code: str, villages: list[str]) -> str:
    """Assign ``villages`` to field laptop ``code``; returns what its next batch will do."""
    from .keys import get_trusted, set_villages

    require(store, "sync.assign")
    old = get_trusted(store, code)
    set_villages(store, code, villages)
    before = set(old.villages) if old else set()
    added, dropped = sorted(set(villages) - before), sorted(before - set(villages))
    return (
        f"已为 {code} 分配：{'、'.join(villages)}。下一批发往该终端时"
        + (f"，下发新分配的 {'、'.join(added)}" if added else "")
        + (f"，撤回 {'、'.join(dropped)}（有未上传修改的户待上传确认后撤回）" if dropped else "")
        + "。"
    )


def confirmations(store: Store, peer: str) -> list[str]:
    """Households ``peer`` last asked us to withdraw that are gone here: confirmed in our next
    batch to it (stateless: a lost batch's confirmation rides again in the next one)."""
    row = store.conn.execute(
        "SELECT report FROM sync_batches WHERE direction = 'in' AND peer = ? AND report IS NOT NULL "
        "ORDER BY seq DESC LIMIT 1",
        (peer,),
    ).fetchone()
    if not row or not row[0]:
        return []
    asked = (json.loads(row[0]).get("withdraw") or {}).get("requested") or []
    present = _ids_of(store, asked)
    return [u for u in asked if u not in present]
