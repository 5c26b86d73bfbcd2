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


# -- amounts in parts and the states of issue 21 (models/components.py, enrolment_states.py) --


def _care_fen(cls: str) -> int:
    """照料护理费 of a 特困 class (a self-care level) from the care table (models/selfcare.py)."""
    from .selfcare import UnknownLevel, care_fen

    try:
        return care_fen(cls)
    except UnknownLevel:
        return 0


_ROLES = ("increase", "decrease", "suspended", "resumed", "phase_out", "phase_out_due")


def dress_demo_parts_and_states(store: Store, today: dt.date | None = None) -> dict[str, int]:
    """Give the demo's paid enrolments their parts (分类施保金 for some 低保 households,
    照料护理费 for 特困 by class) and walk a few through every new state and event through
    the services: 增发, 减发, 暂停, 暂停→恢复 with 补发 on this month's 清册, 渐退期 (running,
    and expired: in the 渐退期满 queue), 不予受理, 户主死亡 (户主变更 and a review task).
    Returns how many of each.  Deterministic for the same uids and day."""
    from . import enrolment_states as st

    today = today or dt.date.today()
    done = dict.fromkeys(("classified", "care", *_ROLES, "not_accepted", "head_change"), 0)
    paid = store.conn.execute(
        "SELECT id, uid, category, class, monthly_fen, start_on, state, household_id "
        "FROM enrolments "
        "WHERE state IN ('active', 'stopped') AND status = 'active' AND NOT EXISTS "
        "(SELECT 1 FROM enrolment_components c WHERE c.enrolment_id = enrolments.id) ORDER BY id"
    ).fetchall()
    done.update(_demo_parts(store, paid))
    old_enough = add_months(today.replace(day=1), -9).isoformat()
    eligible = [
        row[0]
        for row in sorted(paid, key=lambda p: p[1])
        if row[6] == "active" and row[5] and row[5] <= old_enough and row[4] >= 10000
    ]
    picks = [(role, eligible[i]) for i, role in enumerate(_ROLES) if i < len(eligible)]
    picks += [
        (_ROLES[i % len(_ROLES)], e) for i, e in enumerate(eligible[len(_ROLES) :]) if i % 9 == 0
    ]
    for role, eid in picks:
        done[role] += _demo_role(store, role, eid, today)
    applied = store.conn.execute(
        "SELECT id FROM enrolments WHERE state = 'applied' AND status = 'active' ORDER BY uid"
    ).fetchall()
    # 不予受理 for two, once there are enough open applications left for the 申请 queue
    for (eid,) in applied[:2] if len(applied) > 6 else []:
        st.not_accept(store, eid, "户籍不在本辖区", today)
        done["not_accepted"] += 1
    done["head_change"] = _demo_head_death(store, today)
    return done


def _demo_parts(store: Store, paid: list) -> dict[str, int]:
    """分类施保金 for about a third of the 低保 households, 照料护理费 for 特困 by class: part
    rows from the first month paid, the enrolment's total raised by the extra part."""
    ts, who = now_iso(), "demo"
    rows: list[tuple] = []
    done = {"classified": 0, "care": 0}
    for eid, uid, cat, cls, fen, _start, _state, hid in paid:
        r = random.Random(uid + "parts")
        if cat in ("urban_dibao", "rural_dibao") and r.random() < 0.35:
            part, level, extra = "classified", "household", r.choice((5000, 8000, 12000))
            reason_class = r.choice(("重残", "重病", "老年", "未成年"))
        elif cat == "tekun" and _care_fen(cls):
            part, level, extra, reason_class = "care", "", _care_fen(cls), ""
        else:
            continue
        rows.append((new_uid(), hid, eid, "base", "", "", "gap", fen, ts, ts, who, who))
        rows.append((new_uid(), hid, eid, part, level, reason_class, "", extra, ts, ts, who, who))
        store.conn.execute(
            "UPDATE enrolments SET monthly_fen = monthly_fen + ? WHERE id = ?", (extra, eid)
        )
        done[part] += 1
    store.conn.executemany(
        "INSERT INTO enrolment_components (uid, household_id, enrolment_id, component, level, "
        "reason_class, mode, fen, created_at, updated_at, created_by, updated_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return done


def _demo_role(store: Store, role: str, eid: int, today: dt.date) -> int:
    """Walk one paid enrolment through ``role`` (see :data:`_ROLES`); 1 if done."""
    from . import components as comp
    from . import enrolment_states as st

    this = comp.month_key(today)

    def month(k: int) -> str:
        return comp.month_key(add_months(today.replace(day=1), k))

    parts = comp.in_force(store, eid)
    if role == "increase":
        parts["base"] += 5000
        comp.set_components(store, eid, parts, this, "家庭成员患重病，支出增加")
    elif role == "decrease" and parts["base"] >= 5000:
        parts["base"] -= 5000
        comp.set_components(store, eid, parts, this, "家庭收入增加")
    elif role == "suspended":
        st.suspend(store, eid, month(-1), "长期外出，待核实", today)
    elif role == "resumed":
        st.suspend(store, eid, month(-3), "银行卡冻结", today)
        st.resume(store, eid, this, "已核实，恢复发放", today=today)
    elif role == "phase_out":
        st.phase_out(store, eid, this, "务工收入增加", today=today)
    elif role == "phase_out_due":
        st.phase_out(store, eid, month(-8), "务工收入增加", months=6, today=today)
    else:
        return 0
    return 1


def _demo_head_death(store: Store, today: dt.date) -> int:
    """One household whose head died: the spouse becomes head, its 低保 continues."""
    from . import enrolment_states as st

    row = store.conn.execute(
        "SELECT e.household_id, m.id FROM enrolments e JOIN members m ON m.household_id = "
        "e.household_id AND m.relation = '配偶' AND m.status = 'active' AND m.deceased_on IS NULL "
        "JOIN members hm ON hm.household_id = e.household_id AND hm.relation = '户主' "
        "AND hm.deceased_on IS NULL WHERE e.state = 'active' AND e.member_id IS NULL "
        "AND e.status = 'active' AND m.birth_date <= ? ORDER BY e.uid LIMIT 1",
        ((today - dt.timedelta(days=365 * 20)).isoformat(),),
    ).fetchone()
    if row is None:
        return 0
    died = today - dt.timedelta(days=10)
    st.change_head(store, row[0], row[1], "户主死亡", "配偶", head_died_on=died)
    return 1
