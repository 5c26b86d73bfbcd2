"""Apply one batch's records to the local tables: the three-way merge of each record
(:func:`mzdesk.sync.merge.decide`), the possible double receipt (重复享受) check on
members, and the writes, set-based where they can be."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter

from ..models import audit, enrolment_bulk
from ..models.bulk import indexes_deferred as bulk_indexes_deferred
from ..models.bulk import insert_many, insert_select
from ..models.ids import mask_id
from ..models.site import require_site
from ..models.store import Store, now_iso
from . import conflicts, staging
from .batch import (
    Batch,
    Record,
    parse_lines,
    read_member,
    read_records,
    split_lines,
    text_rule_applies,
)
from .changelog import HASH_SQL, UID_SQL, TableCodec, canonical, content_hash, packed_hashes
from .common import noop_step
from .keys import SiteKeys, get_trusted
from .local import Maps, base_hashes, chunks, encoded
from .merge import decide, decide_fields, decide_whole
from .report import ImportReport, TableReport
from .scope import RANK
from .sender_scope import Gate, TableGate

Step = Callable[[float], None]
# a tombstone's decision needs only whether the record is here
_HERE: dict = {}


def unique_keys(conn, t: str, cols) -> list[tuple[list[int], str | None]] | None:
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
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
            where = re.split(r"\sWHERE\s", sql[0], flags=re.IGNORECASE)[-1]
        out.append(([list(cols).index(c) for c in names], where))
    return out


@dataclass
class _Run:
    """One table's records on their way in: what is here, the common ground, and the
    writes decided so far."""

    t: str
    codec: TableCodec
    rep: TableReport
    local: dict  # uid -> (meta JSON, content JSON) of the records here
    bases: dict  # uid -> (base hash, id of the stored batch it came with)
    id_maps: dict
    known_cols: set[str] = field(init=False)
    inserts: list[dict] = field(default_factory=list)
    updates: list[tuple[str, dict]] = field(default_factory=list)
    fast: list[tuple] = field(default_factory=list)  # new rows in codec.insert_columns() order
    new_bases: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.known_cols = set(self.codec.columns)


def _meta(run: _Run, rec: Record) -> dict:
    """The record's meta (created/updated stamps) that this site's table has columns for."""
    return {k: v for k, v in rec.meta.items() if k in run.known_cols}


def _in_order(recs: list[Record]) -> list[Record]:
    """Deactivations first, so a person moving between households never collides."""
    leaving = [r for r in recs if r.row is not None and r.row.get("status") == "deleted"]
    if not leaving:
        return recs
    return [*leaving, *(r for r in recs if r.row is None or r.row.get("status") != "deleted")]


class Applier:
    """Three-way merge of one batch's records into the local tables."""

    def __init__(
        self,
        store: Store,
        keys: SiteKeys,
        batch: Batch,
        batch_id: int,
        report: ImportReport,
        maps: Maps,
    ):
        self.store, self.batch, self.report, self.maps = store, batch, report, maps
        self.keys, self.batch_id = keys, batch_id
        self._stored: dict[int, dict] = {}
        self.peer = batch.sender
        self.now = now_iso()
        self.audit_source = audit.sync_source(self.peer, batch.sequence, batch.sha256)
        own, peer = require_site(store), get_trusted(store, self.peer)
        assert peer is not None  # open_batch refused a sender that is not trusted
        self.peer_is_higher = RANK.get(peer.key.role, 0) > RANK.get(own.role, 0)
        self.gate = Gate(store, own, self.peer, peer.key.role, peer.villages)
        self.open_edits = conflicts.open_edits(store.conn, self.peer)

    def _conflict(
        self, t: str, rec: Record, local_json: str | None, kind: str, fields: list[str], note: str
    ) -> None:
        conflicts.record(
            self.store.conn,
            self.peer,
            self.batch.sequence,
            self.now,
            t,
            rec,
            local_json,
            kind,
            fields,
            note,
        )

    def _base_body(self, batch_id: int | None, t: str, uid: str) -> dict | None:
        """The base content, read back from the stored batch it came in (or went out) with."""
        if batch_id is None:
            return None
        if batch_id not in self._stored:
            data = self.store.scalar("SELECT data FROM sync_batches WHERE id = ?", (batch_id,))
            self._stored[batch_id] = read_records(data, self.keys) if data else {}
        return self._stored[batch_id].get(t, {}).get(uid)

    # -- one table, record by record ---------------------------------------------------

    def table(self, t: str, recs: list[Record], step: Step = noop_step) -> None:
        """Apply one table's records; ``step(fraction)`` after each stage (it may cancel)."""
        run = self._start(t, recs)
        gate = self.gate.table(t, recs)
        for rec in _in_order(recs):
            if gate is None or self._admitted(gate, rec):
                self._record(run, rec)
        step(0.3)  # merged (the Python part); then the writes
        if t == "members":
            self._duplicates(run, recs)
        if t == "enrolments":
            self._enrolment_rules(run, recs)
        self._write(run, step)

    def _start(self, t: str, recs: list[Record]) -> _Run:
        conn = self.store.conn
        codec = TableCodec.load(conn, t)
        uids = [r.uid for r in recs]
        local = {}
        if conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone():  # else a first load
            local = {
                uid: (meta, body)
                for _i, uid, meta, body, _h in encoded(self.store, codec, uids, self.maps)
            }
        bases = {}
        if conn.execute(
            "SELECT 1 FROM sync_base WHERE peer = ? AND tbl = ? LIMIT 1", (self.peer, t)
        ).fetchone():
            bases = base_hashes(self.store, self.peer, t, uids)
        id_maps = self.maps.id_maps(codec, [r.row for r in recs if r.row is not None])
        return _Run(t, codec, self.report.table(t), local, bases, id_maps)

    def _admitted(self, gate: TableGate, rec: Record) -> bool:
        """The sender scope (mzdesk.sync.sender_scope): a change outside it is not applied,
        so never passed on, and is listed in the report (超出发送方权限)."""
        refusal = gate.check(rec)
        if refusal is None:
            return True
        self.report.refuse(refusal.table, refusal.as_dict())
        return False

    def _record(self, run: _Run, rec: Record) -> None:
        if rec.op == "delete":
            self._tombstone(run, rec)
            return
        inc_hash = rec.hash or content_hash(canonical(rec.row))
        if rec.uid in run.local:
            self._existing(run, rec, inc_hash)
        else:
            self._new(run, rec, inc_hash)

    def _tombstone(self, run: _Run, rec: Record) -> None:
        here = _HERE if rec.uid in run.local else None
        if decide(here, None, None).kind == "delete" and run.codec.has_status:
            run.updates.append((rec.uid, {"status": "deleted"}))
            run.rep.updated += 1
        else:
            run.rep.unchanged += 1

    def _decoded(self, run: _Run, rec: Record, inc_hash: str) -> dict | None:
        """The incoming row as local values with this batch's meta, its base noted; None
        (and an orphan conflict) when a record it names is not here."""
        assert rec.row is not None  # an upsert: tombstones never come here
        values, missing = run.codec.decode(rec.row, run.id_maps)
        if missing:
            note = f"缺少上级记录: {', '.join(missing)}"
            self._conflict(run.t, rec, None, "orphan", missing, note)
            run.rep.conflicts += 1
            return None
        run.new_bases.append((rec.uid, inc_hash))
        return {**values, **_meta(run, rec)}

    def _new(self, run: _Run, rec: Record, inc_hash: str) -> None:
        """Not here: inserted (``decide`` says ``new``)."""
        assert rec.row is not None  # an upsert: tombstones never come here
        row = run.codec.insert_row(rec.row, rec.meta, rec.uid, run.id_maps)
        if row is not None:
            run.fast.append(row)
            run.new_bases.append((rec.uid, inc_hash))
            run.rep.new += 1
            return
        values = self._decoded(run, rec, inc_hash)
        if values is not None:
            run.inserts.append({**values, "uid": rec.uid})
            run.rep.new += 1

    def _existing(self, run: _Run, rec: Record, inc_hash: str) -> None:
        """Here already: the whole-record rules on content hashes, then, only when both
        sides changed it, the field-level merge on the rows."""
        values = self._decoded(run, rec, inc_hash)
        if values is None:
            return
        loc_meta, loc_json = run.local[rec.uid]
        loc_hash = content_hash(_as_sent(loc_json, rec.row, run.codec))
        if rec.uid in self.open_edits.get(run.t, ()) and self._settled(
            run, rec, values, loc_hash == inc_hash
        ):
            return
        base_hash, base_batch = run.bases.get(rec.uid, (None, None))
        whole = decide_whole(loc_hash, inc_hash, base_hash)
        if whole == "keep":
            run.rep.unchanged += 1  # same, or only we changed it (ours goes out next)
        elif whole == "take":
            run.updates.append((rec.uid, values))
            run.rep.updated += 1
        else:
            base = self._base_body(base_batch, run.t, rec.uid) if base_hash else None
            self._both_changed(run, rec, loc_meta, loc_json, base)

    def _settled(self, run: _Run, rec: Record, values: dict, same: bool) -> bool:
        """A record in an open edit conflict: the higher site decides, the lower one takes
        its decision when it arrives; either side's conflict closes once the two agree.
        True when that settled the record."""
        if not (same or self.peer_is_higher):
            return False
        conflicts.close_edit(
            self.store.conn,
            self.peer,
            self.now,
            run.t,
            rec.uid,
            "已一致" if same else "上级站点已处理",
        )
        if same:
            run.rep.unchanged += 1
        else:
            run.updates.append((rec.uid, values))
            run.rep.updated += 1
        return True

    def _both_changed(
        self, run: _Run, rec: Record, loc_meta: str, loc_json: str, base: dict | None
    ) -> None:
        """Both sides changed the record: ``decide`` on the rows, field by field."""
        loc = json.loads(loc_json)
        assert rec.row is not None  # an upsert: tombstones never come here
        d = decide_fields(loc, rec.row, base)
        if d.kind == "conflict":
            self._conflict(run.t, rec, loc_json, "edit", list(d.fields), "双方都修改了同一字段")
            run.rep.conflicts += 1
            return
        assert d.row is not None  # a merge always carries its row
        mvalues, _ = run.codec.decode(dict(d.row), run.id_maps)
        meta = _meta(run, rec)
        loc_updated = json.loads(loc_meta).get("updated_at") or ""
        newer = meta if str(meta.get("updated_at", "")) >= str(loc_updated) else {}
        run.updates.append((rec.uid, {**mvalues, **newer}))
        run.rep.updated += 1
        run.rep.merged += 1

    # -- the writes --------------------------------------------------------------------

    def _write(self, run: _Run, step: Step) -> None:
        conn, t = self.store.conn, run.t
        if t in enrolment_bulk.TABLES:  # the enrolment service writes its own tables
            enrolment_bulk.write_received(
                self.store,
                t,
                run.updates,
                self._groups(run),
                run.known_cols,
                self.audit_source,
                lambda f: step(0.3 + 0.6 * f),
            )
        else:
            bump = ", rev = rev + 1" if "rev" in run.known_cols else ""  # open forms: stale
            for uid, values in run.updates:
                cols = [c for c in values if c in run.known_cols and c != "rev"]
                conn.execute(
                    f"UPDATE {t} SET {', '.join(f'{c} = ?' for c in cols)}{bump} WHERE uid = ?",
                    [values[c] for c in cols] + [uid],
                )
            self._insert(run, step)
        step(0.9)
        if run.new_bases:
            run.new_bases.sort(key=itemgetter(0))  # uid order: the sync_base B-tree appends
            uids, hashes = zip(*run.new_bases, strict=True)
            conn.execute(
                f"INSERT INTO sync_base (peer, tbl, uid, hash, batch_id) SELECT ?, ?, {UID_SQL}, "
                f"{HASH_SQL}, ? FROM json_each(?) WHERE true ON CONFLICT(peer, tbl, uid) DO "
                "UPDATE SET hash = excluded.hash, batch_id = excluded.batch_id",
                (self.peer, t, self.batch_id, packed_hashes(uids, hashes)),
            )
        if run.inserts or run.fast:
            self.maps.forget(t)

    @staticmethod
    def _groups(run: _Run) -> dict[tuple, list]:
        """The new rows by their columns: one insert statement per group."""
        groups: dict[tuple, list] = {}
        for values in run.inserts:  # every key a known column (decode and the meta filter)
            groups.setdefault(tuple(values), []).append(tuple(values.values()))
        if run.fast:
            groups.setdefault(run.codec.insert_columns(), []).extend(run.fast)
        return groups

    def _insert(self, run: _Run, step: Step) -> None:
        groups = self._groups(run)
        n = sum(len(rows) for rows in groups.values())
        at = 0
        for cols, rows in groups.items():
            # one statement: far cheaper with the triggers; the audit entries name this batch
            # (kept verbatim in sync_batches) instead of repeating each record
            k = len(rows)
            insert_many(
                self.store.conn,
                run.t,
                cols,
                rows,
                self.audit_source,
                lambda f, a=at, k=k: step(0.3 + 0.6 * (a + f * k) / n),
            )
            at += k

    # -- the enrolment rules (特困 vs 低保, one live record per person and category) -------

    def _enrolment_rules(self, run: _Run, recs: list[Record]) -> None:
        """An enrolment the rules between records refuse here (beside a live one of this
        site or an earlier record of the batch) is not applied: set aside, as possible
        double receipt (重复享受), with the rule in words, and listed in the report."""
        fast_cols = run.codec.insert_columns()
        new = list(run.inserts) + [dict(zip(fast_cols, r, strict=True)) for r in run.fast]
        refused = enrolment_bulk.refused_received(self.store, new, run.updates)
        if not refused:
            return
        by_uid = {r.uid: r for r in recs}
        for uid, (_code, why) in refused.items():
            note = f"保障记录未采用：{why}"
            self._conflict("enrolments", by_uid[str(uid)], None, "duplicate_id", ["category"], note)
            self.report.duplicates.append({"uid": uid, "id_masked": "", "note": note})
        _drop(run, {str(u) for u in refused}, fast_cols.index("uid"))

    # -- possible double receipt (重复享受) ---------------------------------------------

    def _duplicates(self, run: _Run, recs: list[Record]) -> None:
        """An ID active in another household here (on a county: another township) is not
        applied but listed as possible double receipt (重复享受) for follow-up."""
        fast_cols = run.codec.insert_columns()
        leaving = {u for u, v in run.updates if v.get("status") == "deleted"}
        claims = _claims(run, fast_cols, leaving)
        ids = sorted({v["id_number"] for v in claims})
        owners = self._owners(ids, leaving)
        if not owners and len(ids) == len(claims):
            return
        bad = self._flag(claims, owners, {r.uid: r for r in recs})
        if bad:
            _drop(run, bad, fast_cols.index("uid"))

    def _owners(self, ids: list[str], leaving: set[str]) -> dict[str, tuple]:
        """ID number -> (member uid, village, head of household) of the active members here
        that hold one of ``ids`` (but for those this batch deactivates)."""
        owners: dict[str, tuple] = {}
        for chunk in chunks(ids):
            for r in self.store.conn.execute(
                "SELECT m.id_number, m.uid, h.village, h.head_name FROM members m "
                "JOIN households h ON h.id = m.household_id WHERE m.status = 'active' "
                f"AND m.id_number IN ({', '.join('?' * len(chunk))})",
                chunk,
            ):
                if r[1] not in leaving:
                    owners[r[0]] = r[1:]
        return owners

    def _flag(
        self, claims: list[dict], owners: dict[str, tuple], by_uid: dict[str, Record]
    ) -> set[str]:
        """The uids of ``claims`` whose ID another member holds (here, or earlier in this
        batch), each set aside as a ``duplicate_id`` conflict and listed in the report."""
        seen: dict[str, str] = {}
        bad: set[str] = set()
        for v in claims:
            num = v["id_number"]
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
        return bad

    # -- a table read by the worker process ----------------------------------------------

    def staged(self, t: str, reader: staging.Reader, batch: Batch, step: Step = noop_step) -> None:
        """Apply one table read by the worker process (mzdesk.sync.staging), chunk by chunk as
        it comes: the new records that need no decision move with one ``INSERT … SELECT`` per
        chunk (parents found by uid, triggers replayed as by :meth:`table`'s fast path), and
        the rest — records already here, tombstones, an older sender's rows, a parent not
        here, a key a UNIQUE index holds — take the ordinary merge (:meth:`table`) after."""
        conn = self.store.conn
        codec = TableCodec.load(conn, t)
        cols = codec.insert_columns()
        n = int(self.batch.manifest.get("counts", {}).get(t, 0))
        mark, move = _staged_sql(conn, t, codec, cols, self.gate.staged(t, list(cols)))
        rest: list[int] = []
        applied = 0
        with bulk_indexes_deferred(conn, t, n):
            while True:
                msg = reader.next(poll=partial(step, min((applied - len(rest)) / max(n, 1), 1.0)))
                if msg[0] not in ("chunk", "table") or msg[1] != t:  # the orders agree
                    raise staging.WorkerFailed(f"读取批次的进程次序不符：等待 {t}，收到 {msg[:2]}")
                if msg[0] == "table":
                    break
                self._move_chunk(t, cols, msg[3], mark, move)
                rest += [r[0] for r in conn.execute("SELECT line FROM mz_stage.s WHERE ready < 2")]
                applied += conn.execute("SELECT count(*) FROM mz_stage.s").fetchone()[0]
                step(min((applied - len(rest)) / max(n, 1), 1.0))
            if applied:
                self.maps.forget(t)
            if rest:
                # the bar: the moved records' share so far, the merge's the rest of the table
                moved = min((applied - len(rest)) / max(n, applied, 1), 1.0)
                self.table(t, _lines_at(batch, t, rest), lambda f: step(moved + (1.0 - moved) * f))

    def _move_chunk(self, t: str, cols: Sequence[str], image: bytes, mark: str, move: str) -> None:
        """Insert the records of one staged chunk that need no decision (and their bases)."""
        conn = self.store.conn
        conn.deserialize(image, name="mz_stage")
        moving = conn.execute(mark).rowcount
        if moving and t in enrolment_bulk.TABLES:  # the enrolment service writes its own
            enrolment_bulk.move_received(self.store, t, cols, move, moving, self.audit_source)
        elif moving:
            insert_select(conn, t, list(cols), move, (), moving, self.audit_source)
        if moving:
            conn.execute(
                "INSERT INTO sync_base (peer, tbl, uid, hash, batch_id) SELECT ?, ?, uid, "
                "hash, ? FROM mz_stage.s WHERE ready = 2 ORDER BY uid ON CONFLICT(peer, "
                "tbl, uid) DO UPDATE SET hash = excluded.hash, batch_id = excluded.batch_id",
                (self.peer, t, self.batch_id),
            )
            self.report.table(t).new += moving


