"""Export a batch for a site, import a batch from one, resolve conflicts.

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
that township sent.  ``full=True`` sends every record in scope.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path

from ..models import audit
from ..models.bulk import gc_paused, insert_many, insert_select
from ..models.bulk import indexes_deferred as bulk_indexes_deferred
from ..models.errors import MzError, NotFound
from ..models.files import part_path, synced, write_bytes
from ..models.ids import mask_id
from ..models.migrations import MIGRATIONS
from ..models.progress import Cancel, Cancelled, Progress
from ..models.site import require_site
from ..models.store import Store, now_iso
from . import changelog, staging
from . import scope as scoping
from .batch import (
    Batch,
    BatchRefused,
    BatchWriter,
    Record,
    _lines,
    bad_value,
    check_outgoing,
    open_batch,
    parse_lines,
    read_member,
    read_records,
    record_line,
    sha256,
    text_rule_applies,
)
from .changelog import (
    HASH_SQL,
    UID_SQL,
    TableCodec,
    canonical,
    content_hash,
    content_hashes,
    packed_hashes,
)
from .keys import SiteKeys, get_trusted, sync_dir
from .local import Maps, base_hashes, chunks, encoded, exported, pending_hashes
from .scope import RANK

# progress in parts of PROGRESS.  Import: reading and parsing the batch take the first
# PARSED (measured at 100k households: ~7 s of ~37), applying it the rest.  Export:
# reading the records the first READ (~6.5 s of ~10), then sync_pending, encryption, commit
PROGRESS, PARSED, READ = 1000, 200, 650


def _noop(done: int, total: int) -> None:
    pass


def _noop_step(part: float) -> None:
    pass


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


def export_batch(
    store: Store,
    keys: SiteKeys,
    to: str,
    out: str | Path,
    full: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ExportResult:
    """Write the next batch for site ``to`` to ``out`` (``sync export``)."""
    progress = progress or _noop
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
        with store.checkpoint_after(), _durable(store), _big_cache(store), gc_paused(), \
                store.transaction():  # fmt: skip
            result = _export(store, keys, own, peer, to, out, part, full, progress, cancel)
    except BaseException:
        part.unlink(missing_ok=True)  # no record, so no file either
        raise
    # the batch is on record (durably) before it has its name: a file nobody has a record of
    # would have its sequence number used again.  Should this rename fail, the batch can be
    # written again byte for byte (resend)
    os.replace(part, out)
    return result


def _export(store: Store, keys: SiteKeys, own, peer, to: str, out: Path, part: Path, full: bool,
            progress: Progress, cancel: Cancel | None) -> ExportResult:  # fmt: skip
    """The body of :func:`export_batch`, inside its transaction: the batch that will be
    ``out`` is written to ``part``."""
    changelog.ensure_triggers(store.conn)
    state = store.one("SELECT * FROM sync_sites WHERE code = ?", (to,))
    position = changelog.log_position(store.conn)
    scope = scoping.scope(store, own, peer)
    maps = Maps(store)
    tables = changelog.synced_tables(store.conn)
    if full:
        todo = {t: None for t in tables}
        total = sum(store.scalar(f"SELECT count(*) FROM {t}") for t in tables)
        tombstones: dict[str, list[str]] = {}
    else:
        todo, tombstones = {}, {}
        for t, uid, op in store.conn.execute(
            "SELECT tbl, uid, op FROM sync_changes WHERE seq > ? ORDER BY seq",
            (state["out_cursor"],),
        ):
            (tombstones if op == "delete" else todo).setdefault(t, []).append(uid)
    withdraw: list[str] = []
    if peer.key.role == "field" and scope is not None:
        # assignments change: what came into scope goes down even if unchanged, and
        # what left it is withdrawn (see mzdesk.sync.scope)
        if not full:
            for t, uids in scoping.newly_in_scope(store, to, scope).items():
                have = set(todo.get(t, []))
                todo.setdefault(t, []).extend(u for u in uids if u not in have)
        withdraw = scoping.withdraw_list(store, to, scope)
    confirmed = (
        scoping.confirmations(store, to)
        if RANK.get(peer.key.role, 0) > RANK.get(own.role, 0)
        else []
    )
    if not full:
        total = sum(len(v) for v in todo.values())
    writer = BatchWriter()

    def reading(done: int, total: int) -> None:  # the first READ of the bar; then the
        progress(READ * done // max(total, 1), PROGRESS)  # bookkeeping, encryption, commit

    try:
        counts, bases = _collect(store, tables, todo, tombstones, full, to, scope, maps, writer,
                                 total, reading, cancel)  # fmt: skip
    except BaseException:
        writer.discard()
        raise
    seq = state["last_out_seq"] + 1
    # written while the writer's thread still deflates the last records file (SQLite lets
    # go of the GIL)
    for t, packed in bases.items():
        store.conn.execute(
            f"INSERT INTO sync_pending (peer, seq, tbl, uid, hash) SELECT ?, ?, ?, {UID_SQL}, "
            f"{HASH_SQL} FROM json_each(?)",
            (to, seq, t, packed),
        )
    manifest = {
        "schema_version": store.schema_version,
        "sender": {"code": own.code, "name": own.name, "role": own.role,
                   "fingerprint": keys.public.fingerprint},
        "recipient": {"code": peer.key.code, "name": peer.key.name,
                      "fingerprint": peer.key.fingerprint},
        "sequence": seq,
        "previous_sha256": state["last_out_hash"],
        "ack": _ack(store, to, state),
        "created_at": now_iso(),
        "full": full,
        "counts": counts,
    }  # fmt: skip
    if withdraw:
        manifest["withdraw"] = {"households": withdraw}
    if confirmed:
        manifest["withdrawn"] = {"households": confirmed}
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
        (to, seq, digest, int(full), manifest["created_at"], now_iso(),
         json.dumps(counts), out.name, data),
    )  # fmt: skip
    part.write_bytes(data)  # inside the transaction: no file written, no record of it
    synced(part)
    return ExportResult(
        out, to, seq, counts, full, len(data), digest, len(withdraw), len(confirmed)
    )


def _collect(store: Store, tables: list[str], todo: dict, tombstones: dict, full: bool, to: str,
             scope: set[int] | None, maps: Maps, writer: BatchWriter, total: int,
             progress: Progress, cancel: Cancel | None) -> tuple[dict[str, int], dict[str, bytes]]:  # fmt: skip
    """Read the records that go to ``to`` into ``writer``; (counts per table, new bases per
    table as :func:`changelog.packed_hashes`).  Each line comes out of SQLite as bytes (head,
    row); the row's hash is taken from those bytes, which are what the receiver hashes too."""
    counts: dict[str, int] = {}
    bases: dict[str, bytes] = {}
    done = 0
    end = b"}\n"
    for t in tables:
        if t not in todo and t not in tombstones:
            continue
        codec = TableCodec.load(store.conn, t)
        uids = todo.get(t, [])
        known = {} if full else base_hashes(store, to, t, uids, "hash, force")
        pending = {} if full else pending_hashes(store, to, t, uids)
        parts: list[bytes] = []
        sent_uids: list[str] = []
        sent: list[bytes] = []
        for rows in exported(store, codec, None if full else uids, maps):
            done += len(rows)
            if cancel and cancel():
                raise Cancelled()
            progress(done, total)
            if scope is None and not known and not pending:  # all of them, as they come
                u, heads, contents, _ = zip(*rows, strict=True)
                sent_uids += u
                sent += contents
                parts += chain.from_iterable(zip(heads, contents, repeat(end), strict=False))
                continue
            for uid, head, content, hid in rows:
                if scope is not None and hid is not None and hid not in scope:
                    continue
                if uid in known or uid in pending:
                    base_hash, force = known.get(uid, (None, 0))
                    if not force and pending.get(uid, base_hash) == content_hash(content):
                        continue  # the peer has (or is about to get) exactly this: no echo
                parts += (head, content, end)
                sent_uids.append(uid)
                sent.append(content)
        hashes = content_hashes(sent)
        # in key order: the sync_pending B-tree then takes appends, not random inserts
        order = sorted(range(len(sent)), key=sent_uids.__getitem__)
        if order:
            bases[t] = packed_hashes(
                list(map(sent_uids.__getitem__, order)), list(map(hashes.__getitem__, order))
            )
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


