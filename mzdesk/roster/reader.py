"""Read the cells of a workbook: values with their cell types, merged ranges.

python-calamine reads .xlsx/.xls/.ods about 8x faster than openpyxl and keeps
what an importer must know: a number cell stays a ``float``/``int`` (an ID typed
as a number is detectable), a text cell stays ``str``, and merged ranges are
reported so a household's merged cells can be spread over its member rows.

Everything that is not a readable workbook raises :class:`UnreadableWorkbook`
with a one-line reason in Chinese (exit 2 on the CLI); nothing else happens.

Before calamine touches a file, :func:`check_workbook` reads it within limits (zip members
and their inflated sizes; each worksheet's cells holding a value, merged ranges, an
OpenDocument sheet's repeat counts; an .xls's size): a workbook beyond what a roster can be
is :class:`TooLarge`, refused in a few milliseconds and a few MB, instead of making calamine
allocate its grid (one cell at XFD1048576: 512 GB and an abort).  See docs/performance.md,
"Hostile inputs".
"""

from __future__ import annotations

import functools
import html
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..models.errors import MzError

# -- limits checked before any reader touches the file ----------------------------------------
# A workbook is a zip of XML that declares where its cells are: one cell at XFD1048576 makes
# python-calamine allocate the whole grid up to it (17 G cells × 32 bytes: 512 GB, rc 134), a
# merged range to the end of the sheet makes the merged-cell map as large, and a few MB of
# zip inflate to gigabytes.  So the zip and every worksheet are read first, streamed, with
# these limits.  A roster is at most ~100k rows × ~60 columns; calamine holds 32 bytes per
# cell of the grid and Python 8 more, so MAX_AREA bounds what reading can cost (~250 MB).
MAX_ROWS = 200_000
MAX_COLS = 200
MAX_AREA = 6_000_000  # cells of the grid from A1 to the last cell holding a value
MAX_MERGES = 500_000  # merged ranges in one sheet (a 50k-member roster has ~120k)
MAX_MERGED_CELLS = MAX_AREA  # cells covered by all merged ranges of one sheet
MAX_MEMBERS = 2_000  # files inside the zip
MAX_SHEET_BYTES = 512 << 20  # one worksheet's XML inflated: 200k rows × 30 text cells ~ 300 MB
MAX_PART_BYTES = 128 << 20  # any other part (shared strings are held in memory whole)
MAX_TOTAL_BYTES = 768 << 20  # everything inflated
MAX_XLS_BYTES = 64 << 20  # an .xls (at most 65,536 rows × 256 columns) is rarely 10 MB
MAX_TAG_BYTES = 1 << 20  # one XML start tag (Excel's cell text is at most 32,767 characters)

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")


class UnreadableWorkbook(MzError):
    """The file is not a workbook we can read (empty, wrong type, protected, damaged)."""

    code = "unreadable_file"


class TooLarge(UnreadableWorkbook):
    """A workbook beyond what a roster can be: refused before it is read."""

    code = "workbook_too_large"


