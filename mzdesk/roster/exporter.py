"""Spreadsheets out (导出): 补贴清册 for the 一卡通 payment system, rosters, any list.

ID numbers and bank accounts are written as text cells with the text number
format (``@``), so Excel/WPS never turn them into 3.41623E+17; amounts are
number cells in yuan built from integer fen through ``Decimal`` (no float).
openpyxl ``write_only`` streams rows, so 50,000 rows need little memory.

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
>>> out = f"{tmp.name}/清册.xlsx"
>>> export_payment_roster(store, dt.date.today().replace(day=1), out, category="rural_dibao")
{'rows': 1, 'persons': 2, 'total_fen': 76000, 'sheets': ['农村低保']}
>>> from openpyxl import load_workbook
>>> ids = [c for row in load_workbook(out).active.iter_rows() for c in row
...        if c.value == "34162319900101009X"]
>>> ids[0].data_type, ids[0].number_format                    # a text cell, shown as text
('s', '@')
>>> tmp.cleanup()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook

from ..models.auth import require
from ..models.categories import categories, category_code
from ..models.components import category_components, component_names
from ..models.errors import MzError
from ..models.progress import Cancel as CancelFn
from ..models.progress import Cancelled, Progress
from ..models.store import Store
from ..reports.xlsx_writer import SheetWriter, save_workbook, yuan
from .importer import problem_label
from .monthly import COLUMNS, back_pay_rows, month_label, paid_enrolments, table_rows

PAYMENT_HEADERS = (
    "序号",
    "村(社区)",
    "组",
    "姓名",
    "身份证号码",
    "开户银行",
    "银行账号",
    "保障类别",
    "保障人数",
    "金额(元)",
)

# an account Excel cut short on import (roster/import_cells.py): no digits are made up
ACCOUNT_MARK = "待核实（原账号被Excel截断）"


def export_payment_roster(
    store: Store,
    month: dt.date,
    out: str | Path,
    category: str | None = None,
    township: str = "",
    progress: Progress | None = None,
    cancel: CancelFn | None = None,
) -> dict:
    """The month's 补贴发放清册, one sheet per category (or just ``category``: a code or
    a name the store knows, its own local categories included).

    Rows come from :func:`mzdesk.roster.monthly.paid_enrolments`, then the month's 补发
    lines (back pay of suspended months, :func:`mzdesk.roster.monthly.back_pay_rows`), each
    on a line of its own; the last row is 合计 with persons and amount.  Column J is the
    row's amount (发放合计 where the category is paid in parts); a category with parts
    (低保: 保障金 + 分类施保金, 特困: 基本生活费 + 照料护理费) has one column per part
    after it.  The file appears only when complete.
    """
    require(store, "data.export")
    known = categories(store)  # the shipped ones and the township's own
    if category:
        category = category_code(store, category)  # by code or name; unknown lists the valid
    rows = paid_enrolments(store, month, category)
    extra = back_pay_rows(store, month, category)
    if not township:
        site = store.one("SELECT name FROM site WHERE id = 1")
        township = site["name"] if site else ""
    wb = Workbook(write_only=True)
    sheets, total_fen, persons, back_fen = [], 0, 0, 0
    by_cat: dict[str, list[dict]] = {}
    for r in [*rows, *extra]:
        by_cat.setdefault(r["category"], []).append(r)
    if category and category not in by_cat:
        by_cat[category] = []
    order = list(known)
    by_cat = dict(
        sorted(by_cat.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    )
    done = 0

    def tick() -> None:  # after each row: progress, and cancel between rows
        nonlocal done
        done += 1
        if done % 5000 == 0:
            if progress:
                progress(done, len(rows))
            if cancel and cancel():
                raise Cancelled()

    for cat, items in by_cat.items():
        name = known.get(cat, {}).get("name", cat)
        heading = f"{township}{month.year}年{month.month}月{name}补贴发放清册"
        sheet = _payment_sheet(store, wb, cat, name, heading, items, tick)
        sheets.append(name)
        total_fen += sheet["fen"]
        persons += sheet["persons"]
        back_fen += sheet["back_fen"]
    if not sheets:
        raise MzError(f"{month:%Y年%m月}没有在保对象，未生成清册", "nothing_to_export")
    save_workbook(wb, out)
    res = {"rows": len(rows), "persons": persons, "total_fen": total_fen, "sheets": sheets}
    if extra:
        res.update(back_pay_rows=len(extra), back_pay_fen=back_fen)
    return res


def _payment_sheet(
    store: Store,
    wb: Workbook,
    cat: str,
    name: str,
    heading: str,
    items: list[dict],
    tick: Callable[[], None],
) -> dict:
    """One category's sheet of the 清册: its rows and 补发 lines, then 合计.  Column J is
    the row's amount; a category paid in parts has one column per part after it."""
    keys = category_components(store, cat)
    names = component_names(cat)
    parts = keys if len(keys) > 1 else []
    headers = (
        *PAYMENT_HEADERS[:-1],
        "发放合计(元)" if parts else PAYMENT_HEADERS[-1],
        *(f"{names.get(k, k)}(元)" for k in parts),
    )
    w = SheetWriter(
        wb,
        name,
        headers,
        text_cols=(4, 6),
        money_cols=tuple(range(9, 10 + len(parts))),
        heading=heading,
        widths={1: 12, 3: 10, 4: 22, 5: 14, 6: 24, 7: 14, 9: 12},
    )
    fen = persons = back_fen = 0
    sums = dict.fromkeys(parts, 0)
    for i, r in enumerate(items, 1):
        back = r.get("kind") == "back_pay"
        split = r.get("components_fen") or {"base": r["monthly_fen"]}
        label = f"补发{r['months'][0]}至{r['months'][-1]}" if back else r["class"]
        w.row(
            (
                i,
                r["village"],
                r["village_group"],
                r["recipient"],
                r["id_number"] or "",
                r["bank_name"],
                r["bank_account"] or (ACCOUNT_MARK if r.get("account_pending") else ""),
                label,
                "" if back else r["covered"],  # persons once, not again for the 补发
                yuan(r["monthly_fen"]),
                *(yuan(split.get(k, 0)) for k in parts),
            )
        )
        for k in parts:
            sums[k] += split.get(k, 0)
        fen += r["monthly_fen"]
        back_fen += r["monthly_fen"] if back else 0
        persons += 0 if back else r["covered"]
        tick()
    households = len({r["household_id"] for r in items})  # as the statistics count 户数
    w.row(
        ("合计", f"{households}户", *[""] * 6, persons, yuan(fen), *(yuan(sums[k]) for k in parts)),
        bold=True,
    )
    return {"fen": fen, "persons": persons, "back_fen": back_fen}


