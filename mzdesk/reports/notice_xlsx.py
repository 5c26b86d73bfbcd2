"""The public notice (公示) as an .xlsx workbook: same rows, same sections, same text.

For offices that paste the notice into their own template or the county system.
Reads only the frozen notice rows, like the PDF.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..models.money import format_fen
from ..models.notice import Notice, get_notice
from ..models.text import xlsx_safe
from .notice_pdf import cn_date, columns, name_header, section_label
from .xlsx_writer import save_workbook

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def _append(ws, values) -> None:
    """``ws.append`` with every text through :func:`xlsx_safe`: a notice frozen from text
    written behind mzdesk's back still prints."""
    ws.append([xlsx_safe(v) for v in values])


def render(n: Notice, out: str | Path, header_name: str = "户主姓名") -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "公示"
    cols = columns(n, header_name)
    ncol = len(cols)
    _append(ws, [n.title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.cell(1, 1).font = Font(size=16, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    _append(ws, [f"公示期：{cn_date(n.start_on)}至{cn_date(n.end_on)}（共{n.days}天）"])
    for village, rows in n.villages():
        _append(ws, [])
        _append(ws, [section_label(village, rows, header_name)])  # the PDF's words
        ws.cell(ws.max_row, 1).font = Font(size=12, bold=True)
        _append(ws, [c[0] for c in cols])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="E0E0E0")
            cell.border = _BOX
            cell.alignment = Alignment(horizontal="center")
        for it in rows:
            values = [it.seq, f"{it.village}{it.village_group}", it.name]
            if n.show_id:
                values.append(it.id_masked)
            values += [it.covered, it.category_label, format_fen(it.monthly_fen), it.action_label]
            _append(ws, values)
            for cell in ws[ws.max_row]:
                cell.border = _BOX
    _append(ws, [])
    _append(ws, [f"监督电话：{n.hotline}"])
    if n.address:
        _append(ws, [f"受理地址：{n.address}"])
    _append(ws, [])
    _append(ws, [""] * (ncol - 2) + [n.issuer])
    _append(ws, [""] * (ncol - 2) + [cn_date(n.issued_on)])
    widths = {"序号": 6, "村组": 18, "身份证号": 22, "类别": 18, "月保障金额(元)": 16}
    for i, c in enumerate(cols, 1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(c[0], 11)
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape" if n.landscape or n.page_size == "A3" else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3 if n.page_size == "A3" else ws.PAPERSIZE_A4
    save_workbook(wb, out)


def write_xlsx(store, notice_id: int, out: str | Path) -> None:
    n = get_notice(store, notice_id)
    render(n, out, name_header(store, n))
