"""Hostile and broken workbooks, written by hand with ``zipfile`` (a few KB each).

Each is a real .xlsx that Excel's own format allows: what it declares (a dimension, a cell
at the sheet's last address, a merged range to the end of the sheet, a million empty rows)
is what makes a careless reader allocate gigabytes.

>>> import tempfile
>>> far_cell(Path(tempfile.mkdtemp()) / "x.xlsx").stat().st_size < 3000
True
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HEADERS = (
    "序号",
    "村(社区)",
    "户主姓名",
    "成员姓名",
    "与户主关系",
    "身份证号码",
    "保障类别",
    "月保障金(元)",
)

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def col_letter(col: int) -> str:
    """0 -> 'A'."""
    out = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def cell(ref: str, value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def row(r: int, values) -> str:
    """Row ``r`` (1-based) with ``values`` from column A."""
    cells = "".join(cell(f"{col_letter(c)}{r}", v) for c, v in enumerate(values))
    return f'<row r="{r}">{cells}</row>'


def header_rows() -> list[str]:
    return [row(1, ["青山镇农村低保花名册"]), row(2, HEADERS)]


def data_row(r: int, seq: int = 1, amount: object = 500) -> str:
    return row(r, [seq, "红旗村", "张三", "张三", "户主", "341623195001010011", "一类", amount])


def write_xlsx(
    path: Path,
    rows,
    dimension: str | None = None,
    merges=(),
    sheet: str = "农村低保",
    raw_rows: bytes | None = None,
) -> Path:
    """A one-sheet workbook; ``rows`` are ``<row>`` strings, ``raw_rows`` pre-encoded ones
    (streamed into the zip, so a million rows cost little memory here too)."""
    head = _SHEET_HEAD + (f'<dimension ref="{dimension}"/>' if dimension else "") + "<sheetData>"
    tail = "</sheetData>"
    if merges:
        tail += f'<mergeCells count="{len(merges)}">'
        tail += "".join(f'<mergeCell ref="{m}"/>' for m in merges) + "</mergeCells>"
    tail += "</worksheet>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK.format(name=escape(sheet)))
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(head.encode())
            f.write("".join(rows).encode())
            if raw_rows:
                f.write(raw_rows)
            f.write(tail.encode())
    return path


def far_cell(path: Path) -> Path:
    """A roster whose last cell is XFD1048576 (the sheet's last address): 1.7 KB."""
    rows = [*header_rows(), data_row(3), row(1048576, [""] * 0)]
    rows[-1] = f'<row r="1048576">{cell("XFD1048576", "x")}</row>'
    return write_xlsx(path, rows, dimension="A1:XFD1048576")


def far_dimension(path: Path) -> Path:
    """A small roster that declares its dimension as the whole sheet."""
    return write_xlsx(path, [*header_rows(), data_row(3)], dimension="A1:XFD1048576")


def merged_to_the_end(path: Path) -> Path:
    """A small roster with a merged range ``K2:XFD1048576``."""
    return write_xlsx(
        path, [*header_rows(), data_row(3)], dimension="A1:H3", merges=["K2:XFD1048576"]
    )


def header_only(path: Path) -> Path:
    return write_xlsx(path, header_rows(), dimension="A1:H2")


def empty_rows(path: Path, n: int = 1_000_000, cells: bool = True) -> Path:
    """The header, then ``n`` rows holding only empty strings (or no cells at all)."""
    body = bytearray()
    for r in range(3, n + 3):
        if cells:
            body += f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t></t></is></c></row>'.encode()
        else:
            body += f'<row r="{r}"/>'.encode()
    return write_xlsx(path, header_rows(), raw_rows=bytes(body))


def nan_amount(path: Path, value: str = "NaN") -> Path:
    """One household whose amount cell holds a number that is not one (NaN, INF)."""
    r = data_row(3)
    r = r.replace("<v>500</v>", f"<v>{value}</v>")
    return write_xlsx(path, [*header_rows(), r], dimension="A1:H3")


def zip_bomb(path: Path, mb: int = 600, zip64: bool = True) -> Path:
    """A roster whose sheet inflates to ``mb`` MB of whitespace (a zip bomb)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK.format(name="农村低保"))
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=zip64) as f:
            f.write((_SHEET_HEAD + "<sheetData>" + "".join(header_rows())).encode())
            block = b" " * (1 << 20)
            for _ in range(mb):
                f.write(block)
            f.write(b"</sheetData></worksheet>")
    return path


def lying_bomb(path: Path, mb: int = 600) -> Path:
    """A zip bomb whose headers say its sheet inflates to 1,000 bytes."""
    zip_bomb(path, mb, zip64=False)
    data = bytearray(path.read_bytes())
    for sig, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = data.find(sig)
        while pos >= 0:
            if int.from_bytes(data[pos + at : pos + at + 4], "little") > 100 << 20:
                data[pos + at : pos + at + 4] = (1000).to_bytes(4, "little")
            pos = data.find(sig, pos + 4)
    path.write_bytes(bytes(data))
    return path


_ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content '
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="农村低保">'
)


def ods_cell(value: object, repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    if isinstance(value, (int, float)):
        return (
            f'<table:table-cell{rep} office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell{rep} office:value-type="string"><text:p>{escape(str(value))}'
        "</text:p></table:table-cell>"
    )


def ods_row(cells: str, repeat: int = 1) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{rep}>{cells}</table:table-row>"


def write_ods(path: Path, rows: list[str]) -> Path:
    """A one-sheet OpenDocument spreadsheet; trailing empty cells and rows repeated to the
    end of the sheet, as LibreOffice writes them."""
    body = _ODS_HEAD + "".join(rows)
    body += '<table:table-row table:number-rows-repeated="1048000">'
    body += '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    body += "</table:table></office:spreadsheet></office:body></office:document-content>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "mimetype",
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        z.writestr("content.xml", body)
        z.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
            'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            "</manifest:manifest>",
        )
    return path


def ods_roster(path: Path) -> Path:
    head = (
        "".join(ods_cell(h) for h in HEADERS)
        + '<table:table-cell table:number-columns-repeated="16376"/>'
    )
    data = "".join(
        ods_cell(v)
        for v in (1, "红旗村", "张三", "张三", "户主", "341623195001010011", "一类", 500)
    )
    return write_ods(
        path, [ods_row(ods_cell("青山镇农村低保花名册")), ods_row(head), ods_row(data)]
    )


def ods_bomb(path: Path, rows: int = 5000) -> Path:
    """One cell holding a value, repeated 16,384 times in a row repeated ``rows`` times."""
    return write_ods(path, [ods_row(ods_cell("x", 16384), rows)])
