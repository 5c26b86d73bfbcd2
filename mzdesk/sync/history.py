"""Batches sent and received, those whose receipt has not come back, and those held
back until a gap in the sequence is filled (the sync page's history and ``sync status``)."""

from __future__ import annotations

from pathlib import Path

from ..models.store import Store
from .keys import sync_dir


def held_dir(store: Store) -> Path:
    """Where a batch that arrived after a gap waits (``<db>.sync/held/``)."""
    return sync_dir(store) / "held"


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
    d = held_dir(store)
    return sorted(p.name for p in d.glob("*.age")) if d.exists() else []
