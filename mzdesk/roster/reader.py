"""Read the cells of a workbook: values with their cell types, merged ranges.

python-calamine reads .xlsx/.xls/.ods about 8x faster than openpyxl and keeps
what an importer must know: a number cell stays a ``float``/``int`` (an ID typed
as a number is detectable), a text cell stays ``str``, and merged ranges are
reported so a household's merged cells can be spread over its member rows.

Everything that is not a readable workbook raises :class:`UnreadableWorkbook`
with a one-line reason in Chinese (exit 2 on the CLI); nothing else happens.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..models.errors import MzError

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")


class UnreadableWorkbook(MzError):
    """The file is not a workbook we can read (empty, wrong type, protected, damaged)."""

    code = "unreadable_file"


@dataclass
class Sheet:
    """One worksheet as a grid of cell values (0-based rows and columns).

    ``merged_from[(r, c)]`` is the top-left cell of the merged range that
    covers ``(r, c)`` (only for covered cells other than the top-left one).
    """

    name: str
    rows: list[list]
    merged_from: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


def _sniff(path: Path) -> str:
    if not path.exists():
        raise UnreadableWorkbook(f"文件不存在: {path}")
    if path.is_dir():
        raise UnreadableWorkbook(f"这是一个文件夹，不是Excel文件: {path}")
    size = path.stat().st_size
    if size == 0:
        raise UnreadableWorkbook(f"文件是空的(0字节): {path.name}")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                bad = zf.testzip()
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise UnreadableWorkbook(f"文件已损坏(压缩包不完整): {path.name}: {exc}") from None
        if bad is not None:
            raise UnreadableWorkbook(f"文件已损坏(压缩包内 {bad} 校验失败): {path.name}")
        if "xl/workbook.xml" not in names and "content.xml" not in names:
            raise UnreadableWorkbook(f"这是压缩包但不是Excel工作簿: {path.name}")
        return "xlsx"
    if head.startswith(OLE2_MAGIC):
        data = path.read_bytes()
        if _ENCRYPTED_MARK in data:
            raise UnreadableWorkbook(
                f"工作簿设置了打开密码，请在Excel/WPS中取消密码后另存再导入: {path.name}"
            )
        return "xls"
    raise UnreadableWorkbook(f"不是Excel工作簿(.xlsx/.xls): {path.name}")


def check_workbook(path: str | Path) -> str:
    """Raise :class:`UnreadableWorkbook` unless ``path`` looks like a workbook; returns 'xlsx'/'xls'."""
    return _sniff(Path(path))


def read_workbook(path: str | Path, sheets: list[str] | None = None) -> list[Sheet]:
    """Every (or the named) worksheet of ``path`` with values and merged cells."""
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    path = Path(path)
    _sniff(path)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except PasswordError:
        raise UnreadableWorkbook(f"工作簿设置了打开密码: {path.name}") from None
    except (CalamineError, ValueError, OSError) as exc:
        raise UnreadableWorkbook(f"无法读取工作簿 {path.name}: {exc}") from None
    out: list[Sheet] = []
    try:
        for name in wb.sheet_names:
            if sheets is not None and name not in sheets:
                continue
            try:
                ws = wb.get_sheet_by_name(name)
                rows = ws.to_python(skip_empty_area=False)
                merged = ws.merged_cell_ranges or []
            except PasswordError:
                raise UnreadableWorkbook(f"工作簿设置了打开密码: {path.name}") from None
            except (CalamineError, ValueError) as exc:
                raise UnreadableWorkbook(f"无法读取工作表“{name}”: {exc}") from None
            sheet = Sheet(name=name, rows=rows)
            for (r0, c0), (r1, c1) in merged:
                for r in range(r0, r1 + 1):
                    for c in range(c0, c1 + 1):
                        if (r, c) != (r0, c0):
                            sheet.merged_from[(r, c)] = (r0, c0)
            out.append(sheet)
    finally:
        wb.close()
    if not any(any(v not in ("", None) for v in row) for s in out for row in s.rows):
        raise UnreadableWorkbook(f"工作簿里没有任何数据: {path.name}")
    return out


def formula_cells(path: str | Path, sheet: str,
                  cells: set[tuple[int, str]]) -> dict[tuple[int, str], str]:  # fmt: skip
    """Which of ``cells`` ((Excel row, column letter)) of an .xlsx hold a formula, with it.

    calamine gives only the saved result of a formula, empty when none was saved; openpyxl
    reads the formula itself.  Slow (read-only openpyxl), so only for the few empty cells
    that matter.
    """
    from openpyxl import load_workbook
    from openpyxl.utils import column_index_from_string

    if not cells:
        return {}
    cols = {letter: column_index_from_string(letter) - 1 for _, letter in cells}
    lo, hi = min(r for r, _ in cells), max(r for r, _ in cells)
    out = {}
    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        if sheet not in wb.sheetnames:
            return {}
        rows = wb[sheet].iter_rows(min_row=lo, max_row=hi, values_only=True)
        for r, values in enumerate(rows, lo):
            for letter, c in cols.items():
                v = values[c] if c < len(values) else None
                if (r, letter) in cells and isinstance(v, str) and v.startswith("="):
                    out[(r, letter)] = v
    finally:
        wb.close()
    return out


def column_letter(col: int) -> str:
    """0 -> 'A', 27 -> 'AB'."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
