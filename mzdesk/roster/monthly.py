"""Monthly statistics (月度统计) per category and village, from the enrolment records.

The figures county work reports quote: households (户数), persons (人数), the
month's amount, 人均补差 (amount ÷ persons), new and stopped this month, and
year-to-date person-months (累计人次) and amounts.  Each category's total also gives the
month's amount by part (``components_fen``: 保障金, 分类施保金, 照料护理费 …) and the grand
total the month's 补发 (``back_pay_fen``, paid beside the month's amount).

One rule decides who is paid in a month (:func:`paid_enrolments`): an
enrolment that is 在保 or 停发, not deleted, of a monthly category, whose
payment started on or before the month's last day and did not end before its
first day.  The 补贴清册 export uses the same function, so the two always agree.

The amount, class and covered persons are those in effect in the month
(:func:`terms_in_month`): a review that changed them applies from
:func:`mzdesk.models.payment_dates.payment_start` of its date, and the months before
keep the old terms its event recorded.

>>> import tempfile
>>> from openpyxl import Workbook
>>> from mzdesk.models.site import init_site
>>> from mzdesk.models.store import Store
>>> tmp = tempfile.TemporaryDirectory()
>>> roster = f"{tmp.name}/花名册.xlsx"
>>> wb = Workbook()
>>> ws = wb.active
>>> ws.title = "农村低保"                                   # the sheet names the category
>>> ws.append(["村(社区)", "户主姓名", "保障人口", "成员姓名", "与户主关系", "身份证号码",
...            "保障类别", "月保障金(元)"])
>>> ws.append(["红旗村", "王小明", 2, "王小明", "户主", "34162319900101009X", "二类", 760])
>>> ws.append([None, None, None, "李芳", "配偶", "341623199201020022", None, None])
>>> wb.save(roster)
>>> store = Store.open(":memory:", operator="clerk")
>>> _ = init_site(store, "341623101", "青山镇")
>>> from mzdesk.roster.importer import import_roster
>>> _ = import_roster(store, roster)                # 在保 from this month
>>> stats = monthly_stats(store, dt.date.today().replace(day=1))
>>> total = stats["totals"]["rural_dibao"]
>>> total["households"], total["persons"], total["monthly_fen"], total["avg_fen"]
(1, 2, 76000, 38000)
>>> tmp.cleanup()
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..models import cases as assistance_cases
from ..models.categories import categories
from ..models.components import (
    BASE,
    category_components,
    month_key,
    review_changes,
    rows_by_enrolment,
    split,
    terms_in_month,
)
from ..models.enrolment_states import back_pay_lines, unpaid_periods
from ..models.files import replacing
from ..models.money import format_fen
from ..models.origins import origin_sql, site_names
from ..models.paid_month import ACCOUNT_PENDING as ACCOUNT_PENDING
from ..models.paid_month import held_in as _held
from ..models.paid_month import month_bounds, monthly_categories, paid_enrolments
from ..models.store import Store

PAID_STATES = ("active", "stopped", "phasing_out", "suspended")
# the rules live in models/components.py and models/paid_month.py
__all__ = [
    "month_bounds",
    "monthly_categories",
    "paid_enrolments",
    "review_changes",
    "terms_in_month",
]


MONTH_YEARS = (2000, 2100)  # a payment month outside these is a typing mistake
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


def parse_month(text: str) -> dt.date:
    """'2026-11' (or '2026-1') -> date(2026, 11, 1); anything else (26-1, 2026-11-05,
    2026-13) raises ValueError with a readable message."""
    m = _MONTH.fullmatch(str(text).strip())
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"月份格式应为 YYYY-MM，例如 2026-11，而不是 {text!r}")
    year = int(m.group(1))
    if not MONTH_YEARS[0] <= year <= MONTH_YEARS[1]:
        raise ValueError(f"月份的年份应在{MONTH_YEARS[0]}至{MONTH_YEARS[1]}年之间，而不是 {text!r}")
    return dt.date(year, int(m.group(2)), 1)


def back_pay_rows(store: Store, month: dt.date, category: str | None = None) -> list[dict]:
    """The 补发 lines of ``month``'s 清册: back pay of suspended months, paid with the
    month the payment resumed (:func:`mzdesk.models.enrolment_states.back_pay_lines`)."""
    cats = [category] if category else monthly_categories(store)
    return [r for r in back_pay_lines(store, month_key(month)) if r["category"] in cats]


def _months_paid(start: str, end: str | None, first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of the months of [start, end] inside [first, last] (payments are monthly)."""
    s = max(dt.date.fromisoformat(start).replace(day=1), first)
    e = last if end is None else min(dt.date.fromisoformat(end), last)
    months = []
    while s <= e:
        months.append(s)
        s = s.replace(year=s.year + s.month // 12, month=s.month % 12 + 1)
    return months


def _months_counted(
    start: str, end: str | None, year_start: dt.date, last: dt.date, first: dt.date
) -> tuple[int, bool]:
    """:func:`_months_paid` counted, not listed: (how many, whether the last is ``first``)."""
    s = max(dt.date.fromisoformat(start).replace(day=1), year_start)
    e = last if end is None else min(dt.date.fromisoformat(end), last)
    if e < s:
        return 0, False
    n = (e.year - s.year) * 12 + e.month - s.month + 1
    return n, (e.year, e.month) == (first.year, first.month)


def _within(day: str | None, first: dt.date, last: dt.date) -> int:
    """1 when ``day`` falls in [first, last] (a start or a stop in the month), else 0."""
    return int(day is not None and first.isoformat() <= day <= last.isoformat())


class _PartSums:
    """The month's amounts summed by category and part (:func:`split` of each total)."""

    def __init__(self, store: Store, month: str):
        self.store, self.month = store, month
        self.rows = rows_by_enrolment(store)
        self.keys: dict[str, list[str]] = {}
        self.by_cat: dict[str, dict[str, int]] = {}

    def add(self, cat: str, eid: int, fen: int) -> None:
        if cat not in self.keys:
            self.keys[cat] = category_components(self.store, cat)
        acc = self.by_cat.setdefault(cat, dict.fromkeys(self.keys[cat], 0))
        if eid not in self.rows:  # no parts recorded: all of it is the base (as split gives)
            acc[BASE] += fen
            return
        for k, v in split(self.rows.get(eid, []), self.month, fen, self.keys[cat]).items():
            acc[k] = acc.get(k, 0) + v


def _avg(fen: int, persons: int) -> int:
    """人均补差 in fen, rounded half up (integer arithmetic, no float)."""
    return (2 * fen + persons) // (2 * persons) if persons else 0


def stock_enrolments(store: Store) -> set[int]:
    """Enrolments a roster import loaded without a start month (存量, started before
    mzdesk): paid from the import's month on, but never counted as 新增 in it.  One loaded
    with its 最初享受月份 starts then, and is 新增 only if that is the month itself."""
    return {
        eid
        for (eid,) in store.conn.execute(
            "SELECT enrolment_id FROM enrolment_events WHERE action = 'import' "
            # true: 1 in SQLite, 'true' in PostgreSQL (models/pg_functions.py mz_json_extract)
            "AND json_valid(detail) "
            "AND CAST(json_extract(detail, '$.stock') AS TEXT) IN ('1', 'true')"
        )
    }


def _blank_row() -> dict:
    return {
        "households": 0,
        "persons": 0,
        "monthly_fen": 0,
        "new": 0,
        "stopped": 0,
        "ytd_person_months": 0,
        "ytd_fen": 0,
    }


def monthly_stats(store: Store, month: dt.date, category: str | None = None) -> dict:
    """Figures for ``month`` per category and village, with totals.  Deterministic."""
    first, last = month_bounds(month)
    year_start = first.replace(month=1)
    cats = [category] if category else monthly_categories(store)
    marks = ", ".join("?" * len(cats))
    towns = by_township(store)
    origin = origin_sql(store) if towns else "''"
    rows = store.conn.execute(
        f"""SELECT e.id, e.category, h.village, e.household_id, e.covered, e.monthly_fen,
                   e.class, e.start_on, e.end_on, {origin}
            FROM enrolments e JOIN households h ON h.id = e.household_id
            WHERE e.status = 'active'
              AND e.state IN ('active', 'stopped', 'phasing_out', 'suspended')
              AND e.category IN ({marks}) AND e.start_on IS NOT NULL AND e.start_on <= ?
              AND (e.end_on IS NULL OR e.end_on >= ?)""",
        (*cats, last.isoformat(), year_start.isoformat()),
    ).fetchall()
    cells: dict[tuple[str, str], dict] = {}
    households: dict[tuple[str, str], set] = {}
    changes = review_changes(store)
    held = unpaid_periods(store)
    parts = _PartSums(store, month_key(first))
    stock = stock_enrolments(store)
    town_cells: dict[tuple[str, str], dict] = {}
    town_households: dict[tuple[str, str], set] = {}
    for eid, cat, village, hid, covered, fen, cls, start, end, site in rows:
        key = (cat, village)
        ytd_persons = ytd_fen = 0
        if eid in held or eid in changes:
            row = {"monthly_fen": fen, "covered": covered, "class": cls}
            paid = [
                m
                for m in _months_paid(start, end, year_start, last)
                if not _held(held.get(eid), month_key(m))
            ]
            for m in paid:
                terms = terms_in_month(row, changes[eid], m) if eid in changes else row
                ytd_persons += terms["covered"]
                ytd_fen += terms["monthly_fen"]
            if eid in changes:
                covered, fen = (
                    terms_in_month(row, changes[eid], first)[k] for k in ("covered", "monthly_fen")
                )
            in_month = bool(paid) and paid[-1] == first
        else:  # most: the same terms in every month paid, so the months are only counted
            n, in_month = _months_counted(start, end, year_start, last, first)
            ytd_persons, ytd_fen = covered * n, fen * n
        new = stopped = 0
        if in_month:  # paid in the month itself
            new = 0 if eid in stock else _within(start, first, last)
            stopped = _within(end, first, last)
        # the same figures per village and per origin site (来源乡镇) and category
        for cell, at in ((key, cells), ((site, cat), town_cells)):
            c = at.get(cell) or at.setdefault(cell, _blank_row())
            c["ytd_person_months"] += ytd_persons
            c["ytd_fen"] += ytd_fen
            if in_month:
                c["persons"] += covered
                c["monthly_fen"] += fen
                c["new"] += new
                c["stopped"] += stopped
        if in_month:
            households.setdefault(key, set()).add(hid)
            town_households.setdefault((site, cat), set()).add(hid)
            parts.add(cat, eid, fen)
    out_rows = []
    totals: dict[str, dict] = {}
    known = categories(store)
    order = {c: i for i, c in enumerate(known)}
    for (cat, village), c in sorted(cells.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0])):
        c["households"] = len(households.get((cat, village), ()))
        c["avg_fen"] = _avg(c["monthly_fen"], c["persons"])
        name = known.get(cat, {}).get("name", cat)
        out_rows.append({"category": cat, "category_name": name, "village": village, **c})
        unit = known.get(cat, {}).get("unit", "household")
        t = totals.setdefault(
            cat, {"category": cat, "category_name": name, "unit": unit, **_blank_row()}
        )
        for k in _blank_row():
            t[k] += c[k]
    grand = {"category": "", "category_name": "合计", **_blank_row()}
    for t in totals.values():
        t["avg_fen"] = _avg(t["monthly_fen"], t["persons"])
        for k in _blank_row():
            grand[k] += t[k]
    grand["avg_fen"] = _avg(grand["monthly_fen"], grand["persons"])
    for cat, t in totals.items():  # the month's amount by part; adds up to monthly_fen
        t["components_fen"] = parts.by_cat.get(cat, {"base": t["monthly_fen"]})
    back = [r for r in back_pay_lines(store, month_key(first)) if r["category"] in cats]
    grand["back_pay_fen"] = sum(r["monthly_fen"] for r in back)  # 补发, beside the month's
    out = {
        "month": first.strftime("%Y-%m"),
        "rows": out_rows,
        "totals": totals,
        "total": grand,
        # 临时救助/医疗救助 paid this month: 人次, 金额, 人均每人次 (models/cases.py)
        "cases": assistance_cases.month_stats(store, first),
    }
    if towns:
        out["by_township"] = _township_rows(store, town_cells, town_households, order, known)
    return out


