"""Hostile and broken workbooks are refused at the door (issue 18, items 3 and 7).

Each file is a few KB written by hand (tests/roster/hostile_books.py).  The import runs in a
child process, as a clerk runs it: one line on stderr, a non-zero exit, the database's
``.dump`` unchanged, and the child's peak memory at most 500 MB (before: a 512 GB allocation
and a Rust abort, rc 134, or memory exhausted by a merged range).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mzdesk.models.errors import FieldError
from mzdesk.models.money import parse_assistance, parse_yuan
from mzdesk.roster.importer import analyse
from mzdesk.roster.reader import UnreadableWorkbook, read_workbook
from tests.measure import PEAK_LIMIT_MB, dump_hash, mzdesk
from tests.roster import hostile_books as hb


@pytest.fixture
def db(store):
    return Path(store.path)


def refused_in_a_child(db: Path, path: Path, *extra: str) -> str:
    before = dump_hash(db)
    r = mzdesk("roster", "import", str(path), "--db", str(db), *extra, timeout=120)
    lines = r.err.strip().splitlines()
    assert r.code == 2, (r.code, r.err[-2000:])
    assert len(lines) == 1 and "Traceback" not in r.err and "内部错误" not in r.err, r.err
    assert r.peak_mb <= PEAK_LIMIT_MB, r.peak_mb
    assert dump_hash(db) == before
    return lines[0]


@pytest.mark.parametrize("dry", [False, True])
def test_a_cell_at_the_sheets_last_address(db, tmp_path, dry):
    path = hb.far_cell(tmp_path / "far.xlsx")
    assert path.stat().st_size < 2500
    line = refused_in_a_child(db, path, *(["--dry-run"] if dry else []))
    assert "workbook_too_large" in line and "“农村低保”" in line and "XFD1048576" in line


def test_a_merged_range_to_the_end_of_the_sheet(db, tmp_path):
    line = refused_in_a_child(db, hb.merged_to_the_end(tmp_path / "merged.xlsx"))
    assert "合并单元格 K2:XFD1048576" in line and "“农村低保”" in line


def test_a_million_rows_of_empty_strings(db, tmp_path):
    line = refused_in_a_child(db, hb.empty_rows(tmp_path / "rows.xlsx"))
    assert "workbook_too_large" in line and "200,000 行" in line


def test_a_zip_bomb(db, tmp_path):
    path = hb.zip_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 4 << 20
    line = refused_in_a_child(db, path)
    assert "sheet1.xml" in line and "压缩炸弹" in line


def test_a_zip_bomb_whose_headers_lie(db, tmp_path):
    """The declared size is a ceiling, never trusted as the truth: reading stops there."""
    line = refused_in_a_child(db, hb.lying_bomb(tmp_path / "liar.xlsx"))
    assert "损坏" in line


@pytest.mark.parametrize("dry", [False, True])
def test_a_header_only_sheet_is_no_import(db, store, tmp_path, dry):
    line = refused_in_a_child(
        db, hb.header_only(tmp_path / "head.xlsx"), *(["--dry-run"] if dry else [])
    )
    assert "no_data_rows" in line and "没有可导入的数据行" in line
    assert store.scalar("SELECT count(*) FROM import_batches") == 0


def test_a_million_rows_without_cells_is_no_import(db, tmp_path):
    """Rows that hold no cell at all cost calamine nothing; they are still not an import."""
    line = refused_in_a_child(db, hb.empty_rows(tmp_path / "bare.xlsx", cells=False))
    assert "没有可导入的数据行" in line


def test_blank_rows_under_the_header_are_no_import(store, tmp_path):
    rows = [*hb.header_rows(), *(hb.row(r, ["", " ", ""]) for r in range(3, 50))]
    path = hb.write_xlsx(tmp_path / "blank.xlsx", rows)
    with pytest.raises(UnreadableWorkbook) as e:
        analyse(store, path)
    assert e.value.code == "no_data_rows"


def test_a_declared_dimension_alone_is_not_refused(store, tmp_path):
    """Some writers declare the whole sheet: calamine allocates by the cells, so a small
    roster that says A1:XFD1048576 is read (and costs nothing)."""
    plan = analyse(store, hb.far_dimension(tmp_path / "dim.xlsx"))
    assert len(plan.households) == 1


def test_cells_with_only_a_style_far_away_are_read(tmp_path):
    """Excel writes a formatted empty cell as ``<c r=".." s="1"/>``: no value, no grid."""
    rows = [*hb.header_rows(), hb.data_row(3), '<row r="1048576"><c r="XFD1048576" s="1"/></row>']
    sheets = read_workbook(hb.write_xlsx(tmp_path / "styled.xlsx", rows))
    assert (len(sheets[0].rows), sheets[0].width) == (3, 8)


def test_cells_without_references_are_placed_and_bounded(tmp_path):
    """References are optional: a row follows the row before, a cell the cell before."""
    far = "<c><v>1</v></c>" * 300  # the 300th cell of the row is in column KN
    path = hb.write_xlsx(tmp_path / "norefs.xlsx", [*hb.header_rows(), f"<row>{far}</row>"])
    with pytest.raises(UnreadableWorkbook, match="GS3 有数据，超过 200 列"):
        read_workbook(path)
    rows = [*hb.header_rows(), *("<row/>" for _ in range(199_998)), "<row><c><v>1</v></c></row>"]
    with pytest.raises(UnreadableWorkbook, match="A200001 有数据，超过 200,000 行"):
        read_workbook(hb.write_xlsx(tmp_path / "rows.xlsx", rows))


def test_prefixed_elements_are_read_tag_by_tag(tmp_path):
    """The .NET Open XML SDK writes ``<x:row>``/``<x:c>``: the limits hold there too."""
    rows = [*hb.header_rows(), '<x:row r="5"><x:c r="ZZ5"><x:v>1</x:v></x:c></x:row>']
    path = hb.write_xlsx(tmp_path / "x.xlsx", rows)
    with pytest.raises(UnreadableWorkbook, match="ZZ5 有数据，超过 200 列"):
        read_workbook(path)


def test_a_wide_sparse_sheet_is_bounded_by_its_area(db, tmp_path):
    """One cell at GR60000: within 200 columns and 200,000 rows, but 12 M cells of grid
    (before: imported, at 491 MB)."""
    rows = [*hb.header_rows(), hb.data_row(3), f'<row r="60000">{hb.cell("GR60000", "x")}</row>']
    line = refused_in_a_child(db, hb.write_xlsx(tmp_path / "wide.xlsx", rows))
    assert "A1:GR60000 共 12,000,000 个单元格" in line


@pytest.mark.parametrize("value", ["NaN", "INF", "-INF"])
def test_a_nan_amount_is_a_row_problem(store, tmp_path, value):
    plan = analyse(store, hb.nan_amount(tmp_path / "nan.xlsx", value))
    [p] = [p for p in plan.problems if p.code == "bad_amount"]
    assert (p.row, p.column_letter, p.severity) == (3, "H", "error")
    assert "不是有效的数字" in p.message


def test_a_nan_amount_refuses_the_import_in_one_line(db, tmp_path):
    before = dump_hash(db)
    r = mzdesk("roster", "import", str(hb.nan_amount(tmp_path / "nan.xlsx")), "--db", str(db))
    assert r.code == 1 and "内部错误" not in r.err and len(r.err.strip().splitlines()) == 1
    assert "不是有效的数字" in r.err and r.peak_mb <= PEAK_LIMIT_MB
    assert dump_hash(db) == before


def test_money_floats_are_parsed_in_one_place():
    assert parse_yuan(980.1) == 98010 and parse_assistance(0.1 + 0.2) == 30
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(FieldError, match="不是有效的数字"):
            parse_assistance(bad)
    with pytest.raises(FieldError, match="两位小数"):
        parse_yuan(1.005001)


def test_an_opendocument_grid_of_repeated_cells(db, tmp_path):
    """5,000 rows × 16,384 columns of one repeated cell: 82 M cells, under calamine's own
    100 M limit (3 GB of grid) in a few hundred bytes."""
    path = hb.ods_bomb(tmp_path / "bomb.ods")
    assert path.stat().st_size < 2000
    line = refused_in_a_child(db, path)
    assert "“农村低保”" in line and "200 列" in line


def test_an_opendocument_roster_with_trailing_repeats_is_read(store, tmp_path):
    """LibreOffice repeats empty cells and rows to the sheet's end: those hold nothing."""
    plan = analyse(store, hb.ods_roster(tmp_path / "roster.ods"))
    assert len(plan.households) == 1 and plan.households[0].monthly_fen == 50000


def test_a_wide_but_short_sheet_is_read(tmp_path):
    """70 columns: the fast pass cannot bound the area (70 × 99,999 rows), so every cell is
    looked at; 1,000 rows × 70 columns is a small grid."""
    rows = [*hb.header_rows(), *(hb.row(r, [r] * 70) for r in range(3, 1003))]
    [sheet] = read_workbook(hb.write_xlsx(tmp_path / "wide.xlsx", rows))
    assert (len(sheet.rows), sheet.width) == (1002, 70)
    rows.append(f'<row r="90000">{hb.cell("BR90000", 1)}</row>')  # 90,000 × 70 = 6.3 M
    with pytest.raises(UnreadableWorkbook, match="A1:BR90000 共 6,300,000"):
        read_workbook(hb.write_xlsx(tmp_path / "wider.xlsx", rows))
