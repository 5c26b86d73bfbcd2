"""Undoing a roster import (撤销导入): the most recent batch, as a unit.

What the batch created is soft-deleted, what it changed is put back as it was
(``import_rows.before``), and only while nothing it wrote was edited since.
"""

from __future__ import annotations

import json

from ..models.auth import require
from ..models.enrolment_import import undo_imported
from ..models.errors import MzError
from ..models.store import Store


def batches(store: Store, limit: int = 50) -> list[dict]:
    """Recent imports, newest first, with their summary."""
    return [
        {**r, "summary": json.loads(r["summary"])}
        for r in store.db.query(
            "SELECT id, uid, file_name, state, created_at, created_by, undone_at, summary "
            "FROM import_batches ORDER BY id DESC LIMIT ?",
            (limit,),
        )
    ]


def undo(store: Store, batch_id: int | None = None, reason: str = "撤销导入") -> dict:
    """Undo an import as a unit: soft-delete what it created, restore what it changed.

    Only the most recent applied import can be undone, and only while the
    households it created have not been edited since.
    """
    require(store, "household.import")
    with store.transaction():
        last = _last_batch(store, batch_id)
        rows = store.conn.execute(
            "SELECT table_name, row_id, action, before FROM import_rows WHERE batch_id = ? "
            "ORDER BY id DESC",
            (last["id"],),
        ).fetchall()
        created_h = [r[1] for r in rows if r[0] == "households" and r[2] == "created"]
        _check_not_edited(store, rows)
        stamp = store.stamp(new=False)
        ts, by = stamp["updated_at"], stamp["updated_by"]
        for table, row_id, action, before in rows:
            _undo_row(store, table, row_id, action, before, reason, ts, by)
        store.conn.execute(
            "UPDATE import_batches SET state = 'undone', undone_at = ?, undone_by = ?, "
            "updated_at = ?, updated_by = ? WHERE id = ?",
            (ts, by, ts, by, last["id"]),
        )
    return {"batch_id": last["id"], "households_removed": len(created_h), "rows": len(rows)}


def _last_batch(store: Store, batch_id: int | None) -> dict:
    last = store.one(
        "SELECT * FROM import_batches WHERE state = 'applied' ORDER BY id DESC LIMIT 1"
    )
    if last is None:
        raise MzError("没有可以撤销的导入", "nothing_to_undo")
    if batch_id is not None and batch_id != last["id"]:
        raise MzError(f"只能撤销最近一次导入（编号{last['id']}）", "not_last_import")
    return last


def _check_not_edited(store: Store, rows: list) -> None:
    """Households and enrolments the batch wrote still at the ``rev`` it left them."""
    for table, row_id, action, before in rows:
        if table not in ("households", "enrolments") or (table, action) == (
            "enrolments",
            "created",
        ):
            continue
        expect = 1 if action == "created" else json.loads(before)["rev"] + 1
        rev = store.scalar(f"SELECT rev FROM {table} WHERE id = ?", (row_id,))
        if rev != expect:
            raise MzError(
                f"该次导入写入的记录（{table} {row_id}）在导入后已被修改，不能整体撤销",
                "edited_since",
            )


def _undo_row(
    store: Store,
    table: str,
    row_id: int,
    action: str,
    before: str | None,
    reason: str,
    ts: str,
    by: str,
) -> None:
    if action == "created" and table == "members":
        store.conn.execute(
            "UPDATE members SET status = 'deleted', status_reason = ?, "
            "id_raw = COALESCE(id_number, id_raw), id_number = NULL, id_rev = NULL, "
            "updated_at = ?, updated_by = ? WHERE id = ? AND status = 'active'",
            (reason, ts, by, row_id),
        )
    elif action == "created" and table == "households":
        store.conn.execute(
            "UPDATE households SET status = 'deleted', status_reason = ?, rev = rev + 1, "
            "updated_at = ?, updated_by = ? WHERE id = ?",
            (reason, ts, by, row_id),
        )
    elif table == "enrolments":  # the enrolment service writes its own table
        undo_imported(store, row_id, action, before, ts, by)
    elif action == "updated":
        assert before is not None  # an update logs the columns it changed
        values = json.loads(before)
        sets = ", ".join(f'"{k}" = ?' for k in values)  # rev too: as before the import
        store.conn.execute(
            f"UPDATE {table} SET {sets}, updated_at = ?, updated_by = ? WHERE id = ?",
            (*values.values(), ts, by, row_id),
        )