def _as_sent(loc_json: str, incoming: dict | None, codec: TableCodec) -> str:
    """This site's content as the sender knows it: an older sender's row lacks the columns
    added since (``poverty_flag`` …), and so does the base it was hashed from; comparing
    the whole local row would take every such record for one changed on both sides."""
    if incoming is None or len(incoming) >= len(codec.content_columns()):
        return loc_json
    loc = json.loads(loc_json)
    return canonical({k: v for k, v in loc.items() if k in incoming})


def _claims(run: _Run, fast_cols, leaving: set[str]) -> list[dict]:
    """The members this batch makes active with an ID number: new ones (inserted either
    way) and updated ones (but for those it deactivates), as {uid, id_number, ...}."""
    i_uid, i_id = fast_cols.index("uid"), fast_cols.index("id_number")
    i_st = fast_cols.index("status") if "status" in fast_cols else None
    wanted = (
        list(run.inserts)
        + [
            {
                "uid": r[i_uid],
                "id_number": r[i_id],
                "status": r[i_st] if i_st is not None else "active",
            }
            for r in run.fast
        ]
        + [dict(v, uid=u) for u, v in run.updates if u not in leaving]
    )
    return [v for v in wanted if v.get("id_number") and v.get("status", "active") == "active"]


def _drop(run: _Run, bad: set[str], i_uid: int) -> None:
    """Take the records set aside as possible double receipt out of the writes and counts."""
    rep = run.rep
    rep.conflicts += len(bad)
    rep.new -= sum(1 for v in run.inserts if v["uid"] in bad)
    rep.new -= sum(1 for r in run.fast if r[i_uid] in bad)
    rep.updated -= sum(1 for u, _ in run.updates if u in bad)
    run.fast = [r for r in run.fast if r[i_uid] not in bad]
    run.inserts = [v for v in run.inserts if v["uid"] not in bad]
    run.updates = [(u, v) for u, v in run.updates if u not in bad]


