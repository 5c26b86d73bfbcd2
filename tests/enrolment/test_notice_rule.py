"""The rule of what may go on a notice (待公示) is written once, and both its forms agree.

``notice_rules.ready_for_notice`` answers for one record; the 待公示 work queue runs
``notice_rules.notice_ready_sql``.  Every combination of the county's 民主评议 setting, the
clerk's 需民主评议 tick, state, home visit, category and
pending change is tried on one real enrolment row: the record is ready exactly when the
queue lists it.
"""

from __future__ import annotations

import itertools

from mzdesk.models import enrolment as enr
from mzdesk.models import notice_rules
from mzdesk.models.categories import lifecycle_settings
from mzdesk.models.work_queues import queue
from tests.reviews.conftest import county_sets

STATES = enr.LIVE_STATES + enr.END_STATES
VISITS = (None, "", "2026-11-10")
PENDING = ("", "change", "stop")
# a category with democratic review (低保) and one without (临时救助)
CATEGORIES = ("rural_dibao", "temporary")


def test_categories_cover_both_sides_of_the_rule():
    deliberation = lifecycle_settings()["deliberation"]
    assert [c in deliberation for c in CATEGORIES] == [True, False]


def _flag(store, e, needed):
    """Tick 需民主评议 whatever the record's state (the rule reads the latest flag event)."""
    with store.transaction():
        enr.record_event(store, e, notice_rules.FLAG_ACTION, "", {"needed": needed}, None)


def test_ready_for_notice_and_the_notice_queue_agree(store, family):
    e = enr.create(store, family.id, "rural_dibao", cls="二类", monthly_fen=76000)
    seen = {True: 0, False: 0}
    for mode, flag in itertools.product(notice_rules.DELIBERATION_MODES, (False, True)):
        county_sets(store, mode)
        _flag(store, e, flag)
        for state, visit, category, pending in itertools.product(
            STATES, VISITS, CATEGORIES, PENDING
        ):
            with store.transaction():
                store.conn.execute(
                    "UPDATE enrolments SET state = ?, investigated_on = ?, category = ?, "
                    "notice_pending = ? WHERE id = ?",
                    (state, visit, category, pending, e.id),
                )
            ready = notice_rules.ready_for_notice(store, enr.get(store, e.id)) is None
            listed = [r["id"] for r in queue(store, "notice")] == [e.id]
            assert ready == listed, (mode, flag, state, visit, category, pending)
            seen[ready] += 1
    assert seen[True] and seen[False]  # both answers happen


def test_the_rule_lists_the_cases_a_clerk_knows(store, family):
    """Spot checks in words: investigated 临时救助 is ready; investigated 低保 waits for its
    评议; an active record waits only when it has a change or a stop to publicise."""
    e = enr.create(store, family.id, "temporary", monthly_fen=50000)

    def ready(**cols) -> str | None:
        sets = ", ".join(f"{k} = :{k}" for k in cols)
        with store.transaction():
            store.conn.execute(f"UPDATE enrolments SET {sets} WHERE id = :id", {**cols, "id": e.id})
        return notice_rules.ready_for_notice(store, enr.get(store, e.id))

    assert ready(state="investigating", investigated_on="2026-11-10") is None
    assert ready(state="investigating", category="rural_dibao") is None  # 视情, not flagged
    _flag(store, e, True)
    assert ready(state="investigating") == "尚未进行民主评议"
    assert ready(state="reviewed") is None
    assert ready(state="investigating", investigated_on=None) == "尚未登记入户调查结果"
    assert ready(state="active", notice_pending="").startswith("当前状态为“在保”")
    assert ready(state="active", notice_pending="change") is None
