"""Workbooks shaped like real rosters, built in tests (not copies of the sample)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from tests.helpers import make_id

FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def bad_check(number: str) -> str:
    """The same number with a wrong check character."""
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def member_per_row(
    path: Path,
    households: list[dict],
    title_rows: int = 1,
    headers: tuple = (
        "序号",
        "村(社区)",
        "组",
        "户主姓名",
        "保障人口",
        "成员姓名",
        "与户主关系",
        "身份证号码",
        "保障类别",
        "月保障金(元)",
    ),
    sheet: str = "农村低保",
    wb: Workbook | None = None,
    total_row: bool = True,
    merge: bool = True,
) -> Workbook:
    """One row per member; household cells merged vertically (or left blank).

    ``households``: dicts with village, group, head, covered, class, amount and
    members [(name, relation, id_cell)].  ``id_cell`` may be a str or a number.
    """
    own = wb is None
    wb = wb or Workbook()
    ws = wb.active if own else wb.create_sheet(sheet)
    ws.title = sheet
    for i in range(title_rows):
        ws.append([f"青山镇2026年11月{sheet}花名册" if i == 0 else "填报单位：青山镇民政办"])
    ws.append(list(headers))
    seq = 0
    for h in households:
        seq += 1
        first = ws.max_row + 1
        for k, (name, rel, idc) in enumerate(h["members"]):
            hh = [
                seq,
                h["village"],
                h.get("group", "1组"),
                h["members"][0][0],
                h.get("covered", len(h["members"])),
            ]
            tail = [h.get("class", "一类"), h.get("amount", 500)]
            if k and merge:
                hh, tail = [None] * 5, [None, None]
            ws.append(hh + [name, rel, idc] + tail)
        last = ws.max_row
        if merge and last > first:
            for col in ("A", "B", "C", "D", "E", "I", "J"):
                ws.merge_cells(f"{col}{first}:{col}{last}")
        if h.get("blank_after"):
            ws.append([])
    if total_row:
        ws.append(
            ["合计", None, None, None, "=SUM(E3:E99)", None, None, None, None, "=SUM(J3:J99)"]
        )
    if own:
        wb.save(path)
    return wb


def household_per_row(ws, rows: list[tuple], headers: tuple) -> None:
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r))


def ids(n: int, born: str = "19700101", start: int = 1) -> list[str]:
    return [make_id(born, start + i) for i in range(n)]
