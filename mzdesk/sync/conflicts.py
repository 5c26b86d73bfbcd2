"""Conflicts an import set aside: recorded (:func:`record`, :func:`close_edit`), listed,
shown side by side and resolved by a clerk (the sync page and ``sync conflicts``).

Kinds: ``edit`` (both sites changed the same field differently), ``duplicate_id`` (an ID
number active in another household here: possible 重复享受) and ``orphan`` (the record's
parent is not here)."""

from __future__ import annotations

import json

from ..models import enrolment_bulk
from ..models.auth import require
from ..models.errors import MzError, NotFound
from ..models.ids import mask_id
from ..models.site import require_site
from ..models.store import Store, now_iso
from .batch import Record
from .changelog import TableCodec
from .common import TABLE_LABELS
from .keys import get_trusted
from .local import Maps
from .scope import RANK

CONFLICT_KINDS = {"edit": "双方修改", "duplicate_id": "可能重复享受", "orphan": "缺少上级记录"}
# search keys computed from other fields: not shown when two versions are compared
DERIVED = frozenset({"id_rev", "phone_rev", "name_tail", "py_initials", "py_full", "head_py"})


def record(
    conn,
    peer: str,
    batch_seq: int,
    now: str,
    t: str,
    rec: Record,
    local_json: str | None,
    kind: str,
    fields: list[str],
    note: str,
) -> None:
    """Set ``rec`` from ``peer`` aside as an open conflict (or refresh the open one of the
    same kind for that record: the newer version and note replace the older)."""
    remote = json.dumps({"row": rec.row, "meta": rec.meta}, ensure_ascii=False, sort_keys=True)
    existing = conn.execute(
        "SELECT id FROM sync_conflicts WHERE state = 'open' AND peer = ? AND tbl = ? AND uid = ? "
        "AND kind = ?",
        (peer, t, rec.uid, kind),
    ).fetchone()
    if existing:
        conn.execute(
            "UPDATE sync_conflicts SET remote = ?, local = ?, fields = ?, note = ?, "
            "batch_seq = ? WHERE id = ?",
            (remote, local_json, json.dumps(fields), note, batch_seq, existing[0]),
        )
        return
    conn.execute(
        "INSERT INTO sync_conflicts (peer, batch_seq, tbl, uid, kind, fields, local, remote, "
        "note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (peer, batch_seq, t, rec.uid, kind, json.dumps(fields), local_json, remote, note, now),
    )


def close_edit(conn, peer: str, now: str, t: str, uid: str, how: str) -> None:
    """Close the open edit conflict on ``uid`` with ``peer``: it settled itself (``how``)."""
    conn.execute(
        "UPDATE sync_conflicts SET state = 'resolved', resolution = ?, resolved_at = ?, "
        "resolved_by = ? WHERE state = 'open' AND kind = 'edit' AND peer = ? AND tbl = ? "
        "AND uid = ?",
        (how, now, f"site {peer}", peer, t, uid),
    )


def open_edits(conn, peer: str) -> dict[str, set[str]]:
    """The records in an open edit conflict with ``peer``: table -> uids."""
    out: dict[str, set[str]] = {}
    for t, uid in conn.execute(
        "SELECT tbl, uid FROM sync_conflicts WHERE state = 'open' AND kind = 'edit' AND peer = ?",
        (peer,),
    ):
        out.setdefault(t, set()).add(uid)
    return out


def conflict_title(c: dict) -> str:
    """One line naming a conflict: its kind, the table and whose record it is."""
    row = c["remote"]["row"] or {}
    who = row.get("head_name") or row.get("name") or c["uid"][:8]
    return (
        f"[{CONFLICT_KINDS.get(c['kind'], c['kind'])}] {TABLE_LABELS.get(c['tbl'], c['tbl'])} {who}"
    )


def conflict_sides(c: dict) -> list[tuple[str, str, str, bool]]:
    """The two versions side by side: (field, local, remote, in conflict), the conflicting
    fields first.  ID numbers are masked: the sync page may be on a shared screen, the CLI
    output in a terminal log.  ``local`` is "（无）" where this site has no such record."""
    local, remote = c["local"] or {}, c["remote"]["row"] or {}

    def show(k, v):
        if v and (k.endswith("id_number") or k == "id_raw"):
            return mask_id(str(v))
        return "" if v is None else str(v)

    keys = sorted((set(local) | set(remote)) - DERIVED, key=lambda k: (k not in c["fields"], k))
    return [
        (
            k,
            show(k, local.get(k)) if c["local"] else "（无）",
            show(k, remote.get(k)),
            k in c["fields"],
        )
        for k in keys
    ]


