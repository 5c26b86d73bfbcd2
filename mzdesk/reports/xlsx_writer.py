"""The one xlsx writer (openpyxl) that reports and roster exports share.

Typed cells (text IDs and accounts as ``@`` text cells, amounts as ``Decimal`` yuan number
cells) in write-only sheets set up for A4 printing, and :func:`save_workbook`, which writes
a workbook all or nothing and closes what a failed save left open.

It lives in ``reports`` (the package of writers) and depends only on ``models``: the notice
workbook (``reports.notice_xlsx``) and the roster exports (``roster.exporter``) both use it,
so ``roster`` depends on ``reports`` one way and ``reports`` never imports ``roster``.

>>> yuan(76050), yuan(None)
(Decimal('760.50'), None)
>>> sheet_title("农村低保[2026/03]")
'农村低保_2026_03_'
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from ..models.files import replacing
from ..models.text import clean, xlsx_safe

TEXT = "@"
MONEY = "0.00"


def yuan(fen: int | None) -> Decimal | None:
    """Integer fen to an exact Decimal yuan for a number cell."""
    return None if fen is None else Decimal(int(fen)).scaleb(-2)


class SheetWriter:
    """A write-only sheet with a title, a bold header and typed columns."""

    def __init__(
        self,
        wb: Workbook,
        title: str,
        headers: Sequence[str],
        text_cols: Iterable[int] = (),
        money_cols: Iterable[int] = (),
        heading: str | None = None,
        widths: dict[int, int] | None = None,
    ):
        self.ws = wb.create_sheet(title=sheet_title(title))
        self.text_cols = set(text_cols)
        self.money_cols = set(money_cols)
        for col, w in (widths or {}).items():
            self.ws.column_dimensions[_letter(col)].width = w
        # printed on A4 across, every column on one page: a 清册 row's name and amount are
        # signed on the same sheet of paper (portrait put 开户银行…金额 on a page of their own)
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.paperSize = 9  # A4
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
        self.bold = Font(bold=True)
        if heading:
            c = WriteOnlyCell(self.ws, value=xlsx_safe(heading))
            c.font = Font(bold=True, size=14)
            self.ws.append([c])
        self.ws.append([self._styled(h, bold=True) for h in headers])

    def _styled(self, value, bold=False, fmt=None):
        c = WriteOnlyCell(self.ws, value=xlsx_safe(value))
        if bold:
            c.font = self.bold
            c.alignment = Alignment(horizontal="center")
        if fmt:
            c.number_format = fmt
        return c

    def row(self, values: Sequence, bold: bool = False) -> None:
        cells = []
        for i, v in enumerate(values):
            if i in self.text_cols:
                cells.append(self._styled("" if v is None else str(v), bold, TEXT))
            elif i in self.money_cols and v is not None and v != "":
                cells.append(self._styled(v, bold, MONEY))
            elif bold:
                cells.append(self._styled(v, bold))
            else:
                cells.append(xlsx_safe(v))  # text written behind mzdesk's back cannot stop it
        self.ws.append(cells)


def _letter(col: int) -> str:
    """0 -> 'A', 27 -> 'AB'."""
    return get_column_letter(col + 1)


def sheet_title(name: str) -> str:
    name = clean(name)
    for ch in "[]:*?/\\":
        name = name.replace(ch, "_")
    return name[:31] or "Sheet"


def save_workbook(wb: Workbook, out: str | Path) -> None:
    """``wb`` as the file ``out``, all or nothing (:func:`mzdesk.models.files.replacing`).

    openpyxl's own ``save`` leaves its zip file and a write-only sheet's row stream open
    when a write fails (a full disk): Python then prints their tracebacks ("Exception
    ignored in ZipFile.__del__") after the one-line error.  Here both are closed, and an
    error without a file name names ``out``.
    """
    if wb.write_only and not wb.worksheets:
        wb.create_sheet()  # as Workbook.save does
    wb.properties.modified = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None)
    with replacing(out) as part:  # an OSError names ``out``, not the temporary file
        archive = None
        try:
            # inside the try: a folder that cannot be written fails here, and the write-only
            # sheets' row streams still need closing
            archive = ZipFile(part, "w", ZIP_DEFLATED, allowZip64=True)
            ExcelWriter(wb, archive).save()
        except BaseException:
            _discard(wb, archive)
            raise


def _discard(wb: Workbook, archive: ZipFile | None) -> None:
    """Close what a failed save left open; their own errors repeat the one being raised."""
    for ws in wb.worksheets:
        rows, writer = getattr(ws, "_rows", None), getattr(ws, "_writer", None)
        for close in (getattr(rows, "close", None), getattr(writer, "close", None)):
            with contextlib.suppress(Exception):
                if close:
                    close()
        if writer is not None and getattr(writer, "out", None):
            with contextlib.suppress(Exception):
                writer.cleanup()
        if rows is not None:
            ws._rows = None
    if archive is not None:
        with contextlib.suppress(Exception):
            archive.close()
