"""Writing a checked roster (花名册导入的写入): one transaction, all or nothing.

New households go through the registry's bulk path
(:func:`mzdesk.models.registry.write_new_households`), changes to registered ones
through :func:`mzdesk.models.registry.add_to_household`, enrolments through
:mod:`mzdesk.models.enrolment_import`.  What each row was before is logged in
``import_rows`` so that :func:`mzdesk.roster.import_undo.undo` can take the
batch back as a unit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from ..models.components import write_imported_parts
from ..models.dates import check_date
from ..models.enrolment import categories
from ..models.enrolment_import import (
    UNDONE_COLUMNS,
    live_enrolment,
    next_enrolment_id,
    write_imported,
)
from ..models.household import Household
from ..models.progress import Cancel as CancelFn
from ..models.progress import Cancelled, Progress
from ..models.registry import Registry, add_to_household, write_new_households
from ..models.store import Store, new_uid
from ..models.support import write_demo_support
from .import_match import changed_fields, enrolment_changed, new_members
from .import_plan import FileHousehold, ImportRefused, RosterPlan, problem_label
from .layout import remember_layout


def _require_import(store: Store) -> None:
    """The operator may import (批量导入), when operator accounts are in use."""
    try:
        from ..models.auth import require
    except ImportError:  # accounts not part of this build
        return
    require(store, "household.import")


def refuse_errors(plan: RosterPlan) -> None:
    """:class:`ImportRefused` while any ``error`` problem remains, naming them in words."""
    if not plan.errors:
        return
    codes = Counter(p.code for p in plan.errors)
    what = "，".join(f"{problem_label(c)} {n}处" for c, n in codes.items())
    first = plan.errors[0]
    raise ImportRefused(
        f"文件有{len(plan.errors)}处必须先改正的问题（{what}），"
        f"例如 {first.sheet} 第{first.row}行 {first.column}: {first.message}；未导入任何数据"
    )


def apply(
    store: Store,
    plan: RosterPlan,
    month: dt.date | None = None,
    progress: Progress | None = None,
    cancel: CancelFn | None = None,
    today: dt.date | None = None,
) -> dict:
    """Write the plan in ONE transaction; returns a summary with ``batch_id``.

    Refuses (:class:`ImportRefused`) while any ``error`` problem remains.
    Enrolments from the roster are recorded as 在保 from their 最初享受月份 when the file
    gives it, else from ``month`` (default: this month) marked as started before mzdesk
    (存量, not 当月新增), each with an ``import`` event naming the batch.  Rows held back
    (``skip`` problems: an unrecognised value, a 合计 that disagrees) get no enrolment.
    """
    refuse_errors(plan)
    today = today or dt.date.today()
    start = (month or today).replace(day=1).isoformat()
    check_date("roster_month", start, today=today, field="month")  # not 1900, not 2099
    creates = [fh for fh in plan.households if fh.action == "create"]
    updates = [fh for fh in plan.households if fh.action == "update"]
    with store.checkpoint_after(), store.transaction():  # the WAL's copy: after the report
        stamp = store.stamp(new=True)
        batch_uid = new_uid()
        batch_id = _new_batch(store, plan, batch_uid, stamp)
        _require_import(store)
        log = _write_households(store, creates, updates, batch_id, progress, cancel)
        log += _write_enrolments(store, creates + updates, start, batch_uid, batch_id, stamp)
        store.conn.executemany(
            "INSERT INTO import_rows (batch_id, table_name, row_id, action, before) "
            "VALUES (?, ?, ?, ?, ?)",
            log,
        )
        skipped = sum(1 for fh in plan.households if fh.skipped)
        for lay in plan.layouts:
            remember_layout(store, lay)
        summary = {
            "batch_id": batch_id,
            "file": plan.file_label,
            "households": len(plan.households),
            "members": plan.members,
            "created": len(creates),
            "updated": len(updates),
            "unchanged": len(plan.households) - len(creates) - len(updates),
            "flagged": len(plan.problems),
            "skipped_enrolments": skipped,
            "monthly_total_fen": plan.monthly_total_fen,
        }
        store.conn.execute(
            "UPDATE import_batches SET summary = ? WHERE id = ?",
            (json.dumps(summary, ensure_ascii=False), batch_id),
        )
        if cancel and cancel():
            raise Cancelled()
    return summary


def _new_batch(store: Store, plan: RosterPlan, batch_uid: str, stamp: dict) -> int:
    cursor = store.conn.execute(
        "INSERT INTO import_batches (uid, file_name, file_sha256, created_at, updated_at, "
        "created_by, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            batch_uid,
            plan.file_label,
            plan.sha256,
            stamp["created_at"],
            stamp["updated_at"],
            stamp["created_by"],
            stamp["updated_by"],
        ),
    )
    assert cursor.lastrowid is not None  # an INSERT's row
    return cursor.lastrowid


def _write_households(
    store: Store,
    creates: list[FileHousehold],
    updates: list[FileHousehold],
    batch_id: int,
    progress: Progress | None,
    cancel: CancelFn | None,
) -> list[tuple]:
    log: list[tuple] = []
    ids = _insert_households(store, [fh.household for fh in creates], progress, cancel)
    for hid, fh in zip(ids, creates, strict=True):
        fh.match_id = hid
        log.append((batch_id, "households", hid, "created", None))
        log += [(batch_id, "members", m.id, "created", None) for m in fh.household.members]
    registry = Registry(store)
    for fh in updates:
        if cancel and cancel():
            raise Cancelled()
        assert fh.match_id is not None  # an update is of a matched household
        log += _update_household(store, registry, fh, fh.match_id, batch_id)
    return log


def _insert_households(
    store: Store, households: list[Household], progress: Progress | None, cancel: CancelFn | None
) -> list[int]:
    """Insert validated households and members with ``executemany`` (the registry's rows).

    Not :meth:`Registry.bulk_create`: that re-validates and would clear the 待核实
    flag of a well-formed number the import flagged (duplicate in the file,
    already registered elsewhere); the rules were applied in :func:`analyse`.
    """
    return write_new_households(
        store, households, store.stamp(new=True), batch=10000, progress=progress, cancel=cancel
    )


def _update_household(
    store: Store, registry: Registry, fh: FileHousehold, household_id: int, batch_id: int
) -> list[tuple]:
    db = registry.get(household_id)
    before = store.one("SELECT * FROM households WHERE id = ?", (household_id,))
    assert before is not None  # registry.get found it
    added = new_members(db, fh.household)
    stamp = store.stamp(new=True)
    changed = add_to_household(
        store, household_id, changed_fields(db, fh.household), added, len(db.members), stamp
    )
    keep = {k: before[k] for k in (*changed, "rev")}
    log: list[tuple] = [
        (batch_id, "households", household_id, "updated", json.dumps(keep, ensure_ascii=False))
    ]
    log += [(batch_id, "members", m.id, "created", None) for m in added]
    return log


def _write_enrolments(
    store: Store,
    households: list[FileHousehold],
    start: str,
    batch_uid: str,
    batch_id: int,
    stamp: dict,
) -> list[tuple]:
    """Each household's enrolment: a new 在保 row, or an update of the live one when
    re-importing changed figures; the enrolment service writes them together at the end
    (:func:`~mzdesk.models.enrolment_import.write_imported`, which checks its rules)."""
    log: list[tuple] = []
    new_rows: list[tuple] = []
    changes: list[tuple] = []
    extras = _Extras()
    next_id = next_enrolment_id(store)
    cats = categories(store)
    for fh in households:
        fen = fh.monthly_fen
        if not fh.category or fen is None or fh.skipped:
            continue
        assert fh.match_id is not None  # created or matched: a household of the registry
        existing = (
            None if fh.action == "create" else live_enrolment(store, fh.match_id, fh.category)
        )
        if existing is not None:
            if enrolment_changed(existing, fh):
                changes.append((existing, fh.cls, fh.covered_count(), fen, stamp))
                before = {k: existing[k] for k in UNDONE_COLUMNS}
                log.append(
                    (
                        batch_id,
                        "enrolments",
                        existing["id"],
                        "updated",
                        json.dumps(before, ensure_ascii=False),
                    )
                )
            continue
        cat = cats.get(fh.category, {})
        head = fh.household.head
        alone = cat.get("unit") == "person" or (fh.single and cat.get("single"))
        member_id = head.id if alone and head else None
        new_rows.append(
            (
                next_id,
                new_uid(),
                fh.match_id,
                member_id,
                fh.category,
                fh.cls,
                fh.covered_count(),
                fen,
                stamp["created_at"][:10],
                f"{fh.first_month}-01" if fh.first_month else start,
                stamp["created_at"],
                stamp["updated_at"],
                stamp["created_by"],
                stamp["updated_by"],
            )
        )
        extras.add(next_id, fh, bool(cat.get("support_modes")))
        log.append((batch_id, "enrolments", next_id, "created", None))
        next_id += 1
    write_imported(store, new_rows, changes, batch_uid, extras.stock)
    _write_extras(store, extras)
    return log


class _Extras:
    """What a new enrolment carries beside its row: 存量 (no start month in the file),
    its parts (保障金, 分类施保金, 照料护理费) and 特困 供养方式, written after the rows."""

    def __init__(self) -> None:
        self.stock: set[int] = set()
        self.parts: list[tuple] = []
        self.support: list[tuple] = []

    def add(self, eid: int, fh: FileHousehold, supported: bool) -> None:
        if not fh.first_month:
            self.stock.add(eid)
        for code, fen in fh.parts.items():
            level = "household" if code == "classified" else ""
            self.parts.append((eid, fh.match_id, code, level, fen))
        if supported and (fh.support_mode or fh.institution):
            self.support.append((fh.support_mode, fh.institution, "", "", "", None, None, eid))


def _write_extras(store: Store, extras: _Extras) -> None:
    if extras.parts:
        write_imported_parts(store, extras.parts)
    if extras.support:
        write_demo_support(store, extras.support)