def _ack(store: Store, to: str, state) -> dict:
    """What this site received from ``to``; ``held``: the records of those batches it did not
    take (an open conflict or a record set aside), so that ``to`` does not count them as common
    ground and silently take this site's version over its own next time."""
    ack = {"sequence": state["last_in_seq"], "sha256": state["last_in_hash"]}
    held: dict[str, list[str]] = {}
    for t, uid in store.conn.execute(
        "SELECT DISTINCT tbl, uid FROM sync_conflicts WHERE state = 'open' AND peer = ? "
        "ORDER BY tbl, uid", (to,)):  # fmt: skip
        held.setdefault(t, []).append(uid)
    if held:
        ack["held"] = held
    return ack


def _held(ack: dict) -> str:
    """The acknowledgement's ``held`` records (checked by ``open_batch``) as a JSON array of
    [table, uid]."""
    held = ack.get("held") or {}
    return json.dumps([[t, uid] for t, uids in held.items() for uid in uids])


def _durable(store: Store):
    """The commit is on disk when it returns (WAL synced, ``synchronous = FULL``), not only
    after the next checkpoint: an export hands a file out, and a power cut must not forget
    it was made.  Joined to an outer transaction, that one's commit decides (SQLite refuses
    to change the level inside a transaction)."""
    return contextlib.nullcontext() if store.conn.in_transaction else store.pragma("synchronous", 2)


def resend(store: Store, to: str, seq: int, out: str | Path) -> Path:
    """Write an earlier batch to ``to`` again, byte for byte (it was lost on the way)."""
    data = store.scalar(
        "SELECT data FROM sync_batches WHERE direction = 'out' AND peer = ? AND seq = ?", (to, seq)
    )
    if data is None:
        raise NotFound(f"没有发给站点 {to} 的第 {seq} 批", "not_found")
    return write_bytes(out, data)


# -- import ------------------------------------------------------------------------


