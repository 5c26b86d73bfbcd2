"""The payment calendar of an enrolment: when payment starts, ends and is reviewed.

>>> add_months(dt.date(2027, 1, 31), 1)
datetime.date(2027, 2, 28)
>>> paid_until(dt.date(2027, 3, 15))
datetime.date(2027, 3, 31)
>>> next_review({"review_months": 12}, dt.date(2027, 1, 1))
'2028-01-01'
"""

from __future__ import annotations

import calendar
import datetime as dt

from . import dates
from .categories import lifecycle_settings


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clipped to the month's end (1-31 → 2-28)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def payment_start(confirmed: dt.date) -> dt.date:
    """The first month paid after a decision on ``confirmed``: a confirmation starts
    payment, and a review's change of amount, class or covered persons applies, from
    this month on (``lifecycle.payment_starts``: the month after, or the same month)."""
    if lifecycle_settings().get("payment_starts") == "same_month":
        return confirmed.replace(day=1)
    return add_months(confirmed.replace(day=1), 1)


def paid_until(stopped: dt.date) -> dt.date:
    """The last day paid when payment stops on ``stopped``: the end of that month
    (a stop, by itself or by a review, takes effect from the first of the next)."""
    return add_months(stopped.replace(day=1), 1) - dt.timedelta(days=1)


def next_review(cat: dict, start: dt.date) -> str | None:
    """The next review, the category's interval after ``start`` (None: no review),
    within the :mod:`.dates` bounds of ``review_due``."""
    months = int(cat.get("review_months") or 0)
    if not months:
        return None
    return dates.check_date("review_due", add_months(start, months), not_before=()).isoformat()
