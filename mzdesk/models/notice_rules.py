"""What may go on a notice (待公示): the readiness rule of an enrolment, written once.

:func:`ready_for_notice` answers for one record (and says why not, "尚不能公示：…");
:func:`notice_ready_sql` is the same rule for the 待公示 queue.
``tests/enrolment/test_notice_rule.py`` checks that the two agree on every case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .categories import lifecycle_settings, state_label
from .store import Store

if TYPE_CHECKING:
    from .enrolment import Enrolment

NEW_NOTICE_STATES = ("investigating", "reviewed")  # a new enrolment, once investigated
PENDING_NOTICE_STATES = ("active", "stopped")  # a change or a stop still to publicise


def needs_deliberation(category: str) -> bool:
    """Whether a category goes through democratic review (民主评议) before its notice."""
    return category in lifecycle_settings()["deliberation"]


def ready_for_notice(store: Store, e: Enrolment) -> str | None:
    """Why ``e`` cannot go on a notice yet, or None when it can."""
    if e.notice_pending and e.state in PENDING_NOTICE_STATES:
        return None
    if e.state not in NEW_NOTICE_STATES:
        return f"当前状态为“{state_label(e.state)}”，不需要公示"
    if not e.investigated_on:
        return "尚未登记入户调查结果"
    if needs_deliberation(e.category) and e.state != "reviewed":
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
    return (
        f"(({a}.state IN ({listed(NEW_NOTICE_STATES)}) AND {a}.investigated_on > '' "
        f"AND ({a}.state = 'reviewed' OR {a}.category NOT IN ({deliberation}))) "
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
