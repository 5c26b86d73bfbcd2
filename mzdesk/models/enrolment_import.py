"""Enrolments recorded from a roster import (花名册导入的在保记录): the bulk writes.

A roster lists households already 在保, so their enrolments start ``active``,
each with an ``import`` event naming the batch, without the lifecycle's steps
(:mod:`mzdesk.models.enrolment`).  This is the enrolment aggregate's set-based
path for :mod:`mzdesk.roster.import_apply`; the caller holds the transaction.
:func:`write_imported` runs the lifecycle's rules between records (特困 vs 低保, one
live enrolment per person and category) in their set form
(:mod:`mzdesk.models.enrolment_rules`) before it writes anything; the import's
analysis asks :func:`refused_imports` the same question to flag the rows.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence

from . import enrolment_rules as rules
from .bulk import insert_many
from .enrolment import LIVE_STATES
from .store import Store, new_uid, now_iso

# the columns of one row of :func:`record_imported`, in order
IMPORTED_COLUMNS = (
    "id",
    "uid",
    "household_id",
    "member_id",
    "category",
    "class",
    "covered",
    "monthly_fen",
    "applied_on",
    "start_on",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
)


def live_enrolment(store: Store, household_id: int, category: str) -> dict | None:
    """The household's enrolment in ``category`` that is neither rejected nor stopped."""
    return store.one(
        "SELECT id, household_id, member_id, category, class, covered, monthly_fen, state, rev "
        "FROM enrolments WHERE household_id = ? "
        "AND category = ? AND status = 'active' AND state NOT IN ('rejected', 'stopped') "
        "ORDER BY id DESC LIMIT 1",
        (household_id, category),
    )


def next_enrolment_id(store: Store) -> int:
    """The id the next enrolment row gets (ids are given before :func:`record_imported`)."""
    return (store.scalar("SELECT max(id) FROM enrolments") or 0) + 1


def refused_imports(store: Store, rows: Sequence[rules.Row]) -> dict[Hashable, tuple[str, str]]:
    """{row key: (code, message)} for each roster enrolment (``rows``, 在保, in file order;
    ``replaces`` the live one it updates) that the rules refuse beside the household's
    live enrolments and the earlier rows: ``excluded_category`` or ``duplicate_enrolment``."""
    return rules.refused(store, rows, LIVE_STATES)


def write_imported(
    store: Store,
    rows: list[tuple],
    changes: list[tuple[dict, str, int, int, dict]],
    batch_uid: str,
    stock: frozenset[int] | set[int] = frozenset(),
) -> None:
    """The roster's enrolments: new 在保 ``rows`` (as :data:`IMPORTED_COLUMNS`) and
    ``changes`` (live enrolment, class, covered, monthly fen, stamp) of re-imported ones,
    refused as a whole (:class:`~mzdesk.models.enrolment_rules.EnrolmentRuleRefused`)
    when any breaks a rule between records.  ``stock``: ids of new rows whose start the
    roster did not give (before mzdesk, 存量): their ``import`` event says so, and the
    monthly statistics do not count them as 新增 (roster/monthly.py)."""
    wanted = [
        rules.Row(("change", i), e["household_id"], e["member_id"], e["category"], replaces=e["id"])
        for i, (e, *_rest) in enumerate(changes)
    ] + [rules.Row(("new", r[0]), r[2], r[3], r[4]) for r in rows]
    refused = refused_imports(store, wanted)
    if refused:
        code, why = next(iter(refused.values()))
        raise rules.EnrolmentRuleRefused(
            f"{len(refused)}条保障记录与该户已有的记录冲突，未导入任何数据；例如：{why}", code
        )
    for existing, cls, covered, fen, stamp in changes:
        update_imported(store, existing, cls, covered, fen, stamp, batch_uid)
    record_imported(store, rows, batch_uid, stock)


def undo_imported(
    store: Store, enrolment_id: int, action: str, before: str | None, ts: str, by: str
) -> None:
    """Take back what an import did to one enrolment (撤销导入): a created one is
    soft-deleted, an updated one gets its logged columns (``rev`` too) back."""
    if action == "created":
        store.conn.execute(
            "UPDATE enrolments SET status = 'deleted', rev = rev + 1, updated_at = ?, "
            "updated_by = ? WHERE id = ?",
            (ts, by, enrolment_id),
        )
        return
    assert before is not None  # an update logs the columns it changed
    values = {k: v for k, v in json.loads(before).items() if k in UNDONE_COLUMNS}
    sets = ", ".join(f"{k} = ?" for k in values)
    store.conn.execute(
        f"UPDATE enrolments SET {sets}, updated_at = ?, updated_by = ? WHERE id = ?",
        (*values.values(), ts, by, enrolment_id),
    )


# what an import's update of an enrolment logs (import_apply) and its undo puts back
UNDONE_COLUMNS = ("class", "covered", "monthly_fen", "rev")


def _detail(batch_uid: str, stock: bool = False) -> str:
    detail: dict = {"import_batch": batch_uid}
    if stock:
        detail["stock"] = True  # started before mzdesk, month unknown: 存量, never 新增
    return json.dumps(detail, ensure_ascii=False)


def record_imported(
    store: Store, rows: list[tuple], batch_uid: str, stock: frozenset[int] | set[int] = frozenset()
) -> None:
    """Insert 在保 enrolments (``rows`` as :data:`IMPORTED_COLUMNS`) and their events
    (``stock``: ids started before mzdesk, see :func:`write_imported`)."""
    # one statement per table (bulk.insert_many): the triggers' statement journal once, not per row
    insert_many(
        store.conn,
        "enrolments",
        (
            *IMPORTED_COLUMNS[:6],
            "state",
            *IMPORTED_COLUMNS[6:10],
            "notice_pending",
            *IMPORTED_COLUMNS[10:],
        ),
        [(*r[:6], "active", *r[6:10], "", *r[10:]) for r in rows],
    )
    detail, stock_detail = _detail(batch_uid), _detail(batch_uid, stock=True)
    at = now_iso()
    insert_many(
        store.conn,
        "enrolment_events",
        (
            "uid",
            "enrolment_id",
            "action",
            "from_state",
            "to_state",
            "reason",
            "detail",
            "monthly_fen",
            "at",
            "by",
        ),
        [
            (
                new_uid(),
                r[0],
                "import",
                None,
                "active",
                "花名册导入",
                stock_detail if r[0] in stock else detail,
                r[7],
                at,
                store.operator,
            )
            for r in rows
        ],
    )


def update_imported(
    store: Store,
    existing: dict,
    cls: str,
    covered: int,
    monthly_fen: int,
    stamp: dict,
    batch_uid: str,
) -> None:
    """A re-imported roster's new figures on the live enrolment ``existing``, one ``rev``
    up, with an ``import`` event."""
    store.conn.execute(
        "UPDATE enrolments SET class = ?, covered = ?, monthly_fen = ?, rev = rev + 1, "
        "updated_at = ?, updated_by = ? WHERE id = ?",
        (cls, covered, monthly_fen, stamp["updated_at"], stamp["updated_by"], existing["id"]),
    )
    store.conn.execute(
        "INSERT INTO enrolment_events (uid, enrolment_id, action, from_state, to_state, reason, "
        "detail, monthly_fen, at, by) VALUES (?, ?, 'import', ?, 'active', '花名册导入', ?, ?, ?, ?)",
        (
            new_uid(),
            existing["id"],
            existing["state"],
            _detail(batch_uid),
            monthly_fen,
            now_iso(),
            store.operator,
        ),
    )
