"""Batches sent and received, those whose receipt has not come back, and those held
back until a gap in the sequence is filled (the sync page's history and ``sync status``)."""

from __future__ import annotations

from pathlib import Path

from ..models.store import Store, now_iso
from .keys import sync_dir


def held_dir(store: Store) -> Path:
    """Where older versions kept a batch that arrived after a gap (``<db>.sync/held/``):
    now such batches are kept inside the database (``sync_held``; an encrypted database
    protects them with its passphrase).  Files still there are moved in at the next import
    into a writable store (:func:`adopt_held_files`)."""
    return sync_dir(store) / "held"


def _held_name(peer: str, seq: int) -> str:
    return f"{peer}-{seq:06d}.age"


def adopt_held_files(store: Store) -> int:
    """Move the held batch files of an older version into ``sync_held``; how many."""
    d = held_dir(store)
    if store.readonly or store.path == ":memory:" or not d.is_dir():
        return 0
    moved = 0
    for f in sorted(d.glob("*.age")):
        peer, _, seq = f.stem.rpartition("-")
        if not (peer and seq.isdigit()):
            continue  # not a name this program wrote: left for the clerk
        with store.transaction():
            store.conn.execute(
                "INSERT OR IGNORE INTO sync_held (peer, seq, file_name, held_at, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (peer, int(seq), f.name, now_iso(), f.read_bytes()),
            )
        f.unlink()
        moved += 1
    return moved


def hold(store: Store, peer: str, seq: int, file_name: str, data: bytes) -> None:
    """Keep a batch that arrived after a gap until the gap is filled."""
    with store.transaction():
        store.conn.execute(
            "INSERT OR REPLACE INTO sync_held (peer, seq, file_name, held_at, data) "
            "VALUES (?, ?, ?, ?, ?)",
            (peer, seq, file_name, now_iso(), data),
        )


def held_batch(store: Store, peer: str, seq: int) -> tuple[str, bytes] | None:
    """The held batch ``seq`` of ``peer`` (its file name and bytes), if one waits."""
    adopt_held_files(store)
    r = store.one("SELECT file_name, data FROM sync_held WHERE peer = ? AND seq = ?", (peer, seq))
    return (r["file_name"] or _held_name(peer, seq), r["data"]) if r else None


def history(store: Store, direction: str | None = None) -> list[dict]:
    sql = (
        "SELECT id, direction, peer, seq, sha256, full, created_at, processed_at, acked_at, "
        "counts, report, file_name FROM sync_batches"
    )
    args: tuple = ()
    if direction:
        sql += " WHERE direction = ?"
        args = (direction,)
    return [dict(r) for r in store.db.query(sql + " ORDER BY id DESC", args)]


def pending_acks(store: Store) -> list[dict]:
    return [
        dict(r)
        for r in store.db.query(
            "SELECT peer, seq, created_at, file_name FROM sync_batches WHERE direction = 'out' "
            "AND acked_at IS NULL ORDER BY peer, seq"
        )
    ]


def held_batches(store: Store) -> list[str]:
    """The held batches, named ``<peer>-<seq>.age`` as they were when kept as files."""
    adopt_held_files(store)
    names = [
        _held_name(r["peer"], r["seq"])
        for r in store.db.query("SELECT peer, seq FROM sync_held ORDER BY peer, seq")
    ]
    d = held_dir(store) if store.path != ":memory:" else None
    if d is not None and d.is_dir():  # a read-only store cannot move them in yet
        names += [p.name for p in d.glob("*.age") if p.name not in names]
    return sorted(names)