@functools.lru_cache(maxsize=4096)
def _col_index(letters: str | bytes) -> int:
    """'A' -> 1, 'XFD' -> 16384 (1-based, as Excel counts)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch if isinstance(ch, int) else ord(ch)) - 64
    return n


_REF = re.compile(r"\$?([A-Za-z]+)\$?([0-9]+)")


def _parse_ref(ref: str) -> tuple[int, int] | None:
    """'B7' -> (7, 2), 1-based (row, column); None if it is not a cell reference."""
    m = _REF.fullmatch(ref.strip())
    if m is None or len(m.group(1)) > 8 or len(m.group(2)) > 12:
        return None
    return int(m.group(2)), _col_index(m.group(1))


# The fast path reads tags as Excel, WPS and openpyxl write them (no prefix, the reference
# first), in one pass: _FAST finds the cells holding a value (not self-closing) in column AA
# or beyond or in row 100,000 or beyond, the only ones that can pass a limit or make the area
# more than 26 columns × 99,999 rows, and every cell whose reference is left out (allowed: it
# follows the cell before) or not first (an empty group: the general path reads the sheet).
_FAST = re.compile(
    rb'<c(?:[>/]|\s(?!r="[A-Z])|\sr="([A-Z]{2,}[0-9]+|[A-Z]0*[1-9][0-9]{5,})"[^>]*?(?<!/)>)'
)
_PREFIXED = re.compile(rb":(?:c|row|mergeCell)[\s/>]")  # a prefix, or text that looks like one
_NEAR = (99_999, 26)  # rows, columns: what a sheet without far cells may reach
_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*?(/?)>')  # every cell (exact pass)
# the general path: any prefix, any attribute order, references left out
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|mergeCell)(?=[\s/>])([^>]*)>")
_ATTR_R = re.compile(rb"""(?:^|\s)r\s*=\s*["']([^"']*)["']""")


class _SheetScan:
    """The extent of one worksheet's cells holding a value, fed its XML in whole tags.

    calamine allocates its grid by these cells (not by the declared ``<dimension>``, and not
    by cells that only carry a style), from the first to the last; the Python rows start at
    A1.  ``mode``: "fast" (only far cells), "exact" (every cell, for a wide sheet whose area
    the fast pass cannot bound) or "general" (tag by tag)."""

    def __init__(self, sheet: str, file: str, mode: str = "fast"):
        self.sheet, self.file, self.mode = sheet, file, mode
        self.max_row = self.max_col = 0
        self.merges = 0
        self.row = self.col = 0  # the general path's position

    def refuse(self, what: str) -> TooLarge:
        return TooLarge(
            f"{self.file}: 工作表“{self.sheet}”{what}，不像是花名册，拒绝读取"
            "（请检查文件，或把花名册复制到新工作簿另存后再导入）"
        )

    def cell(self, row: int, col: int) -> None:
        if row > MAX_ROWS or col > MAX_COLS:
            limit = f"{MAX_ROWS:,} 行" if row > MAX_ROWS else f"{MAX_COLS} 列"
            raise self.refuse(f"在 {column_letter(col - 1)}{row} 有数据，超过 {limit}的上限")
        if row > self.max_row:
            self.max_row = row
        if col > self.max_col:
            self.max_col = col

    def feed(self, chunk: bytes) -> bool:
        """Scan ``chunk``; False if the fast path met a tag it does not read."""
        if self.mode == "general":
            self.general(chunk)
            return True
        far = _FAST.findall(chunk) if self.mode == "fast" else []
        if b"" in far or _PREFIXED.search(chunk):
            return False
        self.merges += chunk.count(b"<mergeCell ")
        if self.merges > MAX_MERGES:
            raise self.refuse(f"有超过 {MAX_MERGES:,} 处合并单元格")
        found: list[tuple]  # (column letters, row digits): bytes when exact, else str
        if self.mode == "exact":
            found = [(c, r) for c, r, closed in _CELL.findall(chunk) if not closed]
        else:  # every reference _FAST captures is one _REF matches
            found = [m.groups() for m in (_REF.fullmatch(ref.decode()) for ref in far) if m]
        if found:  # compare per distinct value (a column repeats on every row)
            col = max(map(_col_index, {c for c, _r in found}))
            row = max(map(int, {r for _c, r in found}))
            if row > MAX_ROWS or col > MAX_COLS:
                for c, r in found:  # name the first such cell
                    self.cell(int(r), _col_index(c))
            self.cell(row, col)
        return True

    def general(self, chunk: bytes) -> None:
        """Tag by tag, placing a cell without a reference as calamine does: a row follows
        the row before, a cell the cell before it in its row."""
        for m in _TAG.finditer(chunk):
            name, attrs = m.group(1), m.group(2)
            if name == b"mergeCell":
                self.merges += 1
                if self.merges > MAX_MERGES:
                    raise self.refuse(f"有超过 {MAX_MERGES:,} 处合并单元格")
                continue
            r = _ATTR_R.search(attrs)
            if name == b"row":
                num = r.group(1) if r else b""
                self.row = int(num) if num.isdigit() and len(num) < 12 else self.row + 1
                self.col = 0
                continue
            at = _parse_ref(r.group(1).decode("ascii", "replace")) if r else None
            row, col = at if at else (max(self.row, 1), self.col + 1)
            self.row, self.col = row, col
            if not attrs.rstrip().endswith(b"/"):  # a cell with only a style holds no value
                self.cell(row, col)

    def needs_exact(self) -> bool:
        """Whether the fast pass's bound on the area is too loose to pass it."""
        rows, cols = max(self.max_row, _NEAR[0]), max(self.max_col, _NEAR[1])
        return self.mode == "fast" and rows * cols > MAX_AREA

    def finish(self) -> None:
        area = self.max_row * self.max_col
        if area > MAX_AREA:
            raise self.refuse(
                f"的数据区域 A1:{column_letter(self.max_col - 1)}{self.max_row} 共 {area:,} "
                f"个单元格，超过 {MAX_AREA:,} 的上限"
            )