@dataclass
class TableReport:
    new: int = 0
    updated: int = 0
    merged: int = 0
    unchanged: int = 0
    conflicts: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ImportReport:
    sender: str
    sequence: int
    tables: dict[str, TableReport] = field(default_factory=dict)
    duplicates: list[dict] = field(default_factory=list)  # possible 重复享受 (masked IDs)
    acked: int = 0
    also_applied: list[int] = field(default_factory=list)  # held batches applied after this one
    then: list[ImportReport] = field(default_factory=list)  # and their reports, in that order
    # field laptop: households the sender withdrew ({"requested", "removed", "kept"})
    withdraw: dict = field(default_factory=dict)
    forgotten: int = 0  # township: households the field laptop confirmed it removed

    def table(self, name: str) -> TableReport:
        return self.tables.setdefault(name, TableReport())

    def totals(self) -> TableReport:
        t = TableReport()
        for r in self.tables.values():
            for k, v in r.__dict__.items():
                setattr(t, k, getattr(t, k) + v)
        return t

    def as_dict(self) -> dict:
        return {"sender": self.sender, "sequence": self.sequence, "acked": self.acked,
                "tables": {k: v.as_dict() for k, v in self.tables.items()},
                "totals": self.totals().as_dict(), "duplicates": self.duplicates,
                "also_applied": self.also_applied, "withdraw": self.withdraw,
                "forgotten": self.forgotten,
                "then": [r.as_dict() for r in self.then]}  # fmt: skip

    def text(self) -> str:
        """The report as the clerk reads it (sync page and ``sync import``)."""
        lines = [f"已导入站点 {self.sender} 的第 {self.sequence} 批"]
        for t, r in self.tables.items():
            lines.append(f"{TABLE_LABELS.get(t, t)}：新增 {r.new}，更新 {r.updated}（其中合并 "
                         f"{r.merged}），未变 {r.unchanged}，冲突 {r.conflicts}")  # fmt: skip
        if self.acked:
            lines.append(f"对方确认收到本站 {self.acked} 批")
        for d in self.duplicates:
            lines.append("⚠ " + d["note"])
        if self.withdraw.get("removed"):
            lines.append(f"已撤回 {len(self.withdraw['removed'])} 户：所在村已不再分配给本机，"
                         "这些户的全部记录已从本机删除")  # fmt: skip
        for k in self.withdraw.get("kept", []):
            lines.append(f"⚠ 暂未撤回 {k['village']} 户主{k['head_name']}：{k['reason']}；"
                         "上传并经对方确认后自动撤回")  # fmt: skip
        if self.forgotten:
            lines.append(f"对方已撤回 {self.forgotten} 户（其所在村已不再分配给该终端）")
        if self.also_applied:
            lines.append(f"并已导入此前暂存的第 {', '.join(map(str, self.also_applied))} 批：")
        for r in self.then:  # each with its own counts and warnings (重复享受 above all)
            lines.extend(r.text().splitlines())
        return "\n".join(lines)


TABLE_LABELS = {"households": "家庭", "members": "成员", "enrolments": "救助对象", "visits": "入户调查",
                "visit_photos": "照片", "followup_tasks": "跟进任务", "enrolment_events": "办理记录",
                "notices": "公示", "notice_items": "公示条目", "objections": "异议",
                "care_booklets": "关爱簿", "spot_checks": "抽查", "spot_check_items": "抽查对象",
                "declared_relatives": "近亲属备案"}  # fmt: skip


def held_dir(store: Store) -> Path:
    return sync_dir(store) / "held"


