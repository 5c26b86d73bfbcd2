"""Demo enrolments in every lifecycle state, with the records each state implies.

:func:`insert_demo_enrolments` writes the demo's planned enrolments (checked by the
rules between records, :mod:`mzdesk.models.enrolment_rules`);
:func:`dress_demo_enrolments` runs inside ``insert_demo``'s transaction on the
enrolments it just inserted (those with no history yet): it spreads them over
申请, 调查 (some awaiting notice), 评议, 公示 (on a notice still running),
待审核 (notice ended), 在保 (some reviews overdue), 不予确认 and 停发, and writes
the matching transition events and notices, so every work queue and every
lifecycle alert has something to show.  Deterministic for the same uids.
"""

from __future__ import annotations

import datetime as dt
import json
import random

from . import enrolment_rules as rules
from .categories import categories, lifecycle_settings
from .enrolment import ACTIONS, LIVE_STATES
from .notice import township_name
from .payment_dates import add_months
from .store import Store, new_uid, now_iso

_STATES = (
    ("active", 62),
    ("applied", 4),
    ("investigating", 4),
    ("awaiting", 5),
    ("publicised", 6),
    ("submitted", 5),
    ("rejected", 4),
    ("stopped", 10),
)
_PATH = (
    "apply",
    "investigate",
    "record_investigation",
    "deliberate",
    "publicise",
    "submit",
    "confirm",
)


_DEMO_COLUMNS = (
    "uid",
    "household_id",
    "member_id",
    "category",
    "class",
    "state",
    "covered",
    "monthly_fen",
    "applied_on",
    "start_on",
    "end_on",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
)


def insert_demo_enrolments(store: Store, rows: list[tuple]) -> None:
    """Write the demo's planned enrolments (``rows`` as :data:`_DEMO_COLUMNS`), checked by
    the rules between records like any bulk write, then give them their lifecycle
    (:func:`dress_demo_enrolments`).  The caller holds the transaction."""
    wanted = [rules.Row(i, r[1], r[2], r[3], r[5]) for i, r in enumerate(rows)]
    refused = rules.refused(store, wanted, LIVE_STATES)
    if refused:
        code, why = next(iter(refused.values()))
        raise rules.EnrolmentRuleRefused(f"演示数据的保障记录违反规则：{why}", code)
    store.conn.executemany(
        f"INSERT INTO enrolments ({', '.join(_DEMO_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(_DEMO_COLUMNS))})",
        rows,
    )
    dress_demo_enrolments(store)