def _staged_sql(
    conn, t: str, codec: TableCodec, cols: Sequence[str], in_scope: list[str]
) -> tuple[str, str]:
    """(mark, move): the UPDATE that marks (``ready = 2``) the staged records that can move
    with no decision, and the SELECT of their values in local form (parents by uid);
    ``in_scope``: the sender scope's conditions (the others take the merge, which checks
    each record)."""
    fk_at = {i: codec.fks[c] for i, c in enumerate(cols) if c in codec.fks}
    value = [
        f"(SELECT id FROM main.{fk_at[i]} WHERE uid = s.c{i})" if i in fk_at else f"s.c{i}"
        for i in range(len(cols))
    ]
    ready = [f"NOT EXISTS (SELECT 1 FROM main.{t} l WHERE l.uid = s.uid)", *in_scope]
    ready += [
        f"(s.c{i} IS NULL OR EXISTS (SELECT 1 FROM main.{p} WHERE uid = s.c{i}))"
        for i, p in fk_at.items()
    ]
    if t == "enrolments":  # only a line that can clash with nothing needs no decision
        ready.append(enrolment_bulk.staged_alone_sql(cols, value))
    keys = unique_keys(conn, t, cols)
    if keys is None or t in fk_at.values():
        # an expression index, or rows that name rows of their own table (which one
        # statement would insert together): every record takes the merge
        ready.append("false")
    # a key held here (the worker already left to the merge any line whose key an
    # earlier line of the file claims)
    for at, where in keys or ():
        same_l = " AND ".join(f"l.{cols[i]} = {value[i]}" for i in at)
        ready.append(
            f"NOT EXISTS (SELECT 1 FROM main.{t} l WHERE {same_l}"
            + (f" AND ({where})" if where else "")
            + ")"
        )
    mark = f"UPDATE mz_stage.s SET ready = 2 WHERE ready = 1 AND {' AND '.join(ready)}"
    move = f"SELECT {', '.join(value)} FROM mz_stage.s s WHERE ready = 2 ORDER BY line"
    return mark, move


def _lines_at(batch: Batch, t: str, at: list[int]) -> list[Record]:
    """The records on lines ``at`` (1-based) of the batch's ``records/<t>.jsonl``, parsed."""
    name = f"records/{t}.jsonl"
    assert batch.plain is not None  # an opened batch keeps its plaintext
    lines = split_lines(read_member(zipfile.ZipFile(io.BytesIO(batch.plain)), name))
    return parse_lines(
        name, [lines[i - 1] for i in at], text_rule=text_rule_applies(batch.manifest)
    )