def import_batch(
    store: Store,
    keys: SiteKeys,
    data: bytes,
    file_name: str = "",
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ImportReport:
    """Verify and apply one batch in one transaction (``sync import``).

    Raises :class:`BatchRefused` (database untouched) for anything not applicable
    now; a batch that arrives after a gap is held and applied when the gap fills.
    """
    own = require_site(store)
    progress = progress or _noop

    def parsed(done: int, total: int) -> None:  # reading is the first PARSED of the bar
        progress(PARSED * done // max(total, 1), PROGRESS)
        if cancel and cancel():
            raise Cancelled()

    with gc_paused():
        batch = open_batch(data, keys, lambda c: get_trusted(store, c), own.code, len(MIGRATIONS),
                           parsed, staging.STAGE_MIN if _can_stage(store) else None)  # fmt: skip
    state = store.one("SELECT * FROM sync_sites WHERE code = ?", (batch.sender,))
    seq, last = batch.sequence, state["last_in_seq"]
    if seq <= last:
        raise BatchRefused(
            f"重复导入：站点 {batch.sender} 的第 {seq} 批已于此前导入（已导入到第 {last} 批），本次未做任何更改",
            "replay",
        )
    if seq > last + 1:
        if batch.plain is not None:  # its records were left for the worker: check them now
            with gc_paused():
                open_batch(data, keys, lambda c: get_trusted(store, c), own.code,
                           len(MIGRATIONS))  # fmt: skip
        hold = held_dir(store)
        hold.mkdir(parents=True, exist_ok=True)
        write_bytes(hold / f"{batch.sender}-{seq:06d}.age", data)
        raise BatchRefused(
            f"缺少站点 {batch.sender} 的第 {last + 1}"
            + (f"–{seq - 1}" if seq - 1 > last + 1 else "")
            + f" 批：本批（第 {seq} 批）已暂存，补齐后自动导入；请让对方重发（mzdesk sync export --resend）",
            "gap",
        )
    if batch.manifest.get("previous_sha256", "") != state["last_in_hash"]:
        raise BatchRefused(
            f"批次链不连续：第 {seq} 批声明的上一批与本站收到的第 {last} 批不同（对方数据库可能被恢复过）",
            "chain_broken",
        )
    with store.checkpoint_after(), _durable(store), _big_cache(store), gc_paused():
        report = _apply(store, keys, batch, data, file_name, progress, cancel)
    held = held_dir(store) / f"{batch.sender}-{seq + 1:06d}.age"
    if held.exists():
        try:
            nxt = import_batch(store, keys, held.read_bytes(), held.name, progress, cancel)
        except BatchRefused:
            return report  # stays held; the clerk sees it in the held list
        held.unlink(missing_ok=True)
        report.also_applied = [nxt.sequence, *nxt.also_applied]
        report.then = [nxt, *nxt.then]
        nxt.then, nxt.also_applied = [], []
    return report


def _unique_keys(conn, t: str, cols) -> list[tuple[list[int], str | None]] | None:
    """The UNIQUE keys of ``t`` other than its uid, as (positions in ``cols``, the partial
    index's WHERE or None); None when one is on an expression or a column not in ``cols``."""
    out = []
    for _seq, name, unique, _origin, partial_ in conn.execute(f"PRAGMA index_list({t})"):
        if not unique:
            continue
        names = [r[2] for r in conn.execute(f"PRAGMA index_info({name})")]
        if names == ["uid"]:
            continue
        if any(c not in cols for c in names):
            return None
        where = None
        if partial_:
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[
                0
            ]
            where = re.split(r"\sWHERE\s", sql, flags=re.IGNORECASE)[-1]
        out.append(([list(cols).index(c) for c in names], where))
    return out


def _can_stage(store: Store) -> bool:
    """Whether a large batch may be read by a worker process (mzdesk.sync.staging): it hands
    chunks over as SQLite images, which an encrypted (SQLCipher) connection cannot take."""
    return (
        store.key is None
        and hasattr(store.conn, "deserialize")
        and not store.conn.in_transaction  # ATTACH cannot join a caller's transaction
    )


def _staged_reader(store: Store, batch: Batch) -> staging.Reader:
    """Start reading ``batch``'s records on a worker process, in the order they are applied."""
    files = batch.manifest["files"]
    order = [t for t in changelog.synced_tables(store.conn) if f"records/{t}.jsonl" in files]
    names = [f"records/{t}.jsonl" for t in order]
    names += [n for n in files if n not in names]
    plans = {}
    for t in order:
        codec = TableCodec.load(store.conn, t)
        cols = codec.insert_columns()
        keys = _unique_keys(store.conn, t, cols) or []
        plans[t] = staging.Plan.of(codec, [[cols[i] for i in at] for at, _where in keys])
    return staging.Reader(batch.plain, [(n, files[n]["sha256"]) for n in names], plans,
                          text_rule_applies(batch.manifest))  # fmt: skip


def _big_cache(store: Store):
    """A 256 MB page cache for the duration of a batch: the uid indexes take random inserts."""
    return store.pragma("cache_size", -262144)


def _apply(store: Store, keys: SiteKeys, batch: Batch, data: bytes, file_name: str,
           progress: Progress, cancel) -> ImportReport:  # fmt: skip
    if batch.plain is None:
        return _apply_in(store, keys, batch, data, file_name, progress, cancel, None)
    store.conn.execute("ATTACH ':memory:' AS mz_stage")  # not allowed inside a transaction
    reader = None
    try:
        reader = _staged_reader(store, batch)
        return _apply_in(store, keys, batch, data, file_name, progress, cancel, reader)
    finally:
        if reader is not None:
            reader.close()
        with contextlib.suppress(Exception):  # an error on the way out must not hide the first
            store.conn.execute("DETACH mz_stage")


def _apply_in(store: Store, keys: SiteKeys, batch: Batch, data: bytes, file_name: str,
              progress: Progress, cancel, reader: staging.Reader | None) -> ImportReport:  # fmt: skip
    peer = batch.sender
    report = ImportReport(peer, batch.sequence)
    total = batch.count
    m = batch.manifest
    with store.transaction():
        changelog.ensure_triggers(store.conn)
        # kept: the bases of this batch's records point into it (read back for a merge); its
        # bytes are stored with the report at the end (an UPDATE rewrites the whole row)
        batch_id = store.conn.execute(
            "INSERT INTO sync_batches (direction, peer, seq, sha256, full, created_at, processed_at, "
            "counts, file_name) VALUES ('in', ?, ?, ?, ?, ?, ?, ?, ?)",
            (peer, batch.sequence, batch.sha256, int(bool(m.get("full"))), m.get("created_at", ""),
             now_iso(), json.dumps(m.get("counts", {})), file_name),
        ).lastrowid  # fmt: skip
        ack = batch.manifest.get("ack") or {}
        if ack.get("sequence"):
            cur = store.conn.execute(
                "UPDATE sync_batches SET acked_at = ? WHERE direction = 'out' AND peer = ? "
                "AND seq <= ? AND acked_at IS NULL", (now_iso(), peer, int(ack["sequence"])))  # fmt: skip
            report.acked = cur.rowcount
            store.conn.execute(
                "UPDATE sync_sites SET acked_out_seq = max(acked_out_seq, ?) WHERE code = ?",
                (int(ack["sequence"]), peer),
            )
            # what the peer acknowledged is now common ground for the merge, except what it
            # held back (in conflict there): our version of those is not what it has
            a = int(ack["sequence"])
            store.conn.execute(
                "INSERT INTO sync_base (peer, tbl, uid, hash, batch_id) "
                "SELECT p.peer, p.tbl, p.uid, p.hash, b.id FROM sync_pending p JOIN sync_batches b "
                "ON b.direction = 'out' AND b.peer = p.peer AND b.seq = p.seq WHERE p.peer = ? "
                "AND p.seq = (SELECT max(seq) FROM sync_pending q WHERE q.peer = p.peer "
                "AND q.tbl = p.tbl AND q.uid = p.uid AND q.seq <= ?) "
                "AND (p.tbl, p.uid) NOT IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)) "
                "ON CONFLICT(peer, tbl, uid) DO UPDATE SET hash = excluded.hash, "
                "batch_id = excluded.batch_id", (peer, a, _held(ack)))  # fmt: skip
            store.conn.execute("DELETE FROM sync_pending WHERE peer = ? AND seq <= ?", (peer, a))
        maps = Maps(store)
        applier = _Applier(store, keys, batch, batch_id, report, maps)
        done = 0

        def step(part: float, n: int = 0) -> None:
            """``part`` of the current table's ``n`` records applied: move the bar, maybe stop."""
            progress(PARSED + (PROGRESS - PARSED) * (done + int(part * n)) // max(total, 1),
                     PROGRESS)  # fmt: skip
            if cancel and cancel():
                raise Cancelled()

        for t in changelog.synced_tables(store.conn):
            try:
                if reader is not None:
                    if f"records/{t}.jsonl" not in m["files"]:
                        continue
                    n = int(m.get("counts", {}).get(t, 0))
                    applier.staged(t, reader, batch, partial(step, n=n))
                    done += n
                    step(0)
                    continue
                recs = batch.records.get(t)
                if not recs:
                    continue
                applier.table(t, recs, partial(step, n=len(recs)))
            except changelog.BadValue as exc:  # a sender's bug: the batch is refused whole
                raise bad_value(f"records/{t}.jsonl", exc) from None
            done += len(recs)
            step(0)
        if reader is not None:
            while reader.next(poll=partial(step, 0))[0] != "done":
                pass  # the other files: checked against the manifest, parsed, not applied
        own = require_site(store)
        asked = (m.get("withdraw") or {}).get("households") or []
        if asked and own.role == "field" and applier.peer_is_higher:
            removed, kept = scoping.withdraw(store, peer, asked)
            report.withdraw = {"requested": asked, "removed": removed, "kept": kept}
        confirmed = (m.get("withdrawn") or {}).get("households") or []
        if confirmed and not applier.peer_is_higher:
            report.forgotten = scoping.forget(store, peer, confirmed)
        store.conn.execute("UPDATE sync_batches SET report = ?, data = ? WHERE id = ?",
                           (json.dumps(report.as_dict(), ensure_ascii=False), data, batch_id))  # fmt: skip
        store.conn.execute(
            "UPDATE sync_sites SET last_in_seq = ?, last_in_hash = ? WHERE code = ?",
            (batch.sequence, batch.sha256, peer),
        )
    return report


class _Applier:
    """Three-way merge of one batch's records into the local tables."""

    def __init__(self, store: Store, keys: SiteKeys, batch: Batch, batch_id: int,
                 report: ImportReport, maps: Maps):  # fmt: skip
        self.store, self.batch, self.report, self.maps = store, batch, report, maps
        self.keys, self.batch_id = keys, batch_id
        self._stored: dict[int, dict] = {}
        self.peer = batch.sender
        self.now = now_iso()
        self.audit_source = audit.sync_source(self.peer, batch.sequence, batch.sha256)
        own, peer = require_site(store), get_trusted(store, self.peer)
        self.peer_is_higher = RANK.get(peer.key.role, 0) > RANK.get(own.role, 0)
        self.open_edits: dict[str, set[str]] = {}
        for t, uid in store.conn.execute(
            "SELECT tbl, uid FROM sync_conflicts WHERE state = 'open' AND kind = 'edit' AND peer = ?",
            (self.peer,),
        ):
            self.open_edits.setdefault(t, set()).add(uid)

    def _close(self, t: str, uid: str, how: str) -> None:
        self.store.conn.execute(
            "UPDATE sync_conflicts SET state = 'resolved', resolution = ?, resolved_at = ?, "
            "resolved_by = ? WHERE state = 'open' AND kind = 'edit' AND peer = ? AND tbl = ? AND uid = ?",
            (how, self.now, f"site {self.peer}", self.peer, t, uid),
        )

    def _base_body(self, batch_id: int | None, t: str, uid: str) -> dict | None:
        """The base content, read back from the stored batch it came in (or went out) with."""
        if batch_id is None:
            return None
        if batch_id not in self._stored:
            data = self.store.scalar("SELECT data FROM sync_batches WHERE id = ?", (batch_id,))
            self._stored[batch_id] = read_records(data, self.keys) if data else {}
        return self._stored[batch_id].get(t, {}).get(uid)

    def table(self, t: str, recs: list[Record], step=_noop_step) -> None:
        """Apply one table's records; ``step(fraction)`` after each stage (it may cancel)."""
        conn = self.store.conn
        codec = TableCodec.load(conn, t)
        rep = self.report.table(t)
        known_cols = set(codec.columns)
        uids = [r.uid for r in recs]
        local = (
            {
                uid: (meta, body)
                for _i, uid, meta, body, _h in encoded(self.store, codec, uids, self.maps)
            }
            if conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()
            else {}  # a first load: nothing to look up
        )
        bases = (
            base_hashes(self.store, self.peer, t, uids)
            if conn.execute(
                "SELECT 1 FROM sync_base WHERE peer = ? AND tbl = ? LIMIT 1", (self.peer, t)
            ).fetchone()  # fmt: skip
            else {}
        )
        id_maps = self.maps.id_maps(codec)
        inserts, updates, new_bases = [], [], []
        fast: list[tuple] = []  # new records as rows in codec.insert_columns() order
        # deactivations first, so a person moving between households never collides
        leaving = [r for r in recs if r.row is not None and r.row.get("status") == "deleted"]
        order = (
            [*leaving, *(r for r in recs if r.row is None or r.row.get("status") != "deleted")]
            if leaving
            else recs
        )
        for rec in order:
            if rec.op == "delete":
                if rec.uid in local and codec.has_status:
                    updates.append((rec.uid, {"status": "deleted"}))
                    rep.updated += 1
                else:
                    rep.unchanged += 1
                continue
            incoming = rec.row
            inc_hash = rec.hash or content_hash(canonical(incoming))
            if rec.uid not in local:
                row = codec.insert_row(incoming, rec.meta, rec.uid, id_maps)
                if row is not None:
                    fast.append(row)
                    new_bases.append((rec.uid, inc_hash))
                    rep.new += 1
                    continue
            meta = {k: v for k, v in rec.meta.items() if k in known_cols}
            base_hash, base_batch = bases.get(rec.uid, (None, None))
            values, missing = codec.decode(incoming, id_maps)
            if missing:
                self._conflict(
                    t, rec, None, "orphan", missing, f"缺少上级记录: {', '.join(missing)}"
                )
                rep.conflicts += 1
                continue
            new_bases.append((rec.uid, inc_hash))
            if rec.uid not in local:
                inserts.append({**values, **meta, "uid": rec.uid})
                rep.new += 1
                continue
            loc_meta, loc_json = local[rec.uid]
            same = content_hash(loc_json) == inc_hash
            if rec.uid in self.open_edits.get(t, ()):
                # the higher site decides; the lower one takes its decision when it arrives
                if same or self.peer_is_higher:
                    self._close(t, rec.uid, "已一致" if same else "上级站点已处理")
                    if not same:
                        updates.append((rec.uid, {**values, **meta}))
                        rep.updated += 1
                    else:
                        rep.unchanged += 1
                    continue
            if same or base_hash == inc_hash:
                rep.unchanged += 1  # same, or only we changed it (ours goes out next)
                continue
            if base_hash == content_hash(loc_json):
                updates.append((rec.uid, {**values, **meta}))
                rep.updated += 1
                continue
            loc = json.loads(loc_json)
            b = self._base_body(base_batch, t, rec.uid) if base_hash else None
            clash = sorted(
                k
                for k in set(loc) | set(incoming)
                if loc.get(k) != incoming.get(k)
                and (b is None or (loc.get(k) != b.get(k) and incoming.get(k) != b.get(k)))
            )
            if clash:
                self._conflict(t, rec, loc_json, "edit", clash, "双方都修改了同一字段")
                rep.conflicts += 1
                continue
            merged = {k: (incoming[k] if k in incoming and incoming.get(k) != b.get(k) else loc.get(k))
                      for k in set(loc) | set(incoming)}  # fmt: skip
            mvalues, _ = codec.decode(merged, id_maps)
            loc_updated = json.loads(loc_meta).get("updated_at") or ""
            newer = meta if str(meta.get("updated_at", "")) >= str(loc_updated) else {}
            updates.append((rec.uid, {**mvalues, **newer}))
            rep.updated += 1
            rep.merged += 1
        step(0.3)  # merged (the Python part); then the writes
        fast_cols = codec.insert_columns()
        if t == "members":
            inserts, fast, updates = self._duplicates(inserts, updates, fast, fast_cols, rep, recs)
        bump = ", rev = rev + 1" if "rev" in known_cols else ""  # open forms see a stale record
        for uid, values in updates:
            cols = [c for c in values if c in known_cols and c != "rev"]
            conn.execute(f"UPDATE {t} SET {', '.join(f'{c} = ?' for c in cols)}{bump} WHERE uid = ?",
                         [values[c] for c in cols] + [uid])  # fmt: skip
        groups: dict[tuple, list] = {}
        for values in inserts:  # every key is a known column (decode and the meta filter see to it)
            groups.setdefault(tuple(values), []).append(tuple(values.values()))
        if fast:
            groups.setdefault(fast_cols, []).extend(fast)
        n = sum(len(rows) for rows in groups.values())
        at = 0
        for cols, rows in groups.items():
            # one statement: far cheaper with the triggers; the audit entries name this batch
            # (kept verbatim in sync_batches) instead of repeating each record
            k = len(rows)
            insert_many(conn, t, cols, rows, self.audit_source,
                        lambda f, a=at, k=k: step(0.3 + 0.6 * (a + f * k) / n))  # fmt: skip
            at += k
        step(0.9)
        if new_bases:
            new_bases.sort(key=itemgetter(0))  # uid order: the sync_base B-tree takes appends
            uids, hashes = zip(*new_bases, strict=True)
            conn.execute(
                f"INSERT INTO sync_base (peer, tbl, uid, hash, batch_id) SELECT ?, ?, {UID_SQL}, "
                f"{HASH_SQL}, ? FROM json_each(?) WHERE true ON CONFLICT(peer, tbl, uid) DO "
                "UPDATE SET hash = excluded.hash, batch_id = excluded.batch_id",
                (self.peer, t, self.batch_id, packed_hashes(uids, hashes)),
            )
        if inserts or fast:
            self.maps.forget(t)

    def staged(self, t: str, reader: staging.Reader, batch: Batch, step=_noop_step) -> None:
        """Apply one table read by the worker process (mzdesk.sync.staging), chunk by chunk as
        it comes: the new records that need no decision move with one ``INSERT … SELECT`` per
        chunk (parents found by uid, triggers replayed as by :meth:`table`'s fast path), and
        the rest — records already here, tombstones, an older sender's rows, a parent not
        here, a key a UNIQUE index holds — take the ordinary merge (:meth:`table`) after."""
        conn = self.store.conn
        codec = TableCodec.load(conn, t)
        cols = codec.insert_columns()
        n = int(self.batch.manifest.get("counts", {}).get(t, 0))
        fk_at = {i: codec.fks[c] for i, c in enumerate(cols) if c in codec.fks}
        value = [f"(SELECT id FROM main.{fk_at[i]} WHERE uid = s.c{i})" if i in fk_at
                 else f"s.c{i}" for i in range(len(cols))]  # fmt: skip
        ready = [f"NOT EXISTS (SELECT 1 FROM main.{t} l WHERE l.uid = s.uid)"]
        ready += [f"(s.c{i} IS NULL OR EXISTS (SELECT 1 FROM main.{p} WHERE uid = s.c{i}))"
                  for i, p in fk_at.items()]  # fmt: skip
        keys = _unique_keys(conn, t, cols)
        if keys is None or t in fk_at.values():
            # an expression index, or rows that name rows of their own table (which one
            # statement would insert together): every record takes the merge
            ready.append("false")
        # a key held here (the worker already left to the merge any line whose key an
        # earlier line of the file claims)
        for at, where in keys or ():
            same_l = " AND ".join(f"l.{cols[i]} = {value[i]}" for i in at)
            ready.append(f"NOT EXISTS (SELECT 1 FROM main.{t} l WHERE {same_l}"
                         + (f" AND ({where})" if where else "") + ")")  # fmt: skip
        mark = f"UPDATE mz_stage.s SET ready = 2 WHERE ready = 1 AND {' AND '.join(ready)}"
        move = f"SELECT {', '.join(value)} FROM mz_stage.s s WHERE ready = 2 ORDER BY line"
        rest: list[int] = []
        applied = 0
        with bulk_indexes_deferred(conn, t, n):
            while True:
                msg = reader.next(poll=partial(step, min((applied - len(rest)) / max(n, 1), 1.0)))
                if msg[0] not in ("chunk", "table") or msg[1] != t:  # the orders agree
                    raise staging.WorkerFailed(f"读取批次的进程次序不符：等待 {t}，收到 {msg[:2]}")
                if msg[0] == "table":
                    break
                image = msg[3]
                conn.deserialize(image, name="mz_stage")
                moving = conn.execute(mark).rowcount
                if moving:
                    insert_select(conn, t, cols, move, (), moving, self.audit_source)
                    conn.execute(
                        "INSERT INTO sync_base (peer, tbl, uid, hash, batch_id) SELECT ?, ?, uid, "
                        "hash, ? FROM mz_stage.s WHERE ready = 2 ORDER BY uid ON CONFLICT(peer, "
                        "tbl, uid) DO UPDATE SET hash = excluded.hash, batch_id = excluded.batch_id",
                        (self.peer, t, self.batch_id))  # fmt: skip
                    self.report.table(t).new += moving
                rest += [r[0] for r in conn.execute("SELECT line FROM mz_stage.s WHERE ready < 2")]
                applied += conn.execute("SELECT count(*) FROM mz_stage.s").fetchone()[0]
                step(min((applied - len(rest)) / max(n, 1), 1.0))
            if applied:
                self.maps.forget(t)
            if rest:
                name = f"records/{t}.jsonl"
                lines = _lines(read_member(zipfile.ZipFile(io.BytesIO(batch.plain)), name))
                recs = parse_lines(name, [lines[i - 1] for i in rest],
                                   text_rule=text_rule_applies(batch.manifest))  # fmt: skip
                del lines
                # the bar: the moved records' share so far, the merge's the rest of the table
                moved = min((applied - len(rest)) / max(n, applied, 1), 1.0)
                self.table(t, recs, lambda f: step(moved + (1.0 - moved) * f))

    def _duplicates(self, inserts, updates, fast, fast_cols, rep: TableReport, recs):
        """An ID active in another household here (on a county: another township) is not
        applied but listed as possible double receipt (重复享受) for follow-up."""
        conn = self.store.conn
        leaving = {u for u, v in updates if v.get("status") == "deleted"}
        i_uid, i_id = fast_cols.index("uid"), fast_cols.index("id_number")
        i_st = fast_cols.index("status") if "status" in fast_cols else None
        wanted = (
            [v for v in inserts]
            + [{"uid": r[i_uid], "id_number": r[i_id], "status": r[i_st] if i_st is not None
                else "active"} for r in fast]
            + [dict(v, uid=u) for u, v in updates if u not in leaving]
        )  # fmt: skip
        ids = sorted(
            {
                v["id_number"]
                for v in wanted
                if v.get("id_number") and v.get("status", "active") == "active"
            }
        )
        owners: dict[str, tuple] = {}
        for chunk in chunks(ids):
            for r in conn.execute(
                "SELECT m.id_number, m.uid, h.village, h.head_name FROM members m JOIN households h "
                f"ON h.id = m.household_id WHERE m.status = 'active' AND m.id_number IN "
                f"({', '.join('?' * len(chunk))})", chunk):  # fmt: skip
                if r[1] not in leaving:
                    owners[r[0]] = r[1:]
        if not owners and len(ids) == sum(
            1 for v in wanted if v.get("id_number") and v.get("status", "active") == "active"
        ):
            return inserts, fast, updates
        by_uid = {r.uid: r for r in recs}
        seen: dict[str, str] = {}
        bad: set[str] = set()
        for v in wanted:
            num = v.get("id_number")
            if not num or v.get("status", "active") != "active":
                continue
            other = owners.get(num)
            if (other and other[0] != v["uid"]) or (num in seen and seen[num] != v["uid"]):
                where = f"{other[1]} 户主{other[2]}" if other else "同一批次的另一户"
                note = f"身份证号 {mask_id(num)} 已在本站有效（{where}），可能重复享受"
                self._conflict(
                    "members", by_uid[v["uid"]], None, "duplicate_id", ["id_number"], note
                )
                self.report.duplicates.append(
                    {"uid": v["uid"], "id_masked": mask_id(num), "note": note}
                )
                bad.add(v["uid"])
            seen.setdefault(num, v["uid"])
        if bad:
            rep.conflicts += len(bad)
            rep.new -= sum(1 for v in inserts if v["uid"] in bad)
            rep.new -= sum(1 for r in fast if r[i_uid] in bad)
            rep.updated -= sum(1 for u, _ in updates if u in bad)
            fast = [r for r in fast if r[i_uid] not in bad]
        return (
            [v for v in inserts if v["uid"] not in bad],
            fast,
            [(u, v) for u, v in updates if u not in bad],
        )

    def _conflict(self, t, rec: Record, local_json, kind, fields, note) -> None:
        remote = json.dumps({"row": rec.row, "meta": rec.meta}, ensure_ascii=False, sort_keys=True)
        conn = self.store.conn
        existing = conn.execute(
            "SELECT id FROM sync_conflicts WHERE state = 'open' AND peer = ? AND tbl = ? AND uid = ? "
            "AND kind = ?", (self.peer, t, rec.uid, kind)).fetchone()  # fmt: skip
        if existing:
            conn.execute(
                "UPDATE sync_conflicts SET remote = ?, local = ?, fields = ?, note = ?, batch_seq = ? "
                "WHERE id = ?", (remote, local_json, json.dumps(fields), note, self.batch.sequence,
                                 existing[0]))  # fmt: skip
            return
        conn.execute(
            "INSERT INTO sync_conflicts (peer, batch_seq, tbl, uid, kind, fields, local, remote, note, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self.peer, self.batch.sequence, t, rec.uid, kind, json.dumps(fields), local_json, remote,
             note, self.now),
        )  # fmt: skip


# -- conflicts ---------------------------------------------------------------------


CONFLICT_KINDS = {"edit": "双方修改", "duplicate_id": "可能重复享受", "orphan": "缺少上级记录"}
# search keys computed from other fields: not shown when two versions are compared
DERIVED = frozenset({"id_rev", "phone_rev", "name_tail", "py_initials", "py_full", "head_py"})


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
    return [(k, show(k, local.get(k)) if c["local"] else "（无）", show(k, remote.get(k)),
             k in c["fields"]) for k in keys]  # fmt: skip


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
    with store.transaction():
        c = store.one(
            "SELECT * FROM sync_conflicts WHERE id = ? AND state = 'open'", (conflict_id,)
        )
        if c is None:
            raise NotFound(f"没有待处理的冲突 {conflict_id}")
        t, uid = c["tbl"], c["uid"]
        own, peer = require_site(store), get_trusted(store, c["peer"])
        if c["kind"] == "edit" and peer and RANK.get(peer.key.role, 0) > RANK.get(own.role, 0):
            raise MzError(
                f"此冲突由上级站点 {peer.key.code} {peer.key.name} 处理，处理结果会随下一批到达",
                "resolved_upstream",
            )
        stamp = store.stamp(new=False)
        if c["kind"] != "edit":
            if choice not in ("dismiss",):
                raise MzError("此类问题（重复身份证号/缺少上级记录）只能在跟进后关闭", "bad_choice")
        elif choice == "dismiss":  # closing it would leave the two sites different unsaid
            raise MzError("双方修改的冲突须作出决定：保留本站、采用对方或逐字段选择", "bad_choice")
        else:
            codec = TableCodec.load(store.conn, t)
            remote = json.loads(c["remote"])["row"]
            local = json.loads(c["local"])
            if choice == "local":
                content = local
            elif choice == "remote":
                content = remote
            elif isinstance(choice, dict):
                content = {k: (remote.get(k) if choice.get(k) == "remote" else local.get(k))
                           for k in set(local) | set(remote)}  # fmt: skip
            else:
                raise MzError(f"未知的处理方式: {choice!r}", "bad_choice")
            values, missing = codec.decode(content, Maps(store).id_maps(codec))
            if missing:
                raise MzError(f"缺少上级记录: {', '.join(missing)}", "orphan")
            values.update({k: v for k, v in stamp.items() if k in codec.columns})
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
        store.conn.execute(
            "UPDATE sync_conflicts SET state = 'resolved', resolution = ?, resolved_at = ?, "
            "resolved_by = ? WHERE id = ?",
            (choice if isinstance(choice, str) else json.dumps(choice), now_iso(), store.operator,
             conflict_id),
        )  # fmt: skip


# -- history ---------------------------------------------------------------------


def history(store: Store, direction: str | None = None) -> list[dict]:
    sql = ("SELECT id, direction, peer, seq, sha256, full, created_at, processed_at, acked_at, counts, "
           "report, file_name FROM sync_batches")  # fmt: skip
    args: tuple = ()
    if direction:
        sql += " WHERE direction = ?"
        args = (direction,)
    return [dict(r) for r in store.db.query(sql + " ORDER BY id DESC", args)]


def pending_acks(store: Store) -> list[dict]:
    return [dict(r) for r in store.db.query(
        "SELECT peer, seq, created_at, file_name FROM sync_batches WHERE direction = 'out' "
        "AND acked_at IS NULL ORDER BY peer, seq")]  # fmt: skip


def held_batches(store: Store) -> list[str]:
    d = held_dir(store)
    return sorted(p.name for p in d.glob("*.age")) if d.exists() else []