def export_rows(
    out: str | Path,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    title: str = "列表",
    heading: str | None = None,
    text_cols: Iterable[int] = (),
    money_cols: Iterable[int] = (),
    progress: Progress | None = None,
    cancel: CancelFn | None = None,
    total: int = 0,
    widths: dict[int, int] | None = None,
) -> int:
    """Any list view as .xlsx (one sheet).  Returns the number of data rows.

    ``text_cols`` are written as text cells (IDs, accounts, phones);
    ``money_cols`` hold ``Decimal`` yuan (see :func:`yuan`); ``widths``: column index ->
    width in characters, for the columns Excel's default width would cut.
    """
    wb = Workbook(write_only=True)
    w = SheetWriter(wb, title, headers, text_cols, money_cols, heading, widths)
    n = 0
    for n, r in enumerate(rows, 1):
        w.row(r)
        if n % 5000 == 0:
            if progress:
                progress(n, total or n)
            if cancel and cancel():
                raise Cancelled()
    save_workbook(wb, out)
    return n


HOUSEHOLD_HEADERS = (
    "编号",
    "村(社区)",
    "组",
    "户主",
    "户主身份证号",
    "家庭人口",
    "联系电话",
    "开户银行",
    "银行账号",
    "住址",
    "城乡",
)
MEMBER_HEADERS = (
    "家庭编号",
    "村(社区)",
    "组",
    "户主",
    "姓名",
    "与户主关系",
    "身份证号码",
    "身份证待核实",
    "性别",
    "出生日期",
    "健康状况",
)


