"""提标: a new standard from a month, and every active enrolment recomputed on it.

:func:`preview` says what a new standard would do, household by household (before,
after, the change) with totals; :func:`confirm` records the standard and the new
amounts in one transaction.  Each new amount is written by :func:`apply_uprating` as an
amount change (增发, or 减发 if a standard falls) effective from the standard's month,
so the 清册 of that month and after pay it, and earlier months keep the old terms.

How the new amount is computed (``resources/standards.json``, ``mode``):

* ``topup`` (补差, 低保): the household's income is taken as unchanged, so its 补差 rises
  by the rise of the standard for each covered person:
  new = old + (new_year − old_year) × covered ÷ 12, rounded once as the income rules say
  (:mod:`mzdesk.models.income`; default whole yuan, half up), never below 0;
* ``fixed`` (特困 基本生活费): new = new_year × covered ÷ 12, rounded the same way.

A standard from a month already paid (on the day of confirming, every month before the
current one: :mod:`mzdesk.models.recovery`) owes the difference for those months: each
household gets a 补发 record due on the current month.

An enrolment that started after the standard's month, or whose last confirmation or
review is dated after it, is listed as 待人工复核 and not changed: its amount was
decided later and a person should look at it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from . import dates, enrolment, income, recovery, standards
from .categories import lifecycle_settings
from .errors import MzError
from .money import format_fen
from .payment_dates import add_months, payment_start
from .store import Store


class UpratingError(MzError):
    code = "bad_uprating"


@dataclass(frozen=True)
class Row:
    enrolment_id: int
    household_id: int
    village: str
    name: str
    covered: int
    before_fen: int
    after_fen: int
    backpay_months: int
    blocked: str = ""

    @property
    def delta_fen(self) -> int:
        return self.after_fen - self.before_fen

    def as_dict(self) -> dict:
        return {**asdict(self), "delta_fen": self.delta_fen}


def decision_day(month: dt.date) -> dt.date:
    """The day a change must be dated for :func:`payment_start` to give ``month``."""
    if lifecycle_settings().get("payment_starts") == "same_month":
        return month
    return month - dt.timedelta(days=1)


def new_amount(
    before_fen: int, old_year: int | None, new_year: int, covered: int, mode: str
) -> int:
    """The recomputed monthly amount in fen (see the module's docstring).

    >>> new_amount(27800, 315000, 431000, 3, "topup")     # +116000 × 3 ÷ 12 = +29000
    56800
    >>> new_amount(0, None, 560400, 1, "fixed")           # 5604 元/年 → 467 元/月
    46700
    """
    rnd = income.rules().get("rounding", {})
    step, how = int(rnd.get("round_fen", 1)), rnd.get("mode", "half_up")
    if mode == "fixed":
        return income.round_fen(new_year * covered, 12, step, how)
    if old_year is None:
        raise UpratingError("提标月份之前没有保障标准，无法按差额重算补差", "no_standard")
    delta = new_year - old_year
    change = income.round_fen(abs(delta) * covered, 12, step, how)
    return max(0, before_fen + change if delta >= 0 else before_fen - change)


def _decisions(store: Store, enrolment_id: int, start_on: str | None) -> tuple[str, set[str]]:
    """(the latest date a change may not precede, as enrolment.review's own rule: the
    confirmation, or for an enrolment imported as in payment its start, and reviews;
    the months it was already uprated from)."""
    last, confirmed, uprated = "", False, set()
    for ev in enrolment.history(store, enrolment_id):
        d = ev["detail"]
        day = d.get("on") if ev["action"] == "review" else None
        if ev["action"] == "confirm" and d.get("confirmed_on"):
            day, confirmed = d["confirmed_on"], True
        if ev["action"] == "review" and isinstance(d.get("uprating"), dict):
            uprated.add(str(d["uprating"].get("from")))
        last = max(last, day or "")
    return (last if confirmed else max(last, start_on or "")), uprated


def preview(
    store: Store,
    category: str,
    area_type: str,
    month: str | dt.date,
    amount_fen: int,
    period: str = "month",
    today: dt.date | None = None,
) -> dict:
    """What the standard would change: ``rows`` per enrolment and ``totals``."""
    standards.check_pair(store, category, area_type)
    first = standards.not_after(standards.parse_month(month), 1, "提标月份")
    today = today or dates.current_day()
    if amount_fen <= 0 or period not in standards.PERIODS:
        raise UpratingError("新标准应大于0，周期为 month 或 year", "bad_amount")
    new_year = amount_fen * 12 if period == "month" else amount_fen
    old = standards.in_effect(store, category, area_type, add_months(first, -1))
    mode = standards.settings()[category]["mode"]
    paid = _month_list(first, recovery.last_paid_month(today))
    rows = []
    for r in store.db.query(
        "SELECT e.id, e.household_id, e.covered, e.monthly_fen, e.start_on, h.village, "
        "h.area_type, COALESCE(m.name, h.head_name, '') AS name FROM enrolments e "
        "JOIN households h ON h.id = e.household_id LEFT JOIN members m ON m.id = e.member_id "
        "WHERE e.status = 'active' AND e.state = 'active' AND e.category = ? "
        "ORDER BY h.village, h.id, e.id",
        (category,),
    ):
        if len(standards.settings()[category]["areas"]) > 1 and r["area_type"] != area_type:
            continue
        blocked = ""
        last, uprated = _decisions(store, r["id"], r["start_on"])
        if f"{first:%Y-%m}" in uprated:
            blocked = f"已按{first:%Y-%m}起的标准提标，不再重复计算"
        elif r["start_on"] and r["start_on"] > first.isoformat():
            blocked = f"{r['start_on'][:7]}起享受，晚于提标月份，待人工复核"
        elif last > decision_day(first).isoformat():
            blocked = "最近一次确认或复核晚于提标月份，待人工复核"
        after = (
            r["monthly_fen"]
            if blocked
            else new_amount(
                r["monthly_fen"], old.annual_fen if old else None, new_year, r["covered"], mode
            )
        )
        rows.append(
            Row(
                r["id"],
                r["household_id"],
                r["village"],
                r["name"],
                r["covered"],
                r["monthly_fen"],
                after,
                0 if blocked else len(paid),
                blocked,
            )
        )  # one row per enrolment
    done = [x for x in rows if not x.blocked]
    totals = {
        "enrolments": len(done),
        "persons": sum(x.covered for x in done),
        "before_fen": sum(x.before_fen for x in done),
        "after_fen": sum(x.after_fen for x in done),
        "delta_fen": sum(x.delta_fen for x in done),
        "backpay_fen": sum(max(0, x.delta_fen) * x.backpay_months for x in done),
        "blocked": len(rows) - len(done),
    }
    label = f"{format_fen(amount_fen)} {standards.PERIODS[period]}（{first:%Y-%m}起）"
    return {
        "category": category,
        "area_type": area_type,
        "from": f"{first:%Y-%m}",
        "standard": label,
        "old_standard": old.label() if old else "",
        "mode": mode,
        "backpay_months": [f"{m:%Y-%m}" for m in paid],
        "rows": [x.as_dict() for x in rows],
        "totals": totals,
    }


def _month_list(first: dt.date, last: dt.date) -> list[dt.date]:
    out = []
    while first <= last:
        out.append(first)
        first = add_months(first, 1)
    return out


def apply_uprating(
    store: Store, enrolment_id: int, new_fen: int, month: dt.date, standard: str
) -> enrolment.Enrolment:
    """Write one enrolment's new amount from ``month`` (the one place 提标 writes money:
    to move onto the components service, change this function only).  Recorded as a
    review's amount change with ``uprating`` in its detail: 增发 (or 减发), the month,
    the standard; the review date is not moved and the change waits for a notice."""
    e = enrolment.get(store, enrolment_id)
    kind = "增发" if new_fen >= e.monthly_fen else "减发"
    extra = {"uprating": {"kind": kind, "from": f"{month:%Y-%m}", "standard": standard}}
    return enrolment.review(
        store,
        enrolment_id,
        "change",
        decision_day(month),
        f"提标{kind}：{standard}",
        monthly_fen=new_fen,
        extra=extra,
    )


def confirm(
    store: Store,
    category: str,
    area_type: str,
    month: str | dt.date,
    amount_fen: int,
    period: str = "month",
    today: dt.date | None = None,
) -> dict:
    """Record the standard, every new amount and the 补发 owed, in one transaction;
    returns what :func:`preview` showed, with ``confirmed``."""
    from .auth import require

    require(store, "enrolment.confirm")  # a standard is the county's decision
    require(store, "enrolment.edit")  # and the amounts change
    today = today or dates.current_day()
    plan = preview(store, category, area_type, month, amount_fen, period, today)
    first = standards.parse_month(month)
    with store.transaction():
        standards.set_standard(store, category, area_type, first, amount_fen, period, "提标")
        for row in plan["rows"]:
            if row["blocked"] or row["delta_fen"] == 0:
                continue
            apply_uprating(store, row["enrolment_id"], row["after_fen"], first, plan["standard"])
            if row["delta_fen"] > 0 and row["backpay_months"]:
                recovery.record_backpay(
                    store,
                    row["enrolment_id"],
                    plan["backpay_months"],
                    row["delta_fen"] * row["backpay_months"],
                    f"提标补发：{plan['standard']}",
                    today,
                )
    return {**plan, "confirmed": True, "effective": f"{payment_start(decision_day(first)):%Y-%m}"}