def by_township(store: Store) -> bool:
    """Whether this site's statistics go by township too: a site above a township (a
    county, city or province) holds other sites' households (models/origins.py)."""
    row = store.conn.execute("SELECT role FROM site WHERE id = 1").fetchone()
    return bool(row) and row[0] not in ("township", "field")


def _township_rows(
    store: Store,
    cells: dict[tuple[str, str], dict],
    households: dict[tuple[str, str], set],
    order: dict[str, int],
    known: dict[str, dict],
) -> list[dict]:
    """``by_township``: one row per origin site and category with the month's figures."""
    names = site_names(store)
    out = []
    for (site, cat), c in sorted(cells.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 99))):
        if not any(c.values()) and not households.get((site, cat)):
            continue
        c["households"] = len(households.get((site, cat), ()))
        c["avg_fen"] = _avg(c["monthly_fen"], c["persons"])
        out.append(
            {
                "site": site,
                "site_name": names.get(site, site),
                "category": cat,
                "category_name": known.get(cat, {}).get("name", cat),
                **c,
            }
        )
    return out


def month_label(stats: dict) -> str:
    """'2026年3月' (not 2026年03月), as a clerk writes it."""
    return f"{int(stats['month'][:4])}年{int(stats['month'][5:])}月"


def ytd_label(stats: dict) -> str:
    """The months the 累计 covers, as work reports write them: '1-11月', and in January '1月'."""
    month = int(stats["month"][5:])
    return "1月" if month == 1 else f"1-{month}月"


