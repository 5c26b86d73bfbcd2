"""Demo data for the working-day clocks (models/clocks.py) and the letters (letters.py).

The demo's applications are dated so that some are overdue (作出审核确认决定 past its 30
working days) whatever day it is generated; this adds what the clerk would record: one
application extended (延期, 45 working days) and the 告知书 of the first refusal given,
so the 办理时限 tab and ``mzdesk check`` show each case.  Written through the services.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import clocks, dates, letters
from .auth import allowed
from .store import Store


def dress_demo_clocks(store: Store, household_ids: Sequence[int]) -> None:
    """Extend the oldest open application and give the first refusal its letter, among
    the enrolments of ``household_ids`` (a role that may not decide records neither)."""
    if not household_ids or not allowed(store, "enrolment.confirm"):
        return
    marks = ", ".join("?" * len(household_ids))
    states = ", ".join(repr(s) for s in clocks.DECISION_STATES)
    open_one = store.scalar(
        f"SELECT id FROM enrolments WHERE status = 'active' AND household_id IN ({marks}) "
        f"AND state IN ({states}) AND applied_on > '' ORDER BY applied_on, id LIMIT 1",
        tuple(household_ids),
    )
    if open_one is not None:
        clocks.extend(store, open_one, "需核对申请人在外地的房产和车辆信息（演示）")
    refused = store.one(
        f"SELECT id, state FROM enrolments WHERE status = 'active' AND household_id IN ({marks}) "
        "AND state IN ('rejected', 'not_accepted') AND end_on > '' ORDER BY id LIMIT 1",
        tuple(household_ids),
    )
    if refused is not None:
        kind = "reject" if refused["state"] == "rejected" else "not_accept"
        letters.record_letter(store, refused["id"], kind, dates.current_day())
