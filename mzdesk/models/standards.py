"""Assistance standards (保障标准): per category and area type, from a month on.

A standard is an amount per person, per month (城市低保 528 元/人/月) or per year
(农村低保 4310 元/人/年), in effect from the first day of a month until a later one
replaces it: nothing is overwritten, so the history answers "which standard applied in
July".  The shipped defaults (``resources/standards.json``) are examples; a county sets
its own with :func:`set_standard` (``mzdesk standards set``), kept in the ``standards``
table and sent to its townships in sync.  From the first month the database holds a
standard for a category and area type, the shipped rows for that pair no longer apply
(the months before keep them, so a 提标 always has the standard it replaces).

>>> from mzdesk.models.site import init_site
>>> store = Store.open(":memory:", operator="clerk")
>>> _ = init_site(store, "341623101", "青山镇")
>>> s = in_effect(store, "rural_dibao", "rural", dt.date(2026, 7, 1))
>>> s.amount_fen, s.period, s.annual_fen, s.source
(431000, 'year', 431000, 'shipped')
>>> _ = set_standard(store, "rural_dibao", "rural", "2027-01", 480000, "year")
>>> in_effect(store, "rural_dibao", "rural", dt.date(2027, 3, 1)).label()
'4800.00 元/人/年（2027-01起）'
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass

from ..resources import load_json
from . import dates
from .auth import require
from .categories import categories, unknown_category
from .errors import MzError
from .money import check_assistance, format_fen
from .store import Store, new_uid
from .text import field_text

AREAS = {"urban": "城市", "rural": "农村"}
PERIODS = {"month": "元/人/月", "year": "元/人/年"}
ACTION = "enrolment.confirm"  # setting a standard is a county decision
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


class StandardError(MzError):
    """A standard that cannot be set or is missing."""

    code = "bad_standard"


@dataclass(frozen=True)
class Standard:
    category: str
    area_type: str
    effective_from: str  # YYYY-MM-01
    amount_fen: int
    period: str  # month | year
    note: str = ""
    source: str = "shipped"  # shipped | database
    id: int | None = None

    @property
    def annual_fen(self) -> int:
        """The standard for one person for a year (authoritative: no rounding)."""
        return self.amount_fen * 12 if self.period == "month" else self.amount_fen

    @property
    def month(self) -> str:
        return self.effective_from[:7]

    def label(self) -> str:
        return f"{format_fen(self.amount_fen)} {PERIODS[self.period]}（{self.month}起）"

    def as_dict(self) -> dict:
        return {**asdict(self), "annual_fen": self.annual_fen, "label": self.label()}


def settings() -> dict:
    """The ``categories`` block of standards.json: per category its calculation mode
    (``topup`` 补差 or ``fixed``: the standard is the amount) and its area types."""
    return load_json("standards.json")["categories"]


def dibao_category(area_type: str) -> str:
    """The 低保 category whose standard applies to a household of ``area_type``."""
    return load_json("standards.json")["dibao_for_area"][area_type]


def parse_month(text: str | dt.date) -> dt.date:
    """'2026-07' → date(2026, 7, 1); a date → the first of its month.

    >>> parse_month("2026-7"), parse_month(dt.date(2026, 7, 15))
    (datetime.date(2026, 7, 1), datetime.date(2026, 7, 1))
    """
    if isinstance(text, dt.date):
        return text.replace(day=1)
    m = _MONTH.fullmatch(str(text).strip())
    if m is None or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise StandardError(
            f"月份格式应为 YYYY-MM（2000至2100年），例如 2026-07：{text!r}", "bad_month"
        )
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


SET_AHEAD_MONTHS = 12  # a standard is decided at most a year before it applies


def not_after(first: dt.date, months_ahead: int, what: str) -> dt.date:
    """``first`` unless it is more than ``months_ahead`` months after the current month
    (a typing mistake: 2099-01), which is refused in one line."""
    today = dates.current_day()
    latest = (today.year * 12 + today.month - 1) + months_ahead
    if first.year * 12 + first.month - 1 > latest:
        last = f"{latest // 12:04d}-{latest % 12 + 1:02d}"
        raise StandardError(f"{what}最晚为{last}：{first:%Y-%m}", "month_too_late")
    return first


def _shipped() -> list[Standard]:
    return [
        Standard(
            s["category"],
            s["area_type"],
            parse_month(s["from"]).isoformat(),
            int(s["amount_fen"]),
            s["period"],
        )
        for s in load_json("standards.json")["standards"]
    ]


def history(
    store: Store, category: str | None = None, area_type: str | None = None
) -> list[Standard]:
    """Every standard in use, oldest first per (category, area): the database's rows,
    and the shipped defaults for the months before a pair's first row there."""
    rows = store.conn.execute(
        "SELECT id, category, area_type, effective_from, amount_fen, period, note "
        "FROM standards WHERE status = 'active' ORDER BY category, area_type, effective_from, id"
    ).fetchall()
    db: dict[tuple[str, str], dict[str, Standard]] = {}
    for rid, cat, area, start, fen, period, note in rows:
        # a later row for the same month (two sites, one month) replaces an earlier one
        db.setdefault((cat, area), {})[start] = Standard(
            cat, area, start, fen, period, note, "database", rid
        )
    out = [s for pair in db.values() for s in pair.values()]
    # a shipped row applies to a pair until the county's first own standard for it
    out += [
        s
        for s in _shipped()
        if (s.category, s.area_type) not in db
        or s.effective_from < min(db[(s.category, s.area_type)])
    ]
    out = [
        s
        for s in out
        if (category is None or s.category == category)
        and (area_type is None or s.area_type == area_type)
    ]
    return sorted(out, key=lambda s: (s.category, s.area_type, s.effective_from))


