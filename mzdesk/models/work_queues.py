"""Work queues (工作队列): the enrolments waiting for the township's next step.

待调查, 待公示, 公示中, 待审核, 在保, 复核到期, 年度核查待复核 and 待生存认证, each a list of rows with the
household and person names, for the work-queue page, the county review and
``mzdesk enrol list --queue``.  The 待公示 queue reads the notice rule from
:func:`mzdesk.models.notice_rules.notice_ready_sql`, the one place it is written.
"""

from __future__ import annotations

import datetime as dt

from . import dates
from .categories import categories, state_label
from .clocks import due_items
from .enrolment import day_or_today
from .enrolment_states import PHASE_OUT_DUE_SQL
from .errors import MzError
from .notice_rules import notice_ready_sql
from .reviews import round_pending_sql
from .store import Store
from .survival import TODAY_PERIOD_SQL
from .survival import due_sql as survival_due_sql

QUEUES = {
    "investigate": "待调查",
    "notice": "待公示",
    "publicised": "公示中",
    "submitted": "待审核",
    "active": "在保",
    "review_due": "复核到期",
    "phase_out_due": "渐退期满待停发",
    # issue 22 (models/reviews.py, models/survival.py)
    "round_pending": "年度核查待复核",
    "survival_due": "待生存认证",
}


def _where(name: str) -> str | None:
    return {
        "investigate": "e.state IN ('applied', 'investigating') AND e.investigated_on IS NULL",
        "notice": notice_ready_sql("e"),
        "publicised": "e.state = 'publicised'",
        "submitted": "e.state = 'submitted'",
        "active": "e.state = 'active'",
        "review_due": "e.state = 'active' AND e.review_due IS NOT NULL AND e.review_due <= :due",
        "phase_out_due": PHASE_OUT_DUE_SQL,
        "round_pending": round_pending_sql("e"),
        "survival_due": survival_due_sql("e", TODAY_PERIOD_SQL),
    }.get(name)


def queue(
    store: Store,
    name: str,
    today: dt.date | None = None,
    within_days: int = 30,
    limit: int = 5000,
) -> list[dict]:
    """Rows for a work queue (see :data:`QUEUES`), with household and person names."""
    today = day_or_today(today)
    where = _where(name)
    if where is None:
        raise MzError(f"未知的工作队列: {name}", "unknown_queue")
    # a stop still to be publicised stays in the notice queue after its household is 注销
    # (moved away, died): the notice tells the village why the payment ended
    household = (
        "(h.status = 'active' OR (e.state = 'stopped' AND e.notice_pending != ''))"
        if name == "notice"
        else "h.status = 'active'"
    )
    rows = store.db.query(
        f"""SELECT e.id, e.household_id, e.category, e.class AS cls, e.state, e.covered,
               e.monthly_fen, e.applied_on, e.start_on, e.review_due, e.notice_pending,
               e.investigated_on, h.village, h.village_group, h.head_name,
               coalesce(m.name, h.head_name) AS name
           FROM enrolments e JOIN households h ON h.id = e.household_id
           LEFT JOIN members m ON m.id = e.member_id
           WHERE e.status = 'active' AND {household} AND {where}
           ORDER BY h.village, h.village_group, h.head_py, e.id LIMIT :limit""",
        {
            "due": (today + dt.timedelta(days=within_days)).isoformat(),
            "today": today.isoformat(),
            "limit": limit,
        },
    )
    cats = categories(store)
    out = []
    for r in rows:
        r["category_name"] = cats.get(r["category"], {}).get("name", r["category"])
        r["state_name"] = state_label(r["state"])
        out.append(r)
    return out


# -- deadlines (办理时限, models/clocks.py) ----------------------------------------------------
DEADLINE_FILTERS = {"overdue": "已超期", "due": "即将到期", "all": "全部在办"}


def deadlines(store: Store, today: dt.date | None = None, show: str = "all") -> list[dict]:
    """The 办理时限 queue: every running clock (``all``), or only the ``overdue`` ones, or
    those ``due`` (overdue or within the warning days), most urgent first."""
    if show not in DEADLINE_FILTERS:
        raise MzError(f"未知的筛选：{show}（可选：{'、'.join(DEADLINE_FILTERS)}）", "unknown_queue")
    day = dates.check_date("deadline_day", today) if today else day_or_today(None)
    rows = due_items(store, day)
    if show == "overdue":
        return [r for r in rows if r["status"] == "overdue"]
    if show == "due":
        return [r for r in rows if r["status"] != "running"]
    return rows
