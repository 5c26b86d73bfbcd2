"""Sender scope: which incoming changes a sender may make (超出发送方权限).

A signature proves who sent a batch, not that the sender may make every change in it.
Each site owns a scope, and the receiver checks every incoming change against the
sender's scope and role before the merge (:class:`Gate`, called once per change by
:class:`mzdesk.sync.applier.Applier`, and as SQL conditions on the bulk path):

* **A township** (at the county, or at another township) owns the households it sent
  here: those it holds a base for (``sync_base``: the records it sent us, or we sent it
  and it acknowledged).  A household new here becomes its own.  Every record of a
  household (members, enrolments and their events, notice items, visits …) follows its
  household; a record that belongs to no household (a notice, a spot check, a relative
  declaration) belongs to the township that sent it.  A township may not make the
  county's decisions: a case waiting for the county (``submitted``) cannot be confirmed
  or rejected by the township (the enrolment's state, or a ``confirm``/``reject`` event).
* **A field laptop** (at its township) owns the households of the villages assigned to
  it (``sync assign``), and those it still holds: a household whose village was handed
  to another laptop stays with it until its edits went up (:mod:`mzdesk.sync.scope`).
  A household cannot be moved into a village not assigned to it.  Its role may not 注销 a household,
  delete a record, change an amount, move a case beyond investigation (confirm, reject,
  publicise, submit, stop, review), publish notices or declare relatives.
* **The county** (at a township) decides: confirmations, rejections, resolved conflicts
  and spot checks, on the records the township holds.  It cannot give a township a
  household that township does not have.
* A township's batch to its field laptop is not limited: the township decides the
  laptop's scope.
* **A county** (at its city or province, or a city at its province: mode ``region``)
  forwards its region's records: those whose origin (``record_origins``, written from the
  batch's origins before the records are applied: :mod:`mzdesk.sync.upward`) lies in its
  统计用区划代码.  A record another county's batch brought, with an origin outside the
  sender's region, is out of its scope.  A batch that *declares* an origin outside it is
  refused whole before this check (``foreign_origin``).

A change outside the scope is refused with ``out_of_sender_scope``, one the sender's
role may not make with ``sender_role_forbidden``.  It is never applied, so never passed
on; it is listed in the import report (kept with the batch in ``sync_batches.report``),
``sync status --json`` and on the sync page as "超出发送方权限".  The rest of the batch is
applied.  A record whose parent was refused in the same batch is refused too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..models.categories import state_label
from ..models.site import REGION_ROLES, Site
from ..models.store import Store
from .batch import Record
from .changelog import TableCodec
from .local import chunks, household_column
from .scope import RANK

OUT_OF_SCOPE = "out_of_sender_scope"
ROLE_FORBIDDEN = "sender_role_forbidden"
LABEL = "超出发送方权限"

# what a field laptop may do with a case: apply and investigate (auth: enrolment.edit)
FIELD_STATES = frozenset({"applied", "investigating", "reviewed"})
FIELD_ACTIONS = frozenset({"apply", "investigate", "record_investigation", "deliberate", "amend"})
# tables a field laptop never writes (auth: notice.publish, relatives.edit)
FIELD_NOT = {
    "notices": "发布公示",
    "notice_items": "发布公示",
    "objections": "登记公示异议",
    "declared_relatives": "近亲属备案",
    "payment_runs": "办理一次性发放",
    "payment_run_lines": "办理一次性发放",
}
# a 临时救助/医疗救助 case's decision and payment (auth: enrolment.confirm, payment.edit):
# a field laptop records applications and documents only (models/cases.py)
CASE_DECISION_COLUMNS = (
    "decision",
    "decided_on",
    "decided_by",
    "fast_track",
    "paid_on",
    "paid_fen",
    "amount_fen",
)
# the county's decisions on a case submitted to it
COUNTY_DECISIONS = {"active": "审核确认", "rejected": "不予确认"}
DECISION_ACTIONS = {"confirm": "审核确认", "reject": "不予确认"}
# records a township makes that belong to no household: they go back down only to a
# township that has them (mzdesk.sync.export)
TOWNSHIP_ROOTS = ("notices", "declared_relatives", "payment_runs")
_LABELS = {"notices": "公示", "declared_relatives": "近亲属备案", "payment_runs": "一次性发放"}


@dataclass(frozen=True)
class Refusal:
    table: str
    uid: str
    reason: str  # OUT_OF_SCOPE or ROLE_FORBIDDEN
    note: str

    def as_dict(self) -> dict:
        return {"table": self.table, "uid": self.uid, "reason": self.reason, "note": self.note}


def _mode(own: Site, sender_role: str) -> str:
    """none (a higher site's batch to a field laptop), county (the county's, city's or
    province's batch to a site below), villages (a field laptop's batch), region (a county's
    or city's batch forwarded upward), owner (a township's batch)."""
    if sender_role == "field":
        return "villages"
    if RANK.get(sender_role, 0) > RANK.get(own.role, 0):
        return "county" if RANK.get(sender_role, 0) >= RANK["county"] else "none"
    if own.role in REGION_ROLES and sender_role in ("county", "city"):
        return "region"
    return "owner"


def foreign_sql(tbl: str, uid_expr: str, prefix: str) -> str:
    """SQL true when the record ``uid_expr`` of ``tbl`` has an origin outside the region
    ``prefix`` (mode ``region``)."""
    return (
        f"EXISTS (SELECT 1 FROM main.record_origins o WHERE o.tbl = '{tbl}' AND "
        f"o.record_uid = {uid_expr} AND substr(o.origin, 1, {len(prefix)}) != {_lit(prefix)})"
    )


def _lit(text: str) -> str:
    """A SQL string literal (for the conditions of the bulk path, which run without
    parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _fetch(store: Store, sql: str, keys: Iterable[str | None], *args) -> list[tuple]:
    """``sql`` (ending in ``IN``) for the distinct ``keys``, 500 at a time."""
    distinct = sorted({k for k in keys if k is not None})
    out: list[tuple] = []
    for chunk in chunks(distinct):
        out += store.conn.execute(f"{sql} ({', '.join('?' * len(chunk))})", (*args, *chunk))
    return out


class Gate:
    """The sender scope of one incoming batch (see the module's docstring)."""

    def __init__(self, store: Store, own: Site, sender: str, role: str, villages: list[str]):
        self.store, self.sender, self.role = store, sender, role
        self.villages = frozenset(villages)
        self.mode = _mode(own, role)
        self.refused: dict[str, set[str]] = {}  # table -> uids refused in this batch

    def table(self, t: str, recs: list[Record]) -> TableGate | None:
        """The check for one table's records (None: nothing to check)."""
        if self.mode == "none":
            return None
        return TableGate(self, t, recs)

    def staged(self, t: str, cols: list[str]) -> list[str]:
        """SQL conditions on a staged new record (``s.c<i>`` = ``cols[i]``, foreign keys as
        uids) for the bulk path; a record failing one takes the merge, where
        :meth:`TableGate.check` decides.  Conservative: only the common cases move."""
        if self.mode == "none":
            return []
        if self.mode == "villages" or (self.mode == "county" and t == "households"):
            return ["false"]
        if self.mode == "county":
            return []
        codec = TableCodec.load(self.store.conn, t)
        hh = household_column(self.store, codec)
        if hh is None or t == "households":
            return []  # new: the sender's own
        col, parent = hh
        at = cols.index(col)
        if self.mode == "region":
            return self._staged_region(t, codec, cols, at, parent)
        own_hh = (
            f"SELECT 1 FROM main.sync_base b WHERE b.peer = {_lit(self.sender)} "
            "AND b.tbl = 'households' AND b.uid = "
        )
        if parent is None:
            out = [f"EXISTS ({own_hh}s.c{at})"]
        else:
            out = [
                f"EXISTS (SELECT 1 FROM main.{parent} p JOIN main.households h ON "
                f"h.id = p.household_id WHERE p.uid = s.c{at} AND EXISTS ({own_hh}h.uid))"
            ]
        for c, p in codec.fks.items():
            if p in TOWNSHIP_ROOTS:
                i = cols.index(c)
                out.append(
                    f"(s.c{i} IS NULL OR EXISTS (SELECT 1 FROM main.sync_base b WHERE "
                    f"b.peer = {_lit(self.sender)} AND b.tbl = '{p}' AND b.uid = s.c{i}))"
                )
        if t == "enrolment_events" and self.role == "township":
            act, enr = cols.index("action"), cols.index("enrolment_id")
            out.append(
                f"NOT (s.c{act} IN ('confirm', 'reject') AND EXISTS (SELECT 1 FROM "
                f"main.enrolments e WHERE e.uid = s.c{enr} AND e.state = 'submitted'))"
            )
        return out

    def _staged_region(
        self, t: str, codec: TableCodec, cols: list[str], at: int, parent: str | None
    ) -> list[str]:
        """Mode ``region``: a household's new record moves when its household's origin is
        the sender's region, and so is that of the records of no household it names."""
        if parent is None:
            out = [f"NOT {foreign_sql('households', f's.c{at}', self.sender)}"]
        else:
            out = [
                f"NOT EXISTS (SELECT 1 FROM main.{parent} p JOIN main.households h ON "
                f"h.id = p.household_id WHERE p.uid = s.c{at} AND "
                f"{foreign_sql('households', 'h.uid', self.sender)})"
            ]
        for c, p in codec.fks.items():
            if p in TOWNSHIP_ROOTS:
                out.append(f"NOT {foreign_sql(p, f's.c{cols.index(c)}', self.sender)}")
        return out


class TableGate:
    """One table's records against the sender's scope: what is needed is read in a few
    set-based queries up front, then each change is checked in O(1)."""

    def __init__(self, gate: Gate, t: str, recs: list[Record]):
        self.gate, self.t = gate, t
        store = gate.store
        self.codec = TableCodec.load(store.conn, t)
        self.hh = household_column(store, self.codec)
        uids = [r.uid for r in recs]
        # the household (uid) of each record here; for a record of no household: itself
        self.local: dict[str, str] = {}
        # a parent's uid -> its household's uid (records of a household's record)
        self.parent_hh: dict[str, str] = {}
        self.ref_col: str | None = None
        if self.hh is None or t == "households":
            self.local = {u: u for (u,) in _fetch(store, f"SELECT uid FROM {t} WHERE uid IN", uids)}
        else:
            col, parent = self.hh
            self.ref_col = TableCodec.wire_name(col)
            if parent is None:
                join = f"JOIN households h ON h.id = t.{col}"
            else:
                join = (
                    f"JOIN {parent} p ON p.id = t.{col} JOIN households h ON h.id = p.household_id"
                )
            self.local = dict(
                _fetch(store, f"SELECT t.uid, h.uid FROM {t} t {join} WHERE t.uid IN", uids)
            )
            if parent is not None:
                refs = [r.row.get(self.ref_col) for r in recs if r.row is not None]
                self.parent_hh = dict(
                    _fetch(
                        store,
                        f"SELECT p.uid, h.uid FROM {parent} p JOIN households h "
                        "ON h.id = p.household_id WHERE p.uid IN",
                        refs,
                    )
                )
        self.village_of: dict[str, str] = {}  # a field laptop's batch: village of each household
        self.present, self.in_scope = self._households(recs)
        self.base: set[str] = set()
        if self.hh is None and gate.mode == "region":  # of the sender's region
            foreign = foreign_sql(t, f"{t}.uid", gate.sender)
            sql = f"SELECT uid FROM {t} WHERE NOT {foreign} AND uid IN"
            self.base = {u for (u,) in _fetch(store, sql, self.local)}
        elif self.hh is None:
            self.base = {
                u
                for (u,) in _fetch(
                    store,
                    "SELECT uid FROM sync_base WHERE peer = ? AND tbl = ? AND uid IN",
                    self.local,
                    gate.sender,
                    t,
                )
            }
        self.rows = self._role_rows(recs)
        self.roots = self._roots(recs)

    def _ref(self, rec: Record) -> str | None:
        """The household an incoming row names (None: not known here)."""
        if self.t == "households":
            return rec.uid
        if rec.row is None or self.ref_col is None:
            return None
        ref = rec.row.get(self.ref_col)
        if self.hh is not None and self.hh[1] is not None:
            return self.parent_hh.get(str(ref))
        return None if ref is None else str(ref)

    def _households(self, recs: list[Record]) -> tuple[set[str], set[str]]:
        """(here, in scope): of the households of the records here and of those the rows
        name, those that are here and those in the sender's scope."""
        if self.hh is None:
            return set(), set()
        gate, store = self.gate, self.gate.store
        wanted = set(self.local.values()) | {self._ref(r) for r in recs if r.row is not None}
        if gate.mode == "owner":
            sql = (
                "SELECT h.uid, EXISTS (SELECT 1 FROM sync_base b WHERE b.peer = ? AND "
                "b.tbl = 'households' AND b.uid = h.uid) FROM households h WHERE h.uid IN"
            )
            found = _fetch(store, sql, wanted, gate.sender)
        elif gate.mode == "region":
            foreign = foreign_sql("households", "h.uid", gate.sender)
            sql = f"SELECT h.uid, NOT {foreign} FROM households h WHERE h.uid IN"
            found = _fetch(store, sql, wanted)
        elif gate.mode == "villages":
            # assigned, or still held (given to the laptop, not yet withdrawn)
            sql = (
                "SELECT h.uid, h.village, EXISTS (SELECT 1 FROM sync_base b WHERE b.peer = ? "
                "AND b.tbl = 'households' AND b.uid = h.uid) OR EXISTS (SELECT 1 FROM "
                "sync_pending p WHERE p.peer = ? AND p.tbl = 'households' AND p.uid = h.uid) "
                "FROM households h WHERE h.uid IN"
            )
            rows = _fetch(store, sql, wanted, gate.sender, gate.sender)
            self.village_of = {u: v for u, v, _held in rows}
            found = [(u, v in gate.villages or bool(held)) for u, v, held in rows]
        else:
            found = [
                (u, True)
                for (u,) in _fetch(store, "SELECT uid FROM households WHERE uid IN", wanted)
            ]
        return {u for u, _ in found}, {u for u, ok in found if ok}

    def _roots(self, recs: list[Record]) -> dict[str, tuple[str, set[str]]]:
        """Wire column -> (table, uids here that are not the sender's) of the references to
        a township's records of no household (a notice item names its notice): a township
        cannot attach its records to another township's notice."""
        gate, store = self.gate, self.gate.store
        if gate.mode not in ("owner", "region"):
            return {}
        out = {}
        for col, parent in self.codec.fks.items():
            if parent not in TOWNSHIP_ROOTS:
                continue
            wire = TableCodec.wire_name(col)
            refs = [r.row.get(wire) for r in recs if r.row is not None]
            if gate.mode == "region":
                foreign = foreign_sql(parent, "p.uid", gate.sender)
                sql = f"SELECT p.uid FROM {parent} p WHERE {foreign} AND p.uid IN"
                out[wire] = (parent, {u for (u,) in _fetch(store, sql, refs)})
                continue
            sql = (
                f"SELECT p.uid FROM {parent} p WHERE NOT EXISTS (SELECT 1 FROM sync_base b "
                "WHERE b.peer = ? AND b.tbl = ? AND b.uid = p.uid) AND p.uid IN"
            )
            out[wire] = (parent, {u for (u,) in _fetch(store, sql, refs, gate.sender, parent)})
        return out

    def _role_rows(self, recs: list[Record]) -> dict[str, tuple]:
        """What the role rules compare with: households' status, enrolments' (state, amount,
        status), and for events their enrolment's (state, amount), by uid."""
        store, role, t = self.gate.store, self.gate.role, self.t
        if role == "field" and t == "households":
            sql = "SELECT uid, status FROM households WHERE uid IN"
            return {r[0]: r[1:] for r in _fetch(store, sql, self.local)}
        if role == "field" and t == "cases":
            sql = f"SELECT uid, {', '.join(CASE_DECISION_COLUMNS)} FROM cases WHERE uid IN"
            return {r[0]: r[1:] for r in _fetch(store, sql, self.local)}
        if role in ("field", "township") and t in ("enrolments", "enrolment_events"):
            if t == "enrolments":
                keys: Iterable[str | None] = self.local
            else:
                keys = (r.row.get("enrolment_uid") for r in recs if r.row is not None)
            sql = "SELECT uid, state, monthly_fen, status FROM enrolments WHERE uid IN"
            return {r[0]: r[1:] for r in _fetch(store, sql, keys)}
        return {}

    # -- one change ------------------------------------------------------------------

    def check(self, rec: Record) -> Refusal | None:
        """Why ``rec`` is refused, or None; a refused record is remembered so that its
        children in the same batch are refused too."""
        found = self._scope(rec)
        if found is None and self.gate.role in ("field", "township"):
            found = self._role(rec)
        if found is None:
            return None
        self.gate.refused.setdefault(self.t, set()).add(rec.uid)
        reason, note = found
        return Refusal(self.t, rec.uid, reason, f"{LABEL}：{note}")

    def _scope(self, rec: Record) -> tuple[str, str] | None:
        gate, t = self.gate, self.t
        out = (OUT_OF_SCOPE, "不属于发送方的范围")
        here = rec.uid in self.local
        if self.hh is None:  # a record of no household: its sender's
            if gate.mode != "county" and here and rec.uid not in self.base:
                return (OUT_OF_SCOPE, "该记录不是发送方的")
            return None
        if t == "households":
            if gate.mode == "county":
                return None if here else (OUT_OF_SCOPE, "上级站点不能新增本站没有的家庭")
            if gate.mode == "villages":
                village = rec.row.get("village") if rec.row is not None else None
                if here and rec.uid not in self.in_scope:
                    return (OUT_OF_SCOPE, "该家庭所在村未分配给发送方")
                moved = not here or village != self.village_of.get(rec.uid)
                if village is not None and village not in gate.villages and moved:
                    return (OUT_OF_SCOPE, f"{village}未分配给发送方")
                return None
            return out if here and rec.uid not in self.in_scope else None
        if here and self.local[rec.uid] not in self.in_scope:
            return out
        if rec.row is None:
            return None
        ref = self._ref(rec)
        if ref is None or ref not in self.present:
            # its parent is not here: refused with it in this batch, or an orphan (merge)
            assert self.hh is not None  # a record of a household
            parent = self.hh[1] or "households"
            return out if rec.row.get(self.ref_col or "") in gate.refused.get(parent, ()) else None
        if ref not in self.in_scope:
            return out
        for wire, (parent, foreign) in self.roots.items():
            if rec.row.get(wire) in foreign:
                return (OUT_OF_SCOPE, f"所属{_LABELS.get(parent, parent)}不是发送方的")
        return None

    def _role(self, rec: Record) -> tuple[str, str] | None:
        t, row = self.t, rec.row
        if self.gate.role == "township":
            return self._township(rec)
        if t in FIELD_NOT:
            return (ROLE_FORBIDDEN, f"入户终端不能{FIELD_NOT[t]}")
        if row is None:
            return (ROLE_FORBIDDEN, "入户终端不能删除记录")
        old = self.rows.get(rec.uid)
        if t == "households":
            if row.get("status") == "deleted" and (old is None or old[0] != "deleted"):
                return (ROLE_FORBIDDEN, "入户终端不能注销家庭")
        elif t == "enrolments":
            return self._field_enrolment(row, old)
        elif t == "cases":
            return self._field_case(row, old)
        elif t == "enrolment_events" and rec.uid not in self.local:
            action = row.get("action")
            enr = self.rows.get(str(row.get("enrolment_uid")))
            if action not in FIELD_ACTIONS:
                return (ROLE_FORBIDDEN, f"入户终端不能办理“{action}”")
            if action == "amend" and enr is not None and row.get("monthly_fen") != enr[1]:
                return (ROLE_FORBIDDEN, "入户终端不能改动保障金额")
        return None

    @staticmethod
    def _field_case(row: dict, old: tuple | None) -> tuple[str, str] | None:
        """A field laptop records a case's application, never its decision or payment."""
        decided = any(row.get(c) not in (None, "", 0) for c in CASE_DECISION_COLUMNS[:-1])
        if old is None:
            if decided:
                return (ROLE_FORBIDDEN, "入户终端不能审批或发放临时救助、医疗救助")
            return None
        if any(row.get(c) != v for c, v in zip(CASE_DECISION_COLUMNS, old, strict=True)):
            return (ROLE_FORBIDDEN, "入户终端不能审批、发放或改动救助金额")
        return None

    def _field_enrolment(self, row: dict, old: tuple | None) -> tuple[str, str] | None:
        state, fen = row.get("state"), row.get("monthly_fen")
        if row.get("status") == "deleted" and (old is None or old[2] != "deleted"):
            return (ROLE_FORBIDDEN, "入户终端不能注销救助记录")
        if state not in FIELD_STATES and (old is None or old[0] != state):
            return (ROLE_FORBIDDEN, f"入户终端不能将救助记录改为“{state_label(str(state))}”")
        if old is not None and fen != old[1]:
            return (ROLE_FORBIDDEN, "入户终端不能改动保障金额")
        return None

    def _township(self, rec: Record) -> tuple[str, str] | None:
        """A case submitted to the county is decided by the county only."""
        row = rec.row
        if row is None:
            return None
        if self.t == "enrolments":
            old = self.rows.get(rec.uid)
            state = row.get("state")
            if old is not None and old[0] == "submitted" and state in COUNTY_DECISIONS:
                return (ROLE_FORBIDDEN, f"{COUNTY_DECISIONS[state]}由县级作出，乡镇不能代为决定")
        elif self.t == "enrolment_events" and rec.uid not in self.local:
            action = row.get("action")
            enr = self.rows.get(str(row.get("enrolment_uid")))
            if action in DECISION_ACTIONS and enr is not None and enr[0] == "submitted":
                return (
                    ROLE_FORBIDDEN,
                    f"{DECISION_ACTIONS[action]}由县级作出，乡镇不能代为决定",
                )
        return None
