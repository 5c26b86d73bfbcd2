"""Objections (异议) to a notice row, worked through: record → investigate → resolve.

An objection is recorded on a notice row (:func:`mzdesk.models.notice.add_objection`);
the investigation's finding (调查核实情况) can be written while it stays open
(:func:`record_finding`); resolving it (:func:`resolve_objection`) says whether it was
upheld (异议成立) or dismissed (异议不成立) and closes it.  An upheld objection can end
the application through the enrolment service (不予确认, with the finding as the written
reason); a dismissed one leaves the enrolment to go on to 报送审核.

>>> OUTCOMES["upheld"], OUTCOMES["dismissed"]
('异议成立', '异议不成立')
"""

from __future__ import annotations

from . import enrolment as enr
from .auth import require
from .errors import FieldError, MzError, NotFound
from .notice import close_objection
from .store import Store, now_iso
from .text import field_text

OUTCOMES = {"upheld": "异议成立", "dismissed": "异议不成立"}
# what an upheld objection does to the enrolment on the notice row
EFFECTS = {"none": "保障记录不变（已在其他环节更正）", "reject": "不予确认（终止本次申请）"}


def get_objection(store: Store, objection_id: int) -> dict:
    row = store.one(
        "SELECT id, notice_id, enrolment_id, raised_by, raised_on, content, follow_up, outcome, "
        "state FROM objections WHERE id = ?",
        (objection_id,),
    )
    if row is None:
        raise NotFound(f"没有编号为 {objection_id} 的异议")
    return row


def record_finding(store: Store, objection_id: int, finding: str) -> dict:
    """The investigation's finding (调查核实情况) on an open objection; it stays open."""
    require(store, "enrolment.edit")
    finding = field_text(finding, "reason", "核实情况", "follow_up")
    if not finding:
        raise FieldError("follow_up", "objection_incomplete", "请填写核实情况")
    with store.transaction():
        if get_objection(store, objection_id)["state"] == "closed":
            raise MzError("该异议已处理完毕", "objection_closed")
        store.conn.execute(
            "UPDATE objections SET follow_up = ?, updated_at = ?, updated_by = ? WHERE id = ?",
            (finding, now_iso(), store.operator, objection_id),
        )
        return get_objection(store, objection_id)


def resolve_objection(
    store: Store,
    objection_id: int,
    outcome: str,
    finding: str,
    note: str = "",
    effect: str = "none",
) -> dict:
    """Close an objection as upheld or dismissed (one transaction).

    ``outcome``: ``upheld`` or ``dismissed``; ``finding``: what the investigation found;
    ``effect`` of an upheld objection: ``none`` or ``reject`` (不予确认 through
    :func:`mzdesk.models.enrolment.reject`, which checks its own permission).
    """
    require(store, "enrolment.edit")
    if outcome not in OUTCOMES:
        raise FieldError("outcome", "bad_outcome", "请选择异议成立或异议不成立")
    if effect not in EFFECTS or (outcome == "dismissed" and effect != "none"):
        raise FieldError("effect", "bad_effect", "异议不成立时保障记录不变")
    finding = field_text(finding, "reason", "核实情况", "follow_up")
    if not finding:
        raise FieldError("follow_up", "objection_incomplete", "请填写核实情况")
    note = field_text(note, "reason", "处理意见", "note")
    text = OUTCOMES[outcome] + (f"：{note}" if note else "")
    if effect == "reject":
        text += "；不予确认"
    with store.transaction():
        row = get_objection(store, objection_id)
        close_objection(store, objection_id, finding, text)
        if effect == "reject":
            enr.reject(store, row["enrolment_id"], f"公示异议成立：{finding}")
        return get_objection(store, objection_id)


def notice_rows(store: Store, notice_id: int) -> list[dict]:
    """The rows of a notice with their objections (open count, total), in notice order."""
    return list(
        store.db.query(
            "SELECT i.seq, i.enrolment_id, i.village, i.village_group, i.name, i.category_label, "
            "i.monthly_fen, i.action, e.state, "
            "(SELECT count(*) FROM objections o WHERE o.notice_id = i.notice_id "
            " AND o.enrolment_id = i.enrolment_id) AS objections, "
            "(SELECT count(*) FROM objections o WHERE o.notice_id = i.notice_id "
            " AND o.enrolment_id = i.enrolment_id AND o.state = 'open') AS open_objections "
            "FROM notice_items i LEFT JOIN enrolments e ON e.id = i.enrolment_id "
            "WHERE i.notice_id = ? ORDER BY i.seq",
            (notice_id,),
        )
    )
