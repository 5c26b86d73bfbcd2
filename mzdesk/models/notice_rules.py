"""What may go on a notice (待公示): the readiness rule of an enrolment, written once.

民主评议 is a county setting (:func:`deliberation_mode`: on / off / 视情, default 视情
since the 2021 rules): under 视情 a record needs it only when the clerk ticked 需民主评议
(:func:`mzdesk.models.enrolment.flag_deliberation`, usually at the home visit).  Income
near the line is not flagged automatically: the clerk decides, as the rules say.

:func:`ready_for_notice` answers for one record (and says why not, "尚不能公示：…");
:func:`notice_ready_sql` is the same rule for the 待公示 queue.
``tests/enrolment/test_notice_rule.py`` checks that the two agree on every case.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from .auth import require
from .categories import lifecycle_settings, state_label
from .errors import MzError
from .site import require_site
from .store import Store
from .text import field_text

if TYPE_CHECKING:
    from .enrolment import Enrolment

NEW_NOTICE_STATES = ("investigating", "reviewed")  # a new enrolment, once investigated
PENDING_NOTICE_STATES = ("active", "stopped")  # a change or a stop still to publicise


def needs_deliberation(category: str) -> bool:
    """Whether a category may go through democratic review (民主评议) at all (the
    ``lifecycle.deliberation`` list of categories.json); whether a record must is
    :func:`deliberation_required`."""
    return category in lifecycle_settings()["deliberation"]


# -- 民主评议: a county setting, on / off / 视情 (case) -----------------------------------------
DELIBERATION_MODES = {"on": "一律评议", "off": "不评议", "case": "视情评议"}
DEFAULT_DELIBERATION = "case"  # optional ("视情") since the 2021 rules
DELIBERATION_UID = "setting-deliberation"  # one record per setting, whichever site writes it
FLAG_ACTION = "deliberation_flag"  # the event that ticks or unticks 需民主评议 on a record


def deliberation_mode(store: Store) -> str:
    """The county's 民主评议 setting: ``on``, ``off`` or ``case`` (the default)."""
    value = store.scalar(
        "SELECT value FROM site_settings WHERE uid = ? AND status = 'active'", (DELIBERATION_UID,)
    )
    return value if value in DELIBERATION_MODES else DEFAULT_DELIBERATION


def set_deliberation_mode(store: Store, mode: str, note: str = "") -> str:
    """Set the 民主评议 mode (a county decision: ``enrolment.confirm`` at a county site);
    the setting travels to the townships in the county's next batch."""
    if require_site(store).role != "county":
        raise MzError(
            "民主评议设置由县民政局设定，随数据交换下发到乡镇；乡镇不能修改", "county_only"
        )
    if mode not in DELIBERATION_MODES:
        choices = "、".join(f"{k}（{v}）" for k, v in DELIBERATION_MODES.items())
        raise MzError(f"民主评议设置应为 {choices} 之一，而不是“{mode}”", "bad_mode")
    require(store, "enrolment.confirm")
    note = field_text(note, "reason", "说明", "note")
    with store.transaction():
        row = store.one("SELECT id FROM site_settings WHERE uid = ?", (DELIBERATION_UID,))
        if row is None:
            store.conn.execute(
                "INSERT INTO site_settings (uid, key, value, note, created_at, updated_at, "
                "created_by, updated_by) VALUES (:uid, 'deliberation', :value, :note, "
                ":created_at, :updated_at, :created_by, :updated_by)",
                {"uid": DELIBERATION_UID, "value": mode, "note": note, **store.stamp(new=True)},
            )
        else:
            store.conn.execute(
                "UPDATE site_settings SET value = :value, note = :note, status = 'active', "
                "rev = rev + 1, updated_at = :updated_at, updated_by = :updated_by "
                "WHERE id = :id",
                {"value": mode, "note": note, "id": row["id"], **store.stamp(new=False)},
            )
    return mode


def deliberation_flagged(store: Store, enrolment_id: int) -> bool:
    """Whether the clerk ticked 需民主评议 on this record (the latest flag event wins)."""
    detail = store.scalar(
        f"SELECT detail FROM enrolment_events WHERE enrolment_id = ? AND action = '{FLAG_ACTION}' "
        "ORDER BY id DESC LIMIT 1",
        (enrolment_id,),
    )
    return bool(detail and json.loads(detail).get("needed"))


