"""Export a batch for a site (``sync export``), or write an earlier one again (``--resend``).

Exactly once: batches to a site are numbered 1, 2, 3 … and each names the
SHA-256 of the one before.  The receiver applies batch n only after n-1; a
later one is held (kept in ``<db>.sync/held/``, applied automatically once
the gap is filled) and an earlier one is a replay, applied zero times.
Every batch carries an acknowledgement of the last batch its sender applied
from the recipient, so "pending acknowledgements" are batches out whose
receipt has not come back yet; a lost one can be re-sent byte for byte
(:func:`resend`).

What travels to a site: records changed since the last batch to it whose
content differs from what that site is known to have (``sync_base``), within
its scope: everything upwards (field → township → county); downwards the
villages assigned to a field laptop, and from the county only households
that township sent, and of a township's records of no household (notices,
relative declarations) only its own (:func:`scope.held_by`).  ``full=True``
sends every record in scope.  What a receiver accepts is checked there
(:mod:`mzdesk.sync.sender_scope`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path

from ..models.auth import require
from ..models.bulk import gc_paused
from ..models.errors import MzError, NotFound
from ..models.files import part_path, synced, write_bytes
from ..models.progress import Cancel, Cancelled, Progress
from ..models.site import require_site
from ..models.store import Store, now_iso
from . import changelog, checkpoints, upward
from . import scope as scoping
from .batch import BatchWriter, check_outgoing, record_line, sha256
from .changelog import HASH_SQL, UID_SQL, TableCodec, content_hash, content_hashes, packed_hashes
from .common import PROGRESS, READ, TABLE_LABELS, big_cache, durable, noop
from .keys import SiteKeys, get_trusted
from .local import Maps, base_hashes, exported, pending_hashes
from .scope import RANK


@dataclass
class ExportResult:
    path: Path
    peer: str
    sequence: int
    counts: dict[str, int]
    full: bool
    bytes: int
    sha256: str
    withdraw: int = 0  # households the field laptop is asked to withdraw
    withdrawn: int = 0  # households this (field) site confirms it withdrew

    def summary(self) -> str:
        """What the batch carries, as the clerk reads it (sync page and ``sync export``)."""
        parts = [f"{TABLE_LABELS.get(t, t)} {n}" for t, n in self.counts.items()]
        if self.withdraw:
            parts.append(f"撤回 {self.withdraw} 户")
        if self.withdrawn:
            parts.append(f"确认已撤回 {self.withdrawn} 户")
        return "，".join(parts) or "无变更（仅确认回执）"


@dataclass
class _Todo:
    """What goes into one batch: records by table (None: all of them), tombstones by table,
    households the field laptop is asked to withdraw and those whose withdrawal this site
    confirms; ``total`` records to read (the progress bar's scale)."""

    records: dict  # table -> uids, or None for every record (full)
    tombstones: dict[str, list[str]]
    withdraw: list[str]
    confirmed: list[str]
    total: int


def export_batch(
    store: Store,
    keys: SiteKeys,
    to: str,
    out: str | Path,
    full: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ExportResult:
    """Write the next batch for site ``to`` to ``out`` (``sync export``).  A full snapshot
    carries everyone's data: it needs ``data.export`` beside ``sync.export``."""
    require(store, "sync.export")
    if full:
        require(store, "data.export")
    progress = progress or noop
    own = require_site(store)
    peer = get_trusted(store, to)
    if peer is None:
        raise MzError(
            f"站点 {to} 不在信任列表中，请先导入其公钥（mzdesk keys trust）", "unknown_site"
        )
    if peer.revoked:
        raise MzError(f"站点 {to} 的密钥已吊销，不能再发给它", "revoked_key")
    out = Path(out)
    if not out.parent.is_dir():  # before the long work, not after it
        raise MzError(f"保存位置不存在：{out.parent}（U 盘是否已插好？）", "no_such_dir")
    part = part_path(out)
    try:
        with (
            store.checkpoint_after(),
            durable(store),
            big_cache(store),
            gc_paused(),
            store.transaction(),
        ):
            result = _export(store, keys, own, peer, to, out, part, full, progress, cancel)
    except BaseException:
        part.unlink(missing_ok=True)  # no record, so no file either
        raise
    # the batch is on record (durably) before it has its name: a file nobody has a record of
    # would have its sequence number used again.  Should this rename fail, the batch can be
    # written again byte for byte (resend)
    os.replace(part, out)
    return result


def _todo(store: Store, own, peer, to: str, state, scope, tables: list[str], full: bool) -> _Todo:
    """Which records, tombstones and withdrawals the batch to ``to`` carries."""
    if full:
        todo: dict = {t: None for t in tables}
        tombstones: dict[str, list[str]] = {}
    else:
        todo, tombstones = _changes(store, state["out_cursor"])
    withdraw: list[str] = []
    if peer.key.role == "field" and scope is not None:
        # assignments change: what came into scope goes down even if unchanged, and
        # what left it is withdrawn (see mzdesk.sync.scope)
        if not full:
            for t, uids in scoping.newly_in_scope(store, to, scope).items():
                have = set(todo.get(t, []))
                todo.setdefault(t, []).extend(u for u in uids if u not in have)
        withdraw = scoping.withdraw_list(store, to, scope)
    higher = RANK.get(peer.key.role, 0) > RANK.get(own.role, 0)
    confirmed = scoping.confirmations(store, to) if higher else []
    if full:
        total = sum(store.scalar(f"SELECT count(*) FROM {t}") for t in tables)
    else:
        total = sum(len(v) for v in todo.values())
    return _Todo(todo, tombstones, withdraw, confirmed, total)


def _changes(store: Store, cursor: int) -> tuple[dict, dict]:
    """The records changed since ``cursor`` in the change log: (upserts, tombstones), each
    table -> uids in log order."""
    todo: dict[str, list[str]] = {}
    tombstones: dict[str, list[str]] = {}
    for t, uid, op in store.conn.execute(
        "SELECT tbl, uid, op FROM sync_changes WHERE seq > ? ORDER BY seq", (cursor,)
    ):
        (tombstones if op == "delete" else todo).setdefault(t, []).append(uid)
    return todo, tombstones


def _manifest(
    store: Store,
    keys: SiteKeys,
    own,
    peer,
    to: str,
    state,
    seq: int,
    full: bool,
    counts: dict[str, int],
    todo: _Todo,
) -> dict:
    manifest = {
        "schema_version": store.schema_version,
        "sender": {
            "code": own.code,
            "name": own.name,
            "role": own.role,
            "fingerprint": keys.public.fingerprint,
        },
        "recipient": {
            "code": peer.key.code,
            "name": peer.key.name,
            "fingerprint": peer.key.fingerprint,
        },
        "sequence": seq,
        "previous_sha256": state["last_out_hash"],
        "ack": _ack(store, to, state),
        "created_at": now_iso(),
        "full": full,
        "counts": counts,
    }
    if todo.withdraw:
        manifest["withdraw"] = {"households": todo.withdraw}
    if todo.confirmed:
        manifest["withdrawn"] = {"households": todo.confirmed}
    return manifest


def _export(
    store: Store,
    keys: SiteKeys,
    own,
    peer,
    to: str,
    out: Path,
    part: Path,
    full: bool,
    progress: Progress,
    cancel: Cancel | None,
) -> ExportResult:
    """The body of :func:`export_batch`, inside its transaction: the batch that will be
    ``out`` is written to ``part``."""
    changelog.ensure_triggers(store.conn)
    state = store.one("SELECT * FROM sync_sites WHERE code = ?", (to,))
    position = changelog.log_position(store.conn)
    scope = scoping.scope(store, own, peer)
    tables = changelog.synced_tables(store.conn)
    todo = _todo(store, own, peer, to, state, scope, tables, full)
    writer = BatchWriter()
    # forwarded upward (county -> city/province): which records' origins the batch names
    forwarding = upward.is_upward(own, peer.key.role)
    sent: dict[str, list[str]] | None = (
        dict.fromkeys(upward.root_tables(store), []) if forwarding else None
    )

    def reading(done: int, total: int) -> None:  # the first READ of the bar; then the
        progress(READ * done // max(total, 1), PROGRESS)  # bookkeeping, encryption, commit

    try:
        counts, bases = _collect(
            store,
            own,
            peer,
            tables,
            todo.records,
            todo.tombstones,
            full,
            to,
            scope,
            Maps(store),
            writer,
            todo.total,
            reading,
            cancel,
            sent,
        )
        if sent is not None:
            lines = upward.origin_lines(store, own, sent)
            if lines:  # signed through the manifest's files, not counted as records
                writer.add(upward.ORIGINS, lines, len(lines))
    except BaseException:
        writer.discard()
        raise
    assert state is not None  # the peer's row: a trusted site has one
    seq = state["last_out_seq"] + 1
    # written while the writer's thread still deflates the last records file (SQLite lets
    # go of the GIL)
    for t, packed in bases.items():
        store.conn.execute(
            f"INSERT INTO sync_pending (peer, seq, tbl, uid, hash) SELECT ?, ?, ?, {UID_SQL}, "
            f"{HASH_SQL} FROM json_each(?)",
            (to, seq, t, packed),
        )
    manifest = _manifest(store, keys, own, peer, to, state, seq, full, counts, todo)
    carried = checkpoints.for_batch(store, keys, to)  # the audit chain's head, signed
    if carried:
        manifest["audit_checkpoints"] = carried
    if forwarding:  # the townships' checkpoints, for the city or province to verify
        passed_on = upward.forwarded_checkpoints(store, own, to, full)
        if passed_on:
            manifest["forwarded"] = {"audit_checkpoints": passed_on}
    progress(READ + (PROGRESS - READ) // 2, PROGRESS)
    if cancel and cancel():
        writer.close()
        raise Cancelled()
    data = writer.finish(manifest, keys, peer.key)
    progress(PROGRESS - (PROGRESS - READ) // 4, PROGRESS)
    digest = sha256(data)
    store.conn.execute("UPDATE sync_base SET force = 0 WHERE peer = ? AND force = 1", (to,))
    store.conn.execute(
        "UPDATE sync_sites SET last_out_seq = ?, last_out_hash = ?, out_cursor = ? WHERE code = ?",
        (seq, digest, position, to),
    )
    store.conn.execute(
        "INSERT INTO sync_batches (direction, peer, seq, sha256, full, created_at, processed_at, "
        "counts, file_name, data) VALUES ('out', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            to,
            seq,
            digest,
            int(full),
            manifest["created_at"],
            now_iso(),
            json.dumps(counts),
            out.name,
            data,
        ),
    )
    part.write_bytes(data)  # inside the transaction: no file written, no record of it
    synced(part)
    return ExportResult(
        out, to, seq, counts, full, len(data), digest, len(todo.withdraw), len(todo.confirmed)
    )


def _collect(
    store: Store,
    own,
    peer,
    tables: list[str],
    todo: dict,
    tombstones: dict,
    full: bool,
    to: str,
    scope: set[int] | None,
    maps: Maps,
    writer: BatchWriter,
    total: int,
    progress: Progress,
    cancel: Cancel | None,
    sent_out: dict[str, list[str]] | None = None,
) -> tuple[dict[str, int], dict[str, bytes]]:
    """Read the records that go to ``to`` into ``writer``; (counts per table, new bases per
    table as :func:`changelog.packed_hashes`).  Each line comes out of SQLite as bytes (head,
    row); the row's hash is taken from those bytes, which are what the receiver hashes too.
    ``sent_out``: each of its tables gets the uids sent (the origins of a batch upward)."""
    counts: dict[str, int] = {}
    bases: dict[str, bytes] = {}
    done = 0
    for t in tables:
        if t not in todo and t not in tombstones:
            continue
        codec = TableCodec.load(store.conn, t)
        uids = todo.get(t, [])
        known = {} if full else base_hashes(store, to, t, uids, "hash, force")
        pending = {} if full else pending_hashes(store, to, t, uids)
        only = scoping.held_by(store, own, peer, t)
        parts: list[bytes] = []
        sent_uids: list[str] = []
        sent: list[bytes] = []
        for rows in exported(store, codec, None if full else uids, maps):
            done += len(rows)
            if cancel and cancel():
                raise Cancelled()
            progress(done, total)
            _take(rows, scope, only, known, pending, parts, sent_uids, sent)
        if sent_out is not None and t in sent_out:
            sent_out[t] = sent_uids
        packed = _packed_bases(sent_uids, sent)
        if packed is not None:
            bases[t] = packed
        check_outgoing(t, sent)  # models/text.py: before the batch takes its number
        n = len(sent)
        for uid in tombstones.get(t, []):
            parts.append(record_line(uid, "delete", None, None).encode("utf-8"))
            n += 1
        if n:
            writer.add(t, parts, n)  # joined, hashed and deflated on the writer's thread
            counts[t] = n
    progress(total, total)
    return counts, bases


_END = b"}\n"


def _take(
    rows: list,
    scope: set[int] | None,
    only: set[str] | None,
    known: dict,
    pending: dict,
    parts: list[bytes],
    sent_uids: list[str],
    sent: list[bytes],
) -> None:
    """Add the lines of ``rows`` (uid, head, content, household id) that go to the peer:
    those in its scope whose content it does not have (or is not about to get) already;
    ``only``: the records of no household that may go (:func:`scope.held_by`)."""
    if scope is None and only is None and not known and not pending:  # all, as they come
        u, heads, contents, _ = zip(*rows, strict=True)
        sent_uids += u
        sent += contents
        parts += chain.from_iterable(zip(heads, contents, repeat(_END), strict=False))
        return
    for uid, head, content, hid in rows:
        if scope is not None and hid is not None and hid not in scope:
            continue
        if only is not None and hid is None and uid not in only:
            continue
        if uid in known or uid in pending:
            base_hash, force = known.get(uid, (None, 0))
            if not force and pending.get(uid, base_hash) == content_hash(content):
                continue  # the peer has (or is about to get) exactly this: no echo
        parts += (head, content, _END)
        sent_uids.append(uid)
        sent.append(content)


def _packed_bases(sent_uids: list[str], sent: list[bytes]) -> bytes | None:
    """The new bases of the records sent (:func:`changelog.packed_hashes`), None for none.
    In key order: the sync_pending B-tree then takes appends, not random inserts."""
    hashes = content_hashes(sent)
    order = sorted(range(len(sent)), key=sent_uids.__getitem__)
    if not order:
        return None
    return packed_hashes(
        list(map(sent_uids.__getitem__, order)), list(map(hashes.__getitem__, order))
    )


def _ack(store: Store, to: str, state) -> dict:
    """What this site received from ``to``; ``held``: the records of those batches it did not
    take (an open conflict or a record set aside), so that ``to`` does not count them as common
    ground and silently take this site's version over its own next time."""
    ack = {"sequence": state["last_in_seq"], "sha256": state["last_in_hash"]}
    held: dict[str, list[str]] = {}
    for t, uid in store.conn.execute(
        "SELECT DISTINCT tbl, uid FROM sync_conflicts WHERE state = 'open' AND peer = ? "
        "ORDER BY tbl, uid",
        (to,),
    ):
        held.setdefault(t, []).append(uid)
    if held:
        ack["held"] = held
    return ack


def resend(store: Store, to: str, seq: int, out: str | Path) -> Path:
    """Write an earlier batch to ``to`` again, byte for byte (it was lost on the way)."""
    require(store, "sync.export")
    data = store.scalar(
        "SELECT data FROM sync_batches WHERE direction = 'out' AND peer = ? AND seq = ?", (to, seq)
    )
    if data is None:
        raise NotFound(f"没有发给站点 {to} 的第 {seq} 批", "not_found")
    return write_bytes(out, data)