def summary_lines(stats: dict) -> list[str]:
    """Sentences like a county work report: '农村低保对象120户358人，当月人均补差…'.

    新增/停发 count enrolments: households (户) in a household category such as 低保,
    persons (人) in a person category such as 特困."""
    lines = []
    for t in stats["totals"].values():
        unit = "人" if t.get("unit") == "person" else "户"
        lines.append(
            f"{t['category_name']}对象{t['households']}户{t['persons']}人，"
            f"当月发放{format_fen(t['monthly_fen'])}元，人均补差{format_fen(t['avg_fen'])}元，"
            f"新增{t['new']}{unit}、停发{t['stopped']}{unit}，"
            f"{ytd_label(stats)}累计{t['ytd_person_months']}人次、{format_fen(t['ytd_fen'])}元"
        )
    return lines + assistance_cases.summary_lines(stats.get("cases", {}))


COLUMNS = (
    ("category_name", "救助类别"),
    ("village", "村(社区)"),
    ("households", "户数"),
    ("persons", "人数"),
    ("monthly_fen", "当月金额(元)"),
    ("avg_fen", "人均补差(元)"),
    ("new", "新增(户/人)"),
    ("stopped", "停发(户/人)"),
    ("ytd_person_months", "累计人次"),
    ("ytd_fen", "累计金额(元)"),
)