def flag_deliberation(store: Store, enrolment_id: int, needed: bool, reason: str = "") -> Enrolment:
    """Tick or untick 需民主评议 on a new record (an event; the state does not change):
    under the 视情 setting only a ticked record must pass a 民主评议 before its notice."""
    from . import enrolment as enr  # enrolment reads this module

    require(store, "enrolment.edit")
    with store.transaction():
        e = enr.get(store, enrolment_id)
        if e.state not in ("applied", "investigating"):
            raise enr.TransitionRefused(
                f"“{state_label(e.state)}”状态的记录不能再标记是否需要民主评议",
                "illegal_transition",
            )
        if needed and not needs_deliberation(e.category):
            raise enr.TransitionRefused(
                f"“{enr.describe(store, e)}”不需要民主评议", "no_deliberation"
            )
        enr.record_event(store, e, FLAG_ACTION, reason, {"needed": bool(needed)}, None)
        return e


def deliberation_required(store: Store, e: Enrolment) -> bool:
    """Whether ``e`` must pass a 民主评议 before its notice: never for a category without
    one; for the others by the county's mode: ``on`` always, ``off`` never, ``case``
    (视情) only when the clerk flagged the record (需民主评议, e.g. at the home visit)."""
    if not needs_deliberation(e.category):
        return False
    mode = deliberation_mode(store)
    return mode == "on" or (mode == "case" and deliberation_flagged(store, e.id))


def ready_for_notice(store: Store, e: Enrolment) -> str | None:
    """Why ``e`` cannot go on a notice yet, or None when it can."""
    if e.notice_pending and e.state in PENDING_NOTICE_STATES:
        return None
    if e.state not in NEW_NOTICE_STATES:
        return f"当前状态为“{state_label(e.state)}”，不需要公示"
    if not e.investigated_on:
        return "尚未登记入户调查结果"
    if e.state != "reviewed" and deliberation_required(store, e):
        return "尚未进行民主评议"
    return None


def notice_ready_sql(alias: str = "e") -> str:
    """:func:`ready_for_notice` as a condition on the enrolments table aliased ``alias``.

    >>> "e.state IN ('active', 'stopped')" in notice_ready_sql("e")
    True
    """

    def listed(values) -> str:
        return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)

    a = alias
    deliberation = listed(lifecycle_settings()["deliberation"])
    mode = (
        f"coalesce((SELECT value FROM site_settings WHERE uid = '{DELIBERATION_UID}' "
        f"AND status = 'active' AND value IN ({listed(DELIBERATION_MODES)})), "
        f"'{DEFAULT_DELIBERATION}')"
    )
    flagged = (
        f"coalesce((SELECT json_extract(ev.detail, '$.needed') FROM enrolment_events ev "
        f"WHERE ev.enrolment_id = {a}.id AND ev.action = '{FLAG_ACTION}' "
        f"ORDER BY ev.id DESC LIMIT 1), 0)"
    )
    required = (
        f"({a}.category IN ({deliberation}) AND ({mode} = 'on' OR ({mode} = 'case' AND {flagged})))"
    )
    return (
        f"(({a}.state IN ({listed(NEW_NOTICE_STATES)}) AND {a}.investigated_on > '' "
        f"AND ({a}.state = 'reviewed' OR NOT {required})) "
        f"OR ({a}.state IN ({listed(PENDING_NOTICE_STATES)}) AND {a}.notice_pending != ''))"
    )


def notice_status(store: Store, enrolment_id: int) -> tuple[dict | None, int]:
    """(the latest notice this enrolment was on as 'new', open objections on it)."""
    notice = store.one(
        "SELECT n.id, n.start_on, n.end_on FROM notices n JOIN notice_items i ON i.notice_id = n.id "
        "WHERE i.enrolment_id = ? AND i.action = 'new' ORDER BY n.id DESC LIMIT 1",
        (enrolment_id,),
    )
    open_objections = store.scalar(
        "SELECT count(*) FROM objections WHERE enrolment_id = ? AND state = 'open'", (enrolment_id,)
    )
    return notice, open_objections or 0


def require_notice_done(store: Store, e: Enrolment, today: dt.date, what: str) -> dict:
    """The notice ``e`` was on as new, once its period is over with no open objection;
    else ``TransitionRefused`` saying why ``what`` (报送审核, 审核确认) must wait."""
    from .enrolment import TransitionRefused  # enrolment reads this module

    notice, open_objections = notice_status(store, e.id)
    if notice is None:
        raise TransitionRefused(f"不能{what}：该记录没有公示记录", "not_publicised")
    end = dt.date.fromisoformat(notice["end_on"])
    if today <= end:
        raise TransitionRefused(
            f"不能{what}：公示期{notice['start_on']}至{notice['end_on']}尚未结束"
            f"（公示期满后，即{end + dt.timedelta(days=1)}起才能{what}）",
            "notice_not_ended",
        )
    if open_objections:
        raise TransitionRefused(
            f"不能{what}：有{open_objections}条异议尚未处理完毕", "open_objection"
        )
    return notice
