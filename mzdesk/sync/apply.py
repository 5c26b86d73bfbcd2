"""Import a batch from a site (``sync import``): verify it, hold it when it comes after
a gap, refuse a replay, and apply it in one transaction (the records through
:class:`mzdesk.sync.applier.Applier`, then the acknowledgement and withdrawals it carries).

A batch large enough is read and checked by a worker process (:mod:`mzdesk.sync.staging`)
while this one applies it."""

from __future__ import annotations

import contextlib
import json
from functools import partial

from ..models.auth import require
from ..models.bulk import gc_paused
from ..models.migrations import MIGRATIONS
from ..models.progress import Cancel, Cancelled, Progress
from ..models.site import require_site
from ..models.store import Store, now_iso
from . import changelog, checkpoints, staging, upward
from . import scope as scoping
from .applier import Applier, unique_keys
from .batch import Batch, BatchRefused, bad_value, open_batch, text_rule_applies
from .changelog import TableCodec
from .common import PARSED, PROGRESS, big_cache, durable, noop, temp_on_disk
from .history import held_batch, hold
from .key_history import adopt_rotation
from .keys import SiteKeys, get_trusted
from .local import Maps
from .report import ImportReport


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
    require(store, "sync.import")
    own = require_site(store)
    progress = progress or noop

    def parsed(done: int, total: int) -> None:  # reading is the first PARSED of the bar
        progress(PARSED * done // max(total, 1), PROGRESS)
        if cancel and cancel():
            raise Cancelled()

    def trusted(code: str):
        return get_trusted(store, code)

    with gc_paused():
        stage_min = staging.STAGE_MIN if _can_stage(store) else None
        batch = open_batch(data, keys, trusted, own.code, len(MIGRATIONS), parsed, stage_min)
    state = store.one("SELECT * FROM sync_sites WHERE code = ?", (batch.sender,))
    assert state is not None  # open_batch refused a sender that is not trusted
    seq, last = batch.sequence, state["last_in_seq"]
    if seq <= last:
        raise BatchRefused(
            f"重复导入：站点 {batch.sender} 的第 {seq} 批已于此前导入（已导入到第 {last} 批），本次未做任何更改",
            "replay",
        )
    if seq > last + 1:
        if batch.plain is not None:  # its records were left for the worker: check them now
            with gc_paused():
                open_batch(data, keys, trusted, own.code, len(MIGRATIONS))
        hold(store, batch.sender, seq, file_name, data)  # inside the database, not beside it
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
    big = batch.plain is not None  # records left for the worker: a large batch
    with store.checkpoint_after(), durable(store), big_cache(store), temp_on_disk(store, big):
        with gc_paused():
            report = _apply(store, keys, batch, data, file_name, progress, cancel)
    return _then_held(store, keys, batch, report, progress, cancel)


def _then_held(
    store: Store,
    keys: SiteKeys,
    batch: Batch,
    report: ImportReport,
    progress: Progress,
    cancel: Cancel | None,
) -> ImportReport:
    """Apply the held batch that follows ``batch``, if one is waiting (and so on)."""
    held = held_batch(store, batch.sender, batch.sequence + 1)
    if held is not None:
        try:
            nxt = import_batch(store, keys, held[1], held[0], progress, cancel)
        except BatchRefused:
            return report  # stays held; the clerk sees it in the held list
        report.also_applied = [nxt.sequence, *nxt.also_applied]
        report.then = [nxt, *nxt.then]
        nxt.then, nxt.also_applied = [], []
    return report


def _held(ack: dict) -> str:
    """The acknowledgement's ``held`` records (checked by ``open_batch``) as a JSON array of
    [table, uid]."""
    held = ack.get("held") or {}
    return json.dumps([[t, uid] for t, uids in held.items() for uid in uids])


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
        keys = unique_keys(store.conn, t, cols) or []
        plans[t] = staging.Plan.of(codec, [[cols[i] for i in at] for at, _where in keys])
    assert batch.plain is not None  # an opened batch keeps its plaintext
    return staging.Reader(
        batch.plain,
        [(n, files[n]["sha256"]) for n in names],
        plans,
        text_rule_applies(batch.manifest),
    )


def _apply(
    store: Store,
    keys: SiteKeys,
    batch: Batch,
    data: bytes,
    file_name: str,
    progress: Progress,
    cancel: Cancel | None,
) -> ImportReport:
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


def _apply_in(
    store: Store,
    keys: SiteKeys,
    batch: Batch,
    data: bytes,
    file_name: str,
    progress: Progress,
    cancel: Cancel | None,
    reader: staging.Reader | None,
) -> ImportReport:
    peer = batch.sender
    report = ImportReport(peer, batch.sequence)
    m = batch.manifest
    with store.transaction():
        changelog.ensure_triggers(store.conn)
        # kept: the bases of this batch's records point into it (read back for a merge); its
        # bytes are stored with the report at the end (an UPDATE rewrites the whole row)
        batch_id = store.conn.execute(
            "INSERT INTO sync_batches (direction, peer, seq, sha256, full, created_at, "
            "processed_at, counts, file_name) VALUES ('in', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                peer,
                batch.sequence,
                batch.sha256,
                int(bool(m.get("full"))),
                m.get("created_at", ""),
                now_iso(),
                json.dumps(m.get("counts", {})),
                file_name,
            ),
        ).lastrowid
        assert batch_id is not None  # the row just inserted
        if batch.rekey is not None:  # signed with a newer key its old one vouches for
            adopt_rotation(store, *batch.rekey)
            report.rekeyed = batch.rekey[0].fingerprint
        store.conn.execute(
            "DELETE FROM sync_held WHERE peer = ? AND seq = ?", (peer, batch.sequence)
        )
        _take_ack(store, peer, batch.manifest.get("ack") or {}, report)
        # the sender's signed audit checkpoints, kept for `audit verify` (sync/checkpoints.py)
        checkpoints.receive(store, peer, m.get("audit_checkpoints"), batch.sha256)
        # forwarded from below (a county's batch at its city or province): origins and the
        # townships' checkpoints, refused whole when outside the sender's region
        own, role = require_site(store), _role_of(store, peer)
        upward.receive(store, own, role, batch)
        applier = Applier(store, keys, batch, batch_id, report, Maps(store))
        _apply_tables(store, applier, batch, reader, progress, cancel)
        upward.settle(store, own, role, peer, batch_id)
        _withdrawals(store, applier, m, report)
        store.conn.execute(
            "UPDATE sync_batches SET report = ?, data = ? WHERE id = ?",
            (json.dumps(report.as_dict(), ensure_ascii=False), data, batch_id),
        )
        store.conn.execute(
            "UPDATE sync_sites SET last_in_seq = ?, last_in_hash = ? WHERE code = ?",
            (batch.sequence, batch.sha256, peer),
        )
    return report