def table_rows(stats: dict) -> list[list]:
    """Rows for xlsx/PDF/GUI: villages, then each category's subtotal, then the total."""
    out = []
    for cat, t in stats["totals"].items():
        for r in stats["rows"]:
            if r["category"] == cat:
                out.append([r[k] for k, _ in COLUMNS])
        out.append([t["category_name"], "小计", *[t[k] for k, _ in COLUMNS[2:]]])
    g = stats["total"]
    out.append(["合计", "", *[g[k] for k, _ in COLUMNS[2:]]])
    return out


def township_rows(stats: dict) -> list[list]:
    """Rows as :func:`table_rows` with the origin site (乡镇) in the village column: each
    category's townships, its subtotal, then the total (a county's ``by_township``)."""
    out = []
    for cat, t in stats["totals"].items():
        for r in stats.get("by_township", []):
            if r["category"] == cat:
                out.append([{**r, "village": r["site_name"]}[k] for k, _ in COLUMNS])
        out.append([t["category_name"], "小计", *[t[k] for k, _ in COLUMNS[2:]]])
    g = stats["total"]
    out.append(["合计", "", *[g[k] for k, _ in COLUMNS[2:]]])
    return out


def township_totals(stats: dict) -> list[tuple[str, int]]:
    """(township, the month's amount in fen over every category), by township code."""
    sums: dict[tuple[str, str], int] = {}
    for r in stats.get("by_township", []):
        key = (r["site"], r["site_name"])
        sums[key] = sums.get(key, 0) + r["monthly_fen"]
    return [(name, fen) for (_code, name), fen in sorted(sums.items())]


def write_pdf(stats: dict, out, township: str = "") -> int:
    """The statistics table as a landscape A4 PDF (embedded CJK font), written all or
    nothing (a failure leaves an earlier file of that name as it was); returns pages."""
    with replacing(out) as part:
        return _draw_pdf(stats, part, township)


def _draw_pdf(stats: dict, out: Path, township: str) -> int:
    from reportlab.lib.pagesizes import A4, landscape

    from ..reports.fonts import new_canvas, register_cjk_font

    font = register_cjk_font()
    width, height = landscape(A4)
    title = f"{township}{month_label(stats)}社会救助统计"
    c = new_canvas(out, title=title, pagesize=(width, height))
    widths = [110, 90, 50, 50, 80, 70, 50, 50, 60, 90]
    x0, row_h, pages = 40, 18, 1
    money = {4, 5, 9}

    def header(y: float) -> float:
        c.setFont(font, 14)
        c.drawCentredString(width / 2, height - 40, title)
        c.setFont(font, 9)
        x = x0
        for (_, label), w in zip(COLUMNS, widths, strict=True):
            c.rect(x, y - 4, w, row_h, stroke=1, fill=0)
            c.drawCentredString(x + w / 2, y + 1, label)
            x += w
        return y - row_h

    y = header(height - 80)
    for r in table_rows(stats):
        if y < 60:
            c.showPage()
            pages += 1
            y = header(height - 80)
        x = x0
        c.setFont(font, 9)
        for i, (v, w) in enumerate(zip(r, widths, strict=True)):
            c.rect(x, y - 4, w, row_h, stroke=1, fill=0)
            text = format_fen(v) if i in money else str(v)
            if i >= 2:
                c.drawRightString(x + w - 4, y + 1, text)
            else:
                c.drawString(x + 4, y + 1, text)
            x += w
        y -= row_h
    c.setFont(font, 10)
    for line in summary_lines(stats):
        if y < 50:
            c.showPage()
            pages += 1
            y = height - 60
            c.setFont(font, 10)
        y -= 16
        c.drawString(x0, y, line)
    c.save()
    return pages