def export_registry(
    store: Store,
    out: str | Path,
    village: str | None = None,
    progress: Progress | None = None,
    cancel: CancelFn | None = None,
) -> dict:
    """Household roster (家庭花名册) and member roster (成员花名册) in one workbook."""
    require(store, "data.export")
    where, params = "h.status = 'active'", []
    if village:
        where += " AND h.village = ?"
        params.append(village)
    wb = Workbook(write_only=True)
    hw = SheetWriter(
        wb, "家庭花名册", HOUSEHOLD_HEADERS, text_cols=(4, 6, 8), widths={4: 22, 8: 24}
    )
    n_h = 0
    for r in store.conn.execute(
        "SELECT h.id, h.village, h.village_group, h.head_name, h.head_id_number, h.member_count, "
        "h.phone, h.bank_name, h.bank_account, h.address, h.area_type FROM households h "
        f"WHERE {where} ORDER BY h.village, h.village_group, h.id",
        params,
    ):
        hw.row((*r[:10], "城市" if r[10] == "urban" else "农村"))
        n_h += 1
    mw = SheetWriter(wb, "成员花名册", MEMBER_HEADERS, text_cols=(6,), widths={6: 22})
    n_m = 0
    for r in store.conn.execute(
        "SELECT h.id, h.village, h.village_group, h.head_name, m.name, m.relation, "
        "COALESCE(m.id_number, m.id_raw), m.id_pending, m.gender, m.birth_date, m.health "
        "FROM members m JOIN households h ON h.id = m.household_id "
        f"WHERE {where} AND m.status = 'active' ORDER BY h.village, h.village_group, h.id, m.seq",
        params,
    ):
        gender = {"M": "男", "F": "女"}.get(r[8], "")
        mw.row((*r[:7], "是" if r[7] else "", gender, r[9] or "", r[10]))
        n_m += 1
        if n_m % 5000 == 0:
            if progress:
                progress(n_m, 0)
            if cancel and cancel():
                raise Cancelled()
    save_workbook(wb, out)
    return {"households": n_h, "members": n_m}


CASES_SHEET = "临时救助与医疗救助"


def export_monthly_stats(stats: dict, out: str | Path, township: str = "") -> None:
    """The monthly statistics table as .xlsx (amounts as yuan number cells)."""
    money = {4, 5, 9}
    wb = Workbook(write_only=True)
    w = SheetWriter(
        wb,
        f"{stats['month']}统计",
        [h for _, h in COLUMNS],
        money_cols=money,
        heading=f"{township}{month_label(stats)}社会救助统计",
        widths={0: 22, 1: 14, 4: 14, 5: 13, 6: 12, 7: 12, 8: 10, 9: 14},
    )
    for r in table_rows(stats):
        w.row([yuan(v) if i in money else v for i, v in enumerate(r)])
    if "cases" in stats:  # 临时救助/医疗救助: 人次, 金额, 人均每人次 of the month
        c = SheetWriter(
            wb,
            CASES_SHEET,
            ("救助类型", "人次", "金额(元)", "人均每人次(元)"),
            money_cols={2, 3},
            heading=f"{township}{month_label(stats)}临时救助、医疗救助统计",
            widths={0: 22, 2: 14, 3: 16},
        )
        for key, s in stats["cases"].items():
            c.row([key, s["count"], yuan(s["amount_fen"]), yuan(s["avg_fen"])])
    save_workbook(wb, out)


def export_problems(report: dict, out: str | Path) -> int:
    """A dry-run report's problems as .xlsx (the GUI's 导出问题清单)."""
    # 问题 in Chinese for the village; the code last, for whoever answers the phone
    headers = ("工作表", "行", "列", "单元格", "原值", "问题", "说明", "处理", "问题代码")
    rows = [
        (
            p["sheet"],
            p["row"],
            p["column"],
            p.get("column_letter", ""),
            p["value"],
            problem_label(p["code"]),
            p["message"],
            "导入并标记" if p.get("severity") == "flag" else "须改正",
            p["code"],
        )
        for p in report["problems"]
    ]
    # wide enough to read as opened: a whole ID in 原值, the problem and the advice
    widths = {2: 14, 4: 22, 5: 22, 6: 84, 7: 12, 8: 20}
    return export_rows(out, headers, rows, title="导入检查", text_cols=(4,), widths=widths)
