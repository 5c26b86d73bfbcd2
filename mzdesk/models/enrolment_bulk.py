"""The enrolment service's set-based writes for other use cases (保障记录的批量写入).

The enrolments and their events are written only by the enrolment service
(``tests/enrolment/test_one_writer.py`` holds it): the lifecycle
(:mod:`mzdesk.models.enrolment`), the roster import
(:mod:`mzdesk.models.enrolment_import`), the demo (:mod:`mzdesk.models.enrolment_demo`)
and, here, a notice's transitions (:func:`publicise_listed`, for
:mod:`mzdesk.models.notice`) and the records a sync batch brings
(:func:`refused_received`, :func:`write_received`, for :mod:`mzdesk.sync.applier`).
The caller holds the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence

from . import enrolment_rules as rules
from .bulk import insert_many, insert_select
from .enrolment import LIVE_STATES
from .store import Store, new_uid, now_iso

TABLES = ("enrolments", "enrolment_events")


def publicise_listed(store: Store, rows: list[dict], detail: str) -> None:
    """A notice's enrolments (``rows`` from the notice queue: id, action, state,
    monthly_fen): each ``new`` one 调查/评议 → 公示, a ``change``/``stop`` one keeps its
    state; the pending notice is cleared and one event each names the notice (``detail``).
    One statement per table for the whole notice (the queue already applied
    :func:`~mzdesk.models.notice_rules.notice_ready_sql`, the same rule as ``_move``)."""
    ts, who = now_iso(), store.operator
    store.conn.executemany(
        "UPDATE enrolments SET state = CASE WHEN ? = 'new' THEN 'publicised' ELSE state END, "
        "notice_pending = '', rev = rev + 1, updated_at = ?, updated_by = ? WHERE id = ?",
        [(r["action"], ts, who, r["id"]) for r in rows],
    )
    store.conn.executemany(
        "INSERT INTO enrolment_events (uid, enrolment_id, action, from_state, to_state, "
        "reason, detail, monthly_fen, at, by) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?)",
        [
            (
                new_uid(),
                r["id"],
                "publicise" if r["action"] == "new" else "publicise_" + r["action"],
                r["state"],
                "publicised" if r["action"] == "new" else r["state"],
                detail,
                r["monthly_fen"],
                ts,
                who,
            )
            for r in rows
        ],
    )


# -- records a sync batch brings (mzdesk.sync.applier) -------------------------------------
_RULE_COLUMNS = ("household_id", "member_id", "category", "state", "status")


def refused_received(
    store: Store, new: Sequence[dict], updates: Sequence[tuple[str, dict]]
) -> dict[Hashable, tuple[str, str]]:
    """{uid: (code, message)} for the enrolments of a batch that the rules between records
    refuse: ``new`` rows (local values with their ``uid``) and ``updates`` (uid, the
    values that change), each as it would stand once written, beside the live enrolments
    stored here and the batch's earlier records (updates first: a stop or a deletion in
    the batch frees the place it held)."""
    stored: dict[str, dict] = {}
    if updates:
        cols = ", ".join(("id", "uid", *_RULE_COLUMNS))
        for row in store.conn.execute(
            f"SELECT {cols} FROM enrolments WHERE uid IN (SELECT value FROM json_each(?))",
            (json.dumps([u for u, _ in updates]),),
        ):
            stored[row[1]] = dict(zip(("id", "uid", *_RULE_COLUMNS), row, strict=True))
    wanted = []
    for uid, values in updates:
        here = stored.get(uid)
        if here is None:
            continue
        after = {**here, **values}
        # checked as the lifecycle checks: a record that becomes live (create), becomes
        # 在保 (confirm) or moves to another person or category; an amount, a step inside
        # the lifecycle or a stop applies as there, even on a record stored beside another
        # (``check`` lists that pair).  The others stay as stored and block a newcomer.
        was, now = _received(uid, here), _received(uid, after, replaces=here["id"])
        moved = any(after.get(c) != here[c] for c in ("household_id", "member_id", "category"))
        # one that stops being live (a rejection, a stop, a deletion) frees its place
        flips = (was.state in LIVE_STATES) != (now.state in LIVE_STATES)
        if moved or flips or (now.state == "active" != was.state):
            wanted.append(now)
    wanted += [_received(v["uid"], v) for v in new]
    return rules.refused(store, wanted, LIVE_STATES)


def _received(uid: str, v: dict, replaces: int | None = None) -> rules.Row:
    live = v.get("status", "active") == "active"
    state = (v.get("state") or "") if live else ""  # a deleted record blocks nothing
    return rules.Row(uid, v["household_id"], v.get("member_id"), v["category"], state, replaces)


def staged_alone_sql(cols: Sequence[str], value: Sequence[str]) -> str:
    """A condition on a staged enrolment line ``s`` (``mzdesk.sync.staging``; ``value[i]``:
    column ``cols[i]`` in local form) that holds when it can clash with nothing: it is not
    live, or it is the only line of its household in the chunk and the household holds no
    live enrolment here.  Only such lines move in one statement; the rest take the
    record-by-record path, where :func:`refused_received` decides."""
    at = {c: i for i, c in enumerate(cols)}
    live = ", ".join(f"'{s}'" for s in LIVE_STATES)
    hh = f"s.c{at['household_id']}"
    status = f"s.c{at['status']} != 'active' OR " if "status" in at else ""
    return (
        f"({status}s.c{at['state']} NOT IN ({live}) OR ("
        f"{hh} IN (SELECT c{at['household_id']} FROM mz_stage.s GROUP BY 1 HAVING count(*) = 1) "
        f"AND NOT EXISTS (SELECT 1 FROM main.enrolments l WHERE l.household_id = "
        f"{value[at['household_id']]} AND l.status = 'active' AND l.state IN ({live}))))"
    )


def write_received(
    store: Store,
    t: str,
    updates: Sequence[tuple[str, dict]],
    groups: dict[tuple, list],
    known_cols: set[str],
    audit_source: str,
    step: Callable[[float], None],
) -> None:
    """Write a batch's enrolments or events once merged and checked: ``updates`` (uid,
    values) one by one, ``rev`` up; ``groups`` (columns -> rows) one statement each with
    the triggers replayed once (:func:`~mzdesk.models.bulk.insert_many`), the audit naming
    the batch (``audit_source``).  ``step(fraction)`` as the rows go in."""
    assert t in TABLES  # the enrolment service writes its own tables only
    conn = store.conn
    bump = ", rev = rev + 1" if "rev" in known_cols else ""  # open forms see it stale
    for uid, values in updates:
        cols = [c for c in values if c in known_cols and c != "rev"]
        conn.execute(
            f"UPDATE {t} SET {', '.join(f'{c} = ?' for c in cols)}{bump} WHERE uid = ?",
            [values[c] for c in cols] + [uid],
        )
    n = sum(len(rows) for rows in groups.values())
    at = 0
    for names, rows in groups.items():
        k = len(rows)
        insert_many(conn, t, names, rows, audit_source, lambda f, a=at, k=k: step((a + f * k) / n))
        at += k


def move_received(
    store: Store, t: str, cols: Sequence[str], select: str, count: int, audit_source: str
) -> None:
    """Insert the staged lines ``select`` gives (a chunk's records that need no decision:
    for enrolments, :func:`staged_alone_sql` held) in one statement."""
    assert t in TABLES  # the enrolment service writes its own tables only
    insert_select(store.conn, t, list(cols), select, (), count, audit_source)


def settle_received(store: Store, t: str, uid: str, values: dict, known_cols: set[str]) -> None:
    """A clerk's decision on an edit conflict over an enrolment or an event (the sync
    page, ``sync conflicts``): the chosen content, checked by the rules between records
    (``EnrolmentRuleRefused`` when it would clash with a live record here), written one
    ``rev`` up."""
    assert t in TABLES  # the enrolment service writes its own tables only
    if t == "enrolments":
        refused = refused_received(store, [], [(uid, values)])
        if refused:
            code, why = next(iter(refused.values()))
            raise rules.EnrolmentRuleRefused(f"不能采用该版本：{why}", code)
    write_received(store, t, [(uid, values)], {}, known_cols, "", lambda _f: None)