def open_conflicts(store: Store) -> list[dict]:
    rows = store.db.query("SELECT * FROM sync_conflicts WHERE state = 'open' ORDER BY id")
    out = []
    for r in rows:
        r = dict(r)
        r["fields"] = json.loads(r["fields"])
        r["local"] = json.loads(r["local"]) if r["local"] else None
        r["remote"] = json.loads(r["remote"])
        out.append(r)
    return out


def resolve_conflict(store: Store, conflict_id: int, choice: str | dict[str, str]) -> None:
    """Resolve a conflict: ``'local'`` keeps ours (and sends it), ``'remote'`` takes theirs,
    ``'dismiss'`` closes a duplicate/orphan after follow-up, or a dict field -> 'local'|'remote'."""
    require(store, "sync.resolve")
    with store.transaction():
        c = store.one(
            "SELECT * FROM sync_conflicts WHERE id = ? AND state = 'open'", (conflict_id,)
        )
        if c is None:
            raise NotFound(f"没有待处理的冲突 {conflict_id}")
        own, peer = require_site(store), get_trusted(store, c["peer"])
        if c["kind"] == "edit" and peer and RANK.get(peer.key.role, 0) > RANK.get(own.role, 0):
            raise MzError(
                f"此冲突由上级站点 {peer.key.code} {peer.key.name} 处理，处理结果会随下一批到达",
                "resolved_upstream",
            )
        if c["kind"] != "edit":
            if choice not in ("dismiss",):
                raise MzError("此类问题（重复身份证号/缺少上级记录）只能在跟进后关闭", "bad_choice")
        elif choice == "dismiss":  # closing it would leave the two sites different unsaid
            raise MzError("双方修改的冲突须作出决定：保留本站、采用对方或逐字段选择", "bad_choice")
        else:
            _settle_edit(store, c, choice)
        store.conn.execute(
            "UPDATE sync_conflicts SET state = 'resolved', resolution = ?, resolved_at = ?, "
            "resolved_by = ? WHERE id = ?",
            (
                choice if isinstance(choice, str) else json.dumps(choice),
                now_iso(),
                store.operator,
                conflict_id,
            ),
        )


def _settle_edit(store: Store, c, choice: str | dict[str, str]) -> None:
    """Write the clerk's decision on an edit conflict ``c`` to the record, and mark it to
    travel to the peer even when it equals what the peer sent."""
    t, uid = c["tbl"], c["uid"]
    stamp = store.stamp(new=False)
    codec = TableCodec.load(store.conn, t)
    remote = json.loads(c["remote"])["row"]
    local = json.loads(c["local"])
    if choice == "local":
        content = local
    elif choice == "remote":
        content = remote
    elif isinstance(choice, dict):
        content = {
            k: (remote.get(k) if choice.get(k) == "remote" else local.get(k))
            for k in set(local) | set(remote)
        }
    else:
        raise MzError(f"未知的处理方式: {choice!r}", "bad_choice")
    values, missing = codec.decode(content, Maps(store).id_maps(codec))
    if missing:
        raise MzError(f"缺少上级记录: {', '.join(missing)}", "orphan")
    values.update({k: v for k, v in stamp.items() if k in codec.columns})
    if t in enrolment_bulk.TABLES:  # the enrolment service writes (and checks) its own
        enrolment_bulk.settle_received(store, t, uid, values, set(codec.columns))
    else:
        cols = list(values)
        bump = ", rev = rev + 1" if "rev" in codec.columns else ""
        store.conn.execute(
            f"UPDATE {t} SET {', '.join(f'{k} = ?' for k in cols)}{bump} WHERE uid = ?",
            [values[k] for k in cols] + [uid],
        )
    # the decision must travel even when it equals what the peer sent
    store.conn.execute(
        "INSERT INTO sync_base (peer, tbl, uid, force) VALUES (?, ?, ?, 1) "
        "ON CONFLICT(peer, tbl, uid) DO UPDATE SET force = 1",
        (c["peer"], t, uid),
    )
