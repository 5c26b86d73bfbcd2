"""The one rule of who is paid in a month (:func:`paid_enrolments`).

An enrolment that is 在保, 停发, 渐退期 or 暂停, not deleted, of a monthly category, whose
payment started on or before the month's last day, did not end before its first day, and
whose month is not inside a period it is not paid (暂停, after a 渐退期).  The 补贴清册
(``roster.exporter``), the monthly statistics (``roster.monthly``) and the one-off payment
runs (:mod:`mzdesk.models.payment_runs`) all use it, so they always agree.  It lives in
``models`` so that a service there can use it; ``roster.monthly`` re-exports it.
"""

from __future__ import annotations

import calendar
import datetime as dt

from .categories import categories
from .components import (
    category_components,
    month_key,
    review_changes,
    rows_by_enrolment,
    split,
    terms_in_month,
)
from .enrolment_states import unpaid_periods
from .store import Store

# the note a roster import leaves on a household whose account Excel truncated (待核实)
ACCOUNT_PENDING = "银行账号待核实"


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


def monthly_categories(store: Store) -> list[str]:
    """Codes of the categories paid monthly: the shipped ones and the township's own
    (:func:`mzdesk.models.categories.categories`), in that order."""
    return [c for c, spec in categories(store).items() if spec.get("payment") == "monthly"]


def paid_enrolments(store: Store, month: dt.date, category: str | None = None) -> list[dict]:
    """Enrolments paid for ``month``, with the household and recipient for a 清册.

    Ordered by category, village, group, household.  ``recipient`` is the
    person the payment is for: the member for person-unit categories, else the
    household head.  ``monthly_fen``, ``covered`` and ``class`` are those in effect
    in ``month`` (:func:`terms_in_month`).
    """
    first, last = month_bounds(month)
    cats = [category] if category else monthly_categories(store)
    marks = ", ".join("?" * len(cats))
    sql = f"""
        SELECT e.id, e.category, e.class, e.covered, e.monthly_fen, e.start_on, e.end_on,
               e.state, e.household_id, h.village, h.village_group, h.bank_name, h.bank_account,
               h.phone, h.bank_account = '' AND instr(h.notes, ?) > 0 AS account_pending,
               COALESCE(m.name, hm.name, h.head_name) AS recipient,
               COALESCE(m.id_number, m.id_raw, hm.id_number, hm.id_raw, h.head_id_number)
                   AS id_number
        FROM enrolments e
        JOIN households h ON h.id = e.household_id
        LEFT JOIN members m ON m.id = e.member_id
        LEFT JOIN members hm ON e.member_id IS NULL AND hm.household_id = h.id
             AND hm.relation = '户主' AND hm.status = 'active'
        WHERE e.status = 'active' AND e.state IN ('active', 'stopped', 'phasing_out', 'suspended')
          AND e.category IN ({marks})
          AND e.start_on IS NOT NULL AND e.start_on <= ?
          AND (e.end_on IS NULL OR e.end_on >= ?)
        ORDER BY e.category, h.village, h.village_group, h.id, e.id
    """
    rows = list(store.db.query(sql, (ACCOUNT_PENDING, *cats, last.isoformat(), first.isoformat())))
    month_text = month_key(first)
    held = unpaid_periods(store)
    rows = [r for r in rows if not held_in(held.get(r["id"]), month_text)]
    changes = review_changes(store)
    parts = rows_by_enrolment(store)
    known = {c: category_components(store, c) for c in cats}
    for r in rows:
        if r["id"] in changes:
            r.update(terms_in_month(r, changes[r["id"]], first))
        keys = known.get(r["category"]) or category_components(store, r["category"])
        r["components_fen"] = split(parts.get(r["id"], []), month_text, r["monthly_fen"], keys)
    return rows


def held_in(periods: list[tuple[str, str | None]] | None, month: str) -> bool:
    """Whether ``month`` falls in a period an enrolment is not paid (暂停, after a 渐退期)."""
    return any(s <= month and (e is None or month <= e) for s, e in periods or ())