def in_effect(store: Store, category: str, area_type: str, month: dt.date) -> Standard | None:
    """The standard applying to ``month`` (the latest one from that month or before)."""
    first = month.replace(day=1).isoformat()
    found = [s for s in history(store, category, area_type) if s.effective_from <= first]
    return found[-1] if found else None


def required(store: Store, category: str, area_type: str, month: dt.date) -> Standard:
    """:func:`in_effect`, or a :class:`StandardError` saying what to set."""
    s = in_effect(store, category, area_type, month)
    if s is None:
        name = categories(store).get(category, {}).get("name", category)
        raise StandardError(
            f"没有{month:%Y-%m}适用的{AREAS.get(area_type, area_type)}“{name}”保障标准，"
            "请先用“mzdesk standards set”设置",
            "no_standard",
        )
    return s


def check_pair(store: Store, category: str, area_type: str) -> None:
    """Refuse a category without standards or an area type it does not apply to."""
    cats = categories(store)
    if category not in cats:
        raise unknown_category(category, cats)
    spec = settings().get(category)
    if spec is None:
        known = "、".join(f"{c}（{cats.get(c, {}).get('name', c)}）" for c in settings())
        raise StandardError(f"“{cats[category]['name']}”没有保障标准；可设置的类别：{known}")
    if area_type not in spec["areas"]:
        allowed = "、".join(AREAS[a] for a in spec["areas"])
        raise StandardError(
            f"“{cats[category]['name']}”的标准只适用于{allowed}（area 应为 "
            f"{'、'.join(spec['areas'])}），而不是 {area_type!r}",
            "bad_area",
        )


def set_standard(
    store: Store,
    category: str,
    area_type: str,
    month: str | dt.date,
    amount_fen: int,
    period: str = "month",
    note: str = "",
) -> Standard:
    """Record a standard from ``month`` on (one transaction).  Setting the same
    category, area and month again corrects it; earlier months keep theirs."""
    require(store, ACTION)
    check_pair(store, category, area_type)
    first = not_after(parse_month(month), SET_AHEAD_MONTHS, "标准起始月份")
    if period not in PERIODS:
        raise StandardError(f"标准周期应为 month（元/人/月）或 year（元/人/年）：{period!r}")
    if amount_fen <= 0:
        raise StandardError("保障标准必须大于0", "bad_amount")
    check_assistance(amount_fen, "amount_fen")
    note = field_text(note, "note", "备注", "note")
    with store.transaction():
        old = store.one(
            "SELECT id FROM standards WHERE category = ? AND area_type = ? "
            "AND effective_from = ? AND status = 'active' ORDER BY id DESC LIMIT 1",
            (category, area_type, first.isoformat()),
        )
        if old is not None:
            stamp = store.stamp(new=False)
            store.conn.execute(
                "UPDATE standards SET amount_fen = ?, period = ?, note = ?, rev = rev + 1, "
                "updated_at = ?, updated_by = ? WHERE id = ?",
                (amount_fen, period, note, stamp["updated_at"], stamp["updated_by"], old["id"]),
            )
            rid = old["id"]
        else:
            row = dict(
                uid=new_uid(),
                category=category,
                area_type=area_type,
                effective_from=first.isoformat(),
                amount_fen=amount_fen,
                period=period,
                note=note,
                **store.stamp(new=True),
            )
            rid = store.conn.execute(
                f"INSERT INTO standards ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            ).lastrowid
    return Standard(
        category, area_type, first.isoformat(), amount_fen, period, note, "database", rid
    )