_ODS_TAG = re.compile(
    rb"<(/?)(?:[\w.-]+:)?(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*)>"
)
_ODS_REPEAT = re.compile(rb"""number-(?:rows|columns)-repeated\s*=\s*["']([0-9]+)["']""")
_ODS_NAME = re.compile(rb"""(?:^|\s)(?:[\w.-]+:)?name\s*=\s*["']([^"']*)["']""")


class _OdsScan(_SheetScan):
    """The same limits for an OpenDocument spreadsheet (``content.xml``), whose rows and cells
    carry repeat counts instead of references: a cell holding a value repeated 16,384 times
    in a row repeated a million times is a 17 G-cell grid in a few hundred bytes."""

    def __init__(self, file: str):
        super().__init__("", file, "general")
        self.rows = self.width = 0
        self.valued = False
        self.repeat = 1

    def feed(self, chunk: bytes) -> bool:
        for m in _ODS_TAG.finditer(chunk):
            closing, name, attrs = m.group(1), m.group(2), m.group(3)
            n = _ODS_REPEAT.search(attrs)
            repeat = int(n.group(1)[:12]) if n else 1
            ends = closing or attrs.rstrip().endswith(b"/")
            if name == b"table" and not closing:
                self.finish()
                found = _ODS_NAME.search(attrs)
                self.sheet = (
                    html.unescape(found.group(1).decode("utf-8", "replace")) if found else ""
                )
                self.max_row = self.max_col = self.rows = 0
            elif name == b"table-row":
                if not closing:
                    self.repeat, self.col, self.width, self.valued = repeat, 0, 0, False
                if ends:
                    self.rows += self.repeat
                    if self.valued:  # the last of its repeats is where the grid ends
                        self.cell(self.rows, self.width)
            elif name != b"table" and not closing:
                self.col += repeat
                if not ends or b"value-type" in attrs:
                    self.valued, self.width = True, self.col
                    self.cell(self.rows + 1, self.col)
        return True


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


_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\s([^>]*)>")
_REL_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship\s([^>]*)>")


def _attr(attrs: bytes, name: bytes) -> str | None:
    m = re.search(rb"(?:^|\s)(?:[\w.-]+:)?" + name + rb"""\s*=\s*["']([^"']*)["']""", attrs)
    return html.unescape(m.group(1).decode("utf-8", "replace")) if m else None