def _role_of(store: Store, code: str) -> str:
    """The role the trust list gives a sender (what its clerk confirmed by phone)."""
    site = get_trusted(store, code)
    return site.key.role if site is not None else ""


def _take_ack(store: Store, peer: str, ack: dict, report: ImportReport) -> None:
    """The batches of ours that ``peer`` acknowledges: marked, and their records (but for
    those it held back) become the common ground for the merge."""
    if not ack.get("sequence"):
        return
    a = int(ack["sequence"])
    cur = store.conn.execute(
        "UPDATE sync_batches SET acked_at = ? WHERE direction = 'out' AND peer = ? "
        "AND seq <= ? AND acked_at IS NULL",
        (now_iso(), peer, a),
    )
    report.acked = cur.rowcount
    store.conn.execute(
        "UPDATE sync_sites SET acked_out_seq = max(acked_out_seq, ?) WHERE code = ?", (a, peer)
    )
    # what the peer acknowledged is now common ground for the merge, except what it
    # held back (in conflict there): our version of those is not what it has
    store.conn.execute(
        "INSERT INTO sync_base (peer, tbl, uid, hash, batch_id) "
        "SELECT p.peer, p.tbl, p.uid, p.hash, b.id FROM sync_pending p JOIN sync_batches b "
        "ON b.direction = 'out' AND b.peer = p.peer AND b.seq = p.seq WHERE p.peer = ? "
        "AND p.seq = (SELECT max(seq) FROM sync_pending q WHERE q.peer = p.peer "
        "AND q.tbl = p.tbl AND q.uid = p.uid AND q.seq <= ?) "
        "AND (p.tbl, p.uid) NOT IN (SELECT json_extract(value, '$[0]'), "
        "json_extract(value, '$[1]') FROM json_each(?)) "
        "ON CONFLICT(peer, tbl, uid) DO UPDATE SET hash = excluded.hash, "
        "batch_id = excluded.batch_id",
        (peer, a, _held(ack)),
    )
    store.conn.execute("DELETE FROM sync_pending WHERE peer = ? AND seq <= ?", (peer, a))


def _apply_tables(
    store: Store,
    applier: Applier,
    batch: Batch,
    reader: staging.Reader | None,
    progress: Progress,
    cancel: Cancel | None,
) -> None:
    """Every synced table's records, in dependency order, moving the bar after PARSED."""
    m = batch.manifest
    total = batch.count
    done = 0

    def step(part: float, n: int = 0) -> None:
        """``part`` of the current table's ``n`` records applied: move the bar, maybe stop."""
        at = done + int(part * n)
        progress(PARSED + (PROGRESS - PARSED) * at // max(total, 1), PROGRESS)
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


def _withdrawals(store: Store, applier: Applier, m: dict, report: ImportReport) -> None:
    """A field laptop withdraws the households its higher site asks it to; a township
    forgets those the field laptop confirms it withdrew."""
    own = require_site(store)
    peer = applier.peer
    asked = (m.get("withdraw") or {}).get("households") or []
    if asked and own.role == "field" and applier.peer_is_higher:
        removed, kept = scoping.withdraw(store, peer, asked)
        report.withdraw = {"requested": asked, "removed": removed, "kept": kept}
    confirmed = (m.get("withdrawn") or {}).get("households") or []
    if confirmed and not applier.peer_is_higher:
        report.forgotten = scoping.forget(store, peer, confirmed)