def dress_demo_enrolments(store: Store, today: dt.date | None = None) -> int:
    """Give fresh demo enrolments varied lifecycle states; return how many were dressed."""
    today = today or dt.date.today()
    rows = store.conn.execute(
        "SELECT e.id, e.uid, e.category, e.class, e.covered, e.monthly_fen, h.village, "
        "h.village_group, coalesce(m.name, h.head_name), coalesce(m.id_number, h.head_id_number) "
        "FROM enrolments e JOIN households h ON h.id = e.household_id "
        "LEFT JOIN members m ON m.id = e.member_id WHERE NOT EXISTS "
        "(SELECT 1 FROM enrolment_events v WHERE v.enrolment_id = e.id) ORDER BY e.id"
    ).fetchall()
    if not rows:
        return 0
    cats = categories(store)
    deliberation = set(lifecycle_settings()["deliberation"])
    names, weights = zip(*_STATES, strict=True)
    ts, who = now_iso(), "demo"
    events: list[tuple] = []
    updates: list[tuple] = []
    on_notice: dict[str, list[int]] = {"publicised": [], "submitted": []}
    for eid, uid, cat, _cls, *_rest in rows:
        r = random.Random(uid)
        state = r.choices(names, weights)[0]
        applied = today - dt.timedelta(days=r.randint(25, 60))
        investigated = applied + dt.timedelta(days=r.randint(3, 10))
        months = int(cats.get(cat, {}).get("review_months") or 0)
        cols = dict(
            state=state,
            applied_on=applied.isoformat(),
            investigated_on=None,
            start_on=None,
            end_on=None,
            review_due=None,
            stop_reason="",
        )
        steps = []
        if state in ("active", "stopped"):
            start = add_months(today.replace(day=1), -r.randint(2, 30))
            cols.update(
                applied_on=add_months(start, -2).isoformat(),
                investigated_on=add_months(start, -2).isoformat(),
                start_on=start.isoformat(),
            )
            steps = list(_PATH)
            if months:
                due = today + dt.timedelta(days=r.randint(-45, months * 30))
                cols["review_due"] = due.isoformat()
            if state == "stopped":
                cols["end_on"] = (today.replace(day=1) - dt.timedelta(days=1)).isoformat()
                cols["stop_reason"] = r.choice(["家庭收入增加", "迁出本地", "死亡", "不再符合条件"])
                steps.append("stop")
        elif state == "applied":
            steps = ["apply"]
        elif state == "investigating":
            steps = ["apply", "investigate"]
        else:
            cols["investigated_on"] = investigated.isoformat()
            steps = ["apply", "investigate", "record_investigation"]
            if cat in deliberation:
                steps.append("deliberate")
            if state == "awaiting":
                state = cols["state"] = "reviewed" if cat in deliberation else "investigating"
            elif state in ("publicised", "submitted"):
                steps.append("publicise")
                if state == "submitted":
                    steps.append("submit")
                on_notice[state].append(eid)
            elif state == "rejected":
                steps.append("reject")
                cols["end_on"] = today.isoformat()
        updates.append((*cols.values(), eid))
        prev = None
        for action in steps:
            to = ACTIONS[action][2]  # the state the lifecycle leads to
            reason = (
                cols["stop_reason"]
                if action == "stop"
                else ("演示数据" if action != "reject" else "家庭收入超过标准")
            )
            detail = (
                {"investigators": ["演示甲", "演示乙"], "verification": "核对通过"}
                if action == "record_investigation"
                else {}
            )
            events.append(
                (
                    new_uid(),
                    eid,
                    action,
                    prev,
                    to,
                    reason,
                    json.dumps(detail, ensure_ascii=False),
                    None,
                    ts,
                    who,
                )
            )
            prev = to
    store.conn.executemany(
        "UPDATE enrolments SET state = ?, applied_on = ?, investigated_on = ?, start_on = ?, "
        "end_on = ?, review_due = ?, stop_reason = ? WHERE id = ?",
        updates,
    )
    store.conn.executemany(
        "INSERT INTO enrolment_events (uid, enrolment_id, action, from_state, to_state, reason, "
        "detail, monthly_fen, at, by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        events,
    )
    by_id = {row[0]: row for row in rows}
    town = township_name(store)
    for state, start in (
        ("publicised", today - dt.timedelta(days=3)),
        ("submitted", today - dt.timedelta(days=20)),
    ):
        ids = on_notice[state]
        if not ids:
            continue
        end = start + dt.timedelta(days=6)
        nid = store.conn.execute(
            "INSERT INTO notices (uid, title, township, start_on, end_on, hotline, address, issuer, "
            "issued_on, created_at, updated_at, created_by, updated_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new_uid(),
                f"{town}{start.year}年{start.month}月社会救助拟保障对象公示",
                town,
                start.isoformat(),
                end.isoformat(),
                "0558-8000000",
                f"{town}民政办",
                f"{town}人民政府",
                start.isoformat(),
                ts,
                ts,
                who,
                who,
            ),
        ).lastrowid
        items = []
        ordered = sorted(ids, key=lambda i: (by_id[i][6], by_id[i][7], i))
        for seq, eid in enumerate(ordered, 1):
            _, _, cat, cls, covered, fen, village, group, name, _number = by_id[eid]
            short = cats.get(cat, {}).get("short", cat)
            items.append(
                (
                    new_uid(),
                    nid,
                    eid,
                    seq,
                    village,
                    group,
                    name,
                    "",
                    covered,
                    cat,
                    f"{short} {cls}".strip(),
                    fen,
                    "new",
                )
            )
        store.conn.executemany(
            "INSERT INTO notice_items (uid, notice_id, enrolment_id, seq, village, village_group, "
            "name, id_masked, covered, category, category_label, monthly_fen, action) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        )
    return len(rows)