def _worksheets(zf: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Zip member -> sheet name, for every part a reader may take as a worksheet."""

    def small(name: str) -> bytes:
        info = zf.getinfo(name) if name in names else None
        if info is None or info.file_size > 4 << 20:
            return b""
        with zf.open(info) as f:  # zf.read() would inflate up to 2 GiB before the cut
            return f.read(info.file_size)

    targets = {}
    for m in _REL_TAG.finditer(small("xl/_rels/workbook.xml.rels")):
        rid, target = _attr(m.group(1), b"Id"), _attr(m.group(1), b"Target")
        if rid and target:
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            targets[rid] = posixpath.normpath(path)
    out = {
        n: posixpath.basename(n)
        for n in names
        if n.startswith("xl/worksheets/") and n.endswith(".xml")
    }
    for m in _SHEET_TAG.finditer(small("xl/workbook.xml")):
        target = targets.get(_attr(m.group(1), b"id") or "")
        if target in names:
            out[target] = _attr(m.group(1), b"name") or posixpath.basename(target)
    return out


def _too_large(path: Path, what: str) -> TooLarge:
    return TooLarge(f"{path.name}: {what}，不像是花名册，拒绝读取")


def _scan(zf: zipfile.ZipFile, info: zipfile.ZipInfo, scan: _SheetScan | None) -> bool:
    """Read one member to its end (zipfile stops at its declared size and checks its CRC),
    feeding a worksheet's XML to ``scan`` in whole tags; False if the fast path gave up."""
    carry = b""
    with zf.open(info) as f:
        while chunk := f.read(1 << 20):
            if scan is None:
                continue
            buf = carry + chunk
            cut = buf.rfind(b"<")  # a tag cut by the piece's end waits for the next piece
            if cut >= 0 and buf.find(b">", cut) < 0:
                buf, carry = buf[:cut], buf[cut:]
                if len(carry) > MAX_TAG_BYTES:
                    raise scan.refuse(f"有一个超过 {MAX_TAG_BYTES >> 20} MB 的XML标签")
            else:
                carry = b""
            if not scan.feed(buf):
                return False
    return scan is None or scan.feed(carry)


def _inspect_zip(path: Path, zf: zipfile.ZipFile) -> None:
    """Limits on the zip and on every worksheet's cells and merged ranges, streamed, before
    any reader allocates anything by what the file declares."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _too_large(path, f"压缩包内有 {len(infos):,} 个文件，超过 {MAX_MEMBERS:,} 的上限")
    names = {i.filename for i in infos}
    sheets = _worksheets(zf, names)
    total = 0
    for info in infos:
        limit = MAX_SHEET_BYTES if info.filename in sheets else MAX_PART_BYTES
        total += info.file_size
        if info.file_size > limit or total > MAX_TOTAL_BYTES:
            raise _too_large(
                path,
                f"压缩包内 {info.filename[:60]} 解压后 "
                f"{info.file_size / (1 << 20):,.0f} MB，超过上限（疑似压缩炸弹）",
            )
    ods = "xl/workbook.xml" not in names
    for info in infos:
        if ods and info.filename == "content.xml":
            scan: _SheetScan = _OdsScan(path.name)
            _scan(zf, info, scan)
            scan.finish()
            continue
        if info.filename not in sheets:
            _scan(zf, info, None)
            continue
        scan = _SheetScan(sheets[info.filename], path.name)
        if not _scan(zf, info, scan):  # an unusual writer: tag by tag from the top
            scan = _SheetScan(scan.sheet, path.name, "general")
            _scan(zf, info, scan)
        elif scan.needs_exact():  # a wide sheet: its area needs every cell
            scan = _SheetScan(scan.sheet, path.name, "exact")
            _scan(zf, info, scan)
        scan.finish()


_checked: dict[tuple, str] = {}  # the last file that passed: the CLI checks, then reads


def _sniff(path: Path) -> str:
    if not path.exists():
        raise UnreadableWorkbook(f"文件不存在：{path}")
    if path.is_dir():
        raise UnreadableWorkbook(f"这是一个文件夹，不是Excel文件：{path}")
    st = path.stat()
    size = st.st_size
    if size == 0:
        raise UnreadableWorkbook(f"文件是空的（0字节）：{path.name}")
    key = (str(path.resolve()), size, st.st_mtime_ns)
    if key in _checked:
        return _checked[key]
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                if "xl/workbook.xml" not in names and "content.xml" not in names:
                    raise UnreadableWorkbook(f"这是压缩包但不是Excel工作簿：{path.name}")
                _inspect_zip(path, zf)
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            EOFError,
            OSError,
            zlib.error,
            NotImplementedError,
        ) as exc:
            raise UnreadableWorkbook(f"文件已损坏（压缩包不完整）：{path.name}：{exc}") from None
        kind = "xlsx"
    elif head.startswith(OLE2_MAGIC):
        if size > MAX_XLS_BYTES:
            raise _too_large(
                path,
                f".xls 文件有 {size / (1 << 20):,.0f} MB，超过 {MAX_XLS_BYTES >> 20} MB 的上限",
            )
        data = path.read_bytes()
        if _ENCRYPTED_MARK in data:
            raise UnreadableWorkbook(
                f"工作簿设置了打开密码，请在Excel/WPS中取消密码后另存再导入：{path.name}"
            )
        kind = "xls"
    else:
        raise UnreadableWorkbook(f"不是Excel工作簿（.xlsx/.xls）：{path.name}")
    _checked.clear()
    _checked[key] = kind
    return kind


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
                _check_grid(path, name, ws.end)
                rows = ws.to_python(skip_empty_area=False)
                merged = ws.merged_cell_ranges or []
            except PasswordError:
                raise UnreadableWorkbook(f"工作簿设置了打开密码: {path.name}") from None
            except (CalamineError, ValueError) as exc:
                raise UnreadableWorkbook(f"无法读取工作表“{name}”: {exc}") from None
            sheet = Sheet(name=name, rows=rows)
            _check_merges(path, name, merged, len(rows), sheet.width)
            last_row, last_col = len(rows) - 1, sheet.width - 1
            for (r0, c0), (r1, c1) in merged:  # only the covered cells that exist
                for r in range(r0, min(r1, last_row) + 1):
                    for c in range(c0, min(c1, last_col) + 1):
                        if (r, c) != (r0, c0):
                            sheet.merged_from[(r, c)] = (r0, c0)
            out.append(sheet)
    finally:
        wb.close()
    if not any(any(v not in ("", None) for v in row) for s in out for row in s.rows):
        raise UnreadableWorkbook(f"工作簿里没有任何数据: {path.name}")
    return out


def _check_grid(path: Path, sheet: str, end: tuple[int, int] | None) -> None:
    """The grid calamine read, before it becomes Python lists: the .xlsx limits were checked
    on the XML already, this bounds an .xls or .ods too (their cells are not scanned)."""
    if end is None:
        return
    rows, cols = end[0] + 1, end[1] + 1
    if rows > MAX_ROWS or cols > MAX_COLS or rows * cols > MAX_AREA:
        raise TooLarge(
            f"{path.name}: 工作表“{sheet}”的数据区域 A1:{column_letter(cols - 1)}{rows} "
            f"超过 {MAX_ROWS:,} 行、{MAX_COLS} 列或 {MAX_AREA:,} 个单元格的上限，"
            "不像是花名册，拒绝读取"
        )


def _check_merges(path: Path, sheet: str, merged: list, rows: int, cols: int) -> None:
    """Merged ranges within the limits, covering at most MAX_MERGED_CELLS cells of the grid
    in all: each covered cell becomes an entry of ``Sheet.merged_from``."""
    covered = 0
    for (r0, c0), (r1, c1) in merged:
        if r1 >= MAX_ROWS or c1 >= MAX_COLS:
            ref = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
            raise TooLarge(
                f"{path.name}: 工作表“{sheet}”的合并单元格 {ref} 超出 {MAX_ROWS:,} 行"
                f" × {MAX_COLS} 列的上限，不像是花名册，拒绝读取"
            )
        covered += max(0, min(r1, rows - 1) - r0 + 1) * max(0, min(c1, cols - 1) - c0 + 1)
    if covered > MAX_MERGED_CELLS:
        raise TooLarge(
            f"{path.name}: 工作表“{sheet}”的合并单元格共覆盖 {covered:,} 个单元格，"
            f"超过 {MAX_MERGED_CELLS:,} 的上限，不像是花名册，拒绝读取"
        )


def formula_cells(
    path: str | Path, sheet: str, cells: set[tuple[int, str]]
) -> dict[tuple[int, str], str]:
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
