"""Roster import: the sample, rosters of other shapes, every problem code, all or nothing."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import Workbook

from mzdesk.models.progress import Cancelled
from mzdesk.models.registry import Registry
from mzdesk.roster.importer import ImportRefused, analyse, apply, import_roster, undo
from tests.helpers import household, make_id, require_tool
from tests.roster.books import FULLWIDTH, bad_check, household_per_row, ids, member_per_row

# a copy of ../shared/samples/roster_sample.xlsx and its expected counts, so CI has it
SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "roster_sample.xlsx"


def sample_path() -> Path:
    return SAMPLE


def counts(report: dict) -> Counter:
    return Counter(p["code"] for p in report["problems"])


def db_counts(store) -> tuple:
    return tuple(
        store.scalar(f"SELECT count(*) FROM {t}")
        for t in ("households", "members", "enrolments", "import_batches")
    )


# -- the shared sample ---------------------------------------------------------------------
def test_sample_yields_exactly_the_expected_figures(store, today):
    path = sample_path()
    expected = json.loads(path.with_name("roster_sample.expected.json").read_text())
    report = analyse(store, path, today=today).report()
    assert report["households"] == expected["households"]
    assert report["members"] == expected["members"]
    c = counts(report)
    assert c["id_checksum"] == expected["invalid_id_rows"]
    assert c["id_precision_lost"] == expected["float_id_rows"]
    assert c["id_duplicate_in_file"] == expected["duplicate_id_across_households"]
    assert sum(c.values()) == (
        expected["invalid_id_rows"]
        + expected["float_id_rows"]
        + expected["duplicate_id_across_households"]
    )
    assert report["blank_rows"] == expected["blank_rows"]
    assert report["total_rows"] == expected["total_row"]
    assert report["monthly_total_fen"] == expected["monthly_total_yuan"] * 100
    assert report["sheets"][0]["header_row"] == expected["layout"]["header_row"]
    assert report["sheets"][0]["mode"] == "member"


def test_sample_import_then_reimport_creates_no_duplicates(store, today):
    path = sample_path()
    first = import_roster(store, path, today=today)
    assert first["created"] == 120
    assert store.scalar("SELECT count(*) FROM members WHERE status = 'active'") == 358
    pending = store.scalar("SELECT count(*) FROM members WHERE id_pending = 1")
    assert pending == 12 + 7 + 1  # every flagged ID kept, marked 待核实
    again = import_roster(store, path, today=today)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 120)
    assert counts(again) == counts(first)
    assert store.scalar("SELECT count(*) FROM households WHERE status = 'active'") == 120


# -- other shapes ------------------------------------------------------------------------
def test_one_row_per_household_other_words_several_sheets(store, today, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["本表由村委会填写，身份证号请设为文本格式"])
    tk = wb.create_sheet("特困供养")
    tk.append(["青山镇特困人员名单"])
    a, b, c = make_id("19400101", 1), make_id("19420202", 3), make_id("19380303", 5)
    household_per_row(
        tk,
        [
            ("红旗村", "张老大", a, "全自理", "720.00"),
            ("红旗村", "李老二", " " + b.translate(FULLWIDTH) + " ", "半自理", 950),
            (None, None, None, None, None),
            ("向阳村", "王老三", c, "全护理", "1,100.5"),
            ("合  计", None, None, None, None),
        ],
        headers=("村居", "姓名", "公民身份号码", "自理能力", "供养金"),
    )
    db = wb.create_sheet("城市低保")
    d1, d2 = make_id("19700101", 7), make_id("19720101", 9)
    household_per_row(
        db,
        [
            (1, "新华社区", "户主甲", d1, "3", "A类", 1200),
            (2, "新华社区", "户主乙", d2, "2", "C类", 600),
        ],
        headers=("编号", "社区", "户主", "户主身份证号", "享受人数", "档次", "月补差"),
    )
    path = tmp_path / "multi.xlsx"
    wb.save(path)
    plan = analyse(store, path, today=today)
    report = plan.report()
    assert report["skipped_sheets"] == ["说明"]
    assert [s["category"] for s in report["sheets"]] == ["tekun", "urban_dibao"]
    assert all(s["mode"] == "household" for s in report["sheets"])
    assert (report["households"], report["members"]) == (5, 5)
    assert report["problems"] == []
    assert report["monthly_total_fen"] == 72000 + 95000 + 110050 + 120000 + 60000
    assert report["blank_rows"] == 1 and report["total_rows"] == 1
    classes = sorted(fh.cls for fh in plan.households)
    assert classes == ["一类", "三类", "全护理", "全自理", "半自理"]
    summary = apply(store, plan, today=today)
    assert summary["created"] == 5
    rows = store.conn.execute(
        "SELECT category, class, covered, monthly_fen, member_id IS NOT NULL FROM enrolments "
        "ORDER BY id"
    ).fetchall()
    assert rows[0] == ("tekun", "全自理", 1, 72000, 1)  # person unit: enrolled on the person
    assert rows[3] == ("urban_dibao", "一类", 3, 120000, 0)
    assert store.scalar("SELECT id_number FROM members WHERE name = '李老二'") == b


def test_two_row_header_no_merges_repeated_household_cells(store, today, tmp_path):
    """.xls-era layout: a group heading over member columns, household cells repeated."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["2026年农村最低生活保障花名册"])
    ws.append(["户编号", "村", "户主", "家庭成员", None, None, "类别", "保障金额"])
    ws.append([None, None, None, "姓名", "关系", "身份证号", None, None])
    ws.merge_cells("D2:F2")
    p1, p2, p3 = make_id("19600101", 1), make_id("19620101", 2), make_id("19900101", 3)
    ws.append([7, "李庄村", "赵一", "赵一", "本人", p1, "二类", 800])
    ws.append([7, "李庄村", "赵一", "钱二", "妻", p2, "二类", 800])
    ws.append([8, "李庄村", "孙三", "孙三", "户主", p3, "B类", 400])
    path = tmp_path / "two_row.xlsx"
    wb.save(path)
    plan = analyse(store, path, today=today)
    rep = plan.report()
    assert rep["sheets"][0]["header_row"] == 2 and rep["sheets"][0]["category"] == "rural_dibao"
    assert (rep["households"], rep["members"]) == (2, 3), rep
    assert rep["problems"] == []
    assert [m.relation for m in plan.households[0].household.members] == ["户主", "配偶"]
    assert rep["monthly_total_fen"] == 120000


def test_unmerged_member_rows_and_relation_words(store, today, tmp_path):
    """Household cells left blank (not merged) on member rows; 子女 resolved from the ID."""
    son, daughter = make_id("20100101", 11), make_id("20120101", 12)
    member_per_row(
        tmp_path / "blank.xlsx",
        [
            {
                "village": "王楼村",
                "members": [
                    ("周一", "户主", make_id("19750101", 1)),
                    ("周子", "子女", son),
                    ("周女", "子女", daughter),
                ],
            },
            {"village": "王楼村", "members": [("吴二", "户主", make_id("19760101", 3))]},
        ],
        merge=False,
    )
    plan = analyse(store, tmp_path / "blank.xlsx", today=today)
    assert plan.report()["problems"] == []
    assert [m.relation for m in plan.households[0].household.members] == ["户主", "子", "女"]


# -- problem codes -------------------------------------------------------------------------
def test_every_reason_code_with_its_cell(store, registry, today, tmp_path):
    registry.save(household("外村", ("已登记", "户主", make_id("19500101", 99))))
    a, b = ids(2, "19800101")
    future = "341623" + "20990101" + "001"
    member_per_row(
        tmp_path / "bad.xlsx",
        [
            {
                "village": "甲村",
                "members": [("甲", "户主", bad_check(a)), ("乙", "配偶", 341623198001010000)],
            },
            {"village": "甲村", "members": [("丙", "户主", future + "X"), ("丁", "子", b)]},
            {"village": "甲村", "members": [("戊", "户主", b)]},
            {"village": "甲村", "members": [("己", "户主", make_id("19500101", 99))]},
            {"village": "甲村", "members": [("", "户主", make_id("19600101", 5))]},
            {
                "village": "甲村",
                "amount": "五百",
                "members": [("庚", "户主", make_id("19600101", 7))],
            },
            {
                "village": "甲村",
                "class": "特级",
                "members": [("辛", "户主", make_id("19600101", 9))],
            },
        ],
        title_rows=2,
    )
    before = db_counts(store)
    report = analyse(store, tmp_path / "bad.xlsx", today=today).report()
    got = {(p["row"], p["code"]) for p in report["problems"]}
    # title rows 1-2, header row 3, data from row 4
    assert (4, "id_checksum") in got
    assert (5, "id_precision_lost") in got
    assert (6, "id_bad_date") in got
    assert (8, "id_duplicate_in_file") in got
    assert (9, "probable_duplicate") in got  # another head's ID, name and village: which?
    assert (10, "missing_required") in got
    assert (11, "bad_amount") in got
    assert (12, "unknown_value") in got  # 特级: listed once, only that row held back
    p = next(p for p in report["problems"] if p["code"] == "id_precision_lost")
    assert (p["sheet"], p["column"], p["column_letter"]) == ("农村低保", "身份证号码", "H")
    assert p["value"].startswith("341623198001010")
    c = counts(report)
    assert c["id_checksum"] == 1 and c["id_precision_lost"] == 1  # one code per cell
    with pytest.raises(ImportRefused, match="未导入任何数据"):
        import_roster(store, tmp_path / "bad.xlsx", today=today)
    assert db_counts(store) == before


def test_missing_category_is_reported(store, today, tmp_path):
    member_per_row(
        tmp_path / "x.xlsx",
        [{"village": "甲村", "members": [("甲", "户主", make_id("19600101", 1))]}],
        sheet="Sheet1",
        title_rows=0,
    )
    report = analyse(store, tmp_path / "x.xlsx", today=today).report()
    assert counts(report)["unknown_category"] == 1
    ok = analyse(store, tmp_path / "x.xlsx", mapping={"category": "农村低保"}, today=today)
    assert ok.report()["problems"] == []


# -- writing -------------------------------------------------------------------------------
def _roster(tmp_path, n=30, amount=500, name="r.xlsx"):
    hh = [
        {
            "village": f"村{i % 3}",
            "amount": amount,
            "members": [
                (f"户主{i}", "户主", make_id("19700101", 2 * i + 1)),
                (f"配偶{i}", "配偶", make_id("19710101", 2 * i + 2)),
            ],
        }
        for i in range(n)
    ]
    member_per_row(tmp_path / name, hh)
    return tmp_path / name


def test_cancel_leaves_database_unchanged(store, today, tmp_path):
    path = _roster(tmp_path)
    plan = analyse(store, path, today=today)
    before = db_counts(store)
    with pytest.raises(Cancelled):
        apply(store, plan, today=today, cancel=lambda: True)
    assert db_counts(store) == before


def test_changed_amount_updates_and_undo_restores(store, today, tmp_path):
    import_roster(store, _roster(tmp_path), today=today)
    assert (
        store.scalar("SELECT sum(monthly_fen) FROM enrolments WHERE status='active'") == 30 * 50000
    )
    rep = import_roster(store, _roster(tmp_path, amount=600, name="r2.xlsx"), today=today)
    assert (rep["created"], rep["updated"], rep["unchanged"]) == (0, 30, 0)
    assert (
        store.scalar("SELECT sum(monthly_fen) FROM enrolments WHERE status='active'") == 30 * 60000
    )
    assert store.scalar("SELECT count(*) FROM enrolments") == 30
    undo(store)
    assert (
        store.scalar("SELECT sum(monthly_fen) FROM enrolments WHERE status='active'") == 30 * 50000
    )
    undo(store)
    assert store.scalar("SELECT count(*) FROM households WHERE status = 'active'") == 0
    assert store.scalar("SELECT count(*) FROM enrolments WHERE status = 'active'") == 0
    # the IDs are free again: the same file imports cleanly
    assert import_roster(store, _roster(tmp_path), today=today)["created"] == 30


def test_undo_refused_after_a_household_was_edited(store, today, tmp_path):
    import_roster(store, _roster(tmp_path, n=3), today=today)
    reg = Registry(store)
    h = reg.get(store.scalar("SELECT min(id) FROM households"))
    h.phone = "13800000000"
    reg.save(h)
    with pytest.raises(Exception, match="已被修改"):
        undo(store)
    assert store.scalar("SELECT count(*) FROM households WHERE status = 'active'") == 3


def test_remembered_mapping_is_used_next_time(store, today, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "农村低保"
    household_per_row(
        ws,
        [("甲村", "户主甲", make_id("19600101", 1), "一类", 100, "x")],
        headers=("村", "户主", "身份证号", "类别", "金额", "代码"),
    )
    path = tmp_path / "m.xlsx"
    wb.save(path)
    mapping = {"columns": {"代码": "notes", "E": "monthly"}}
    plan = analyse(store, path, mapping=mapping, today=today)
    assert plan.layouts[0].columns["notes"] == 5
    apply(store, plan, today=today)
    again = analyse(store, path, today=today)
    assert again.layouts[0].columns.get("notes") == 5
    assert "上次保存" in again.layouts[0].notes[0]


@pytest.mark.slow
def test_xls_saved_by_an_old_excel(store, today, tmp_path):
    """A real .xls (BIFF8, via LibreOffice): merged cells and number-typed IDs survive."""
    import subprocess

    soffice = require_tool("soffice", "libreoffice")
    member_per_row(
        tmp_path / "old.xlsx",
        [
            {
                "village": "甲村",
                "members": [
                    ("甲", "户主", make_id("19600101", 1)),
                    ("乙", "配偶", 341623196101010000),
                    ("丙", "子", make_id("19900101", 3).translate(FULLWIDTH)),
                ],
            },
            {
                "village": "乙村",
                "amount": 320.5,
                "members": [("丁", "户主", make_id("19620101", 5))],
            },
        ],
        title_rows=2,
    )
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "xls:MS Excel 97",
            "--outdir",
            str(tmp_path),
            str(tmp_path / "old.xlsx"),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    report = analyse(store, tmp_path / "old.xls", today=today).report()
    assert (report["households"], report["members"]) == (2, 4)
    assert counts(report) == Counter({"id_precision_lost": 1})
    assert report["monthly_total_fen"] == 50000 + 32050


# -- re-import when the ID column cannot be trusted (no household twice, no double payment) --
def _excel_number(number: str) -> float:
    """What Excel keeps of an ID typed as a number: 15 significant digits."""
    return float(number[:15] + "000")


def _three(id_cell=lambda n: n, account=None):
    hh = []
    for i in range(3):
        head, spouse = make_id("19700101", 2 * i + 1), make_id("19710101", 2 * i + 2)
        hh.append(
            {
                "village": "红旗村",
                "amount": 500,
                "members": [
                    (f"户主{i}", "户主", id_cell(head)),
                    (f"配偶{i}", "配偶", id_cell(spouse)),
                ],
            }
        )
    return hh


def _paid(store) -> tuple:
    return (
        store.scalar("SELECT count(*) FROM households WHERE status = 'active'"),
        store.scalar("SELECT count(*) FROM members WHERE status = 'active'"),
        store.scalar("SELECT count(*) FROM enrolments WHERE status = 'active'"),
        store.scalar("SELECT sum(monthly_fen) FROM enrolments WHERE status = 'active'"),
    )


@pytest.mark.parametrize(
    "first, second",
    [
        ("text", "number"),
        ("number", "number"),
        ("number", "text"),
        ("text", "checksum"),
    ],
)
def test_reimport_with_untrusted_ids_matches_the_same_households(
    store, today, tmp_path, first, second
):
    cells = {"text": lambda n: n, "number": _excel_number, "checksum": bad_check}
    for k, kind in enumerate((first, second)):
        member_per_row(tmp_path / f"{k}.xlsx", _three(cells[kind]))
    report = import_roster(store, tmp_path / "0.xlsx", today=today)
    assert report["created"] == 3
    again = import_roster(store, tmp_path / "1.xlsx", today=today)
    assert again["created"] == 0 and again["unchanged"] + again["updated"] == 3
    assert _paid(store) == (3, 6, 3, 3 * 50000)


def test_ids_cut_by_excel_in_the_database_match_the_corrected_file(store, today, tmp_path):
    """First import: number cells (stored 待核实 as 341623197001014000); the corrected
    file has the full IDs, whose last three digits all differ from the zeros."""
    head, spouse = make_id("19700101", 456), make_id("19710101", 789)
    for name, cell in (("0", _excel_number), ("1", lambda n: n)):
        member_per_row(
            tmp_path / f"{name}.xlsx",
            [
                {
                    "village": "红旗村",
                    "amount": 500,
                    "members": [("户主", "户主", cell(head)), ("配偶", "配偶", cell(spouse))],
                }
            ],
        )
    assert import_roster(store, tmp_path / "0.xlsx", today=today)["created"] == 1
    again = import_roster(store, tmp_path / "1.xlsx", today=today)
    assert again["created"] == 0 and _paid(store) == (1, 2, 1, 50000)


def test_same_name_head_without_evidence_is_a_blocking_probable_duplicate(store, today, tmp_path):
    member_per_row(tmp_path / "a.xlsx", _three())
    import_roster(store, tmp_path / "a.xlsx", today=today)
    other = _three(lambda n: "34162319851231" + n[-4:])  # another birth date: not a typo
    member_per_row(tmp_path / "b.xlsx", other)
    report = analyse(store, tmp_path / "b.xlsx", today=today).report()
    dup = [p for p in report["problems"] if p["code"] == "probable_duplicate"]
    assert len(dup) == 3 and {p["severity"] for p in dup} == {"error"}
    assert (dup[0]["sheet"], dup[0]["row"], dup[0]["column"]) == ("农村低保", 3, "身份证号码")
    first_id = store.scalar("SELECT min(id) FROM households")
    assert f"编号{first_id}" in dup[0]["message"] and "户主0" in dup[0]["message"]
    with pytest.raises(ImportRefused):
        import_roster(store, tmp_path / "b.xlsx", today=today)
    assert _paid(store) == (3, 6, 3, 3 * 50000)


# -- the head's ID is an existing head's, the name is spelled differently -------------------
def _one(name: str, id_cell, amount=500, village="红旗村") -> list[dict]:
    return [
        {
            "village": village,
            "amount": amount,
            "members": [(name, "户主", id_cell), ("配偶甲", "配偶", make_id("19710101", 2))],
        }
    ]


def _clearing_list(store, tmp_path) -> list[tuple]:
    """The 补贴清册 rows as the payment system reads them (the xlsx file): name, ID, yuan."""
    import datetime as dt

    from openpyxl import load_workbook

    from mzdesk.roster.exporter import export_payment_roster

    out = tmp_path / "清册.xlsx"
    export_payment_roster(store, dt.date(2026, 12, 1), out, category="rural_dibao")
    rows = list(load_workbook(out).active.iter_rows(min_row=3, values_only=True))
    return [(r[3], r[4], r[9]) for r in rows[:-1]]  # without the 合计 row


def test_reimport_with_the_head_name_spelled_differently_is_the_same_household(
    store, today, tmp_path
):
    """A valid ID is the person: a variant character in the village's new roster updates the
    registered household, says so, and renames no one; the 清册 pays once."""
    head = make_id("19700101", 1)
    member_per_row(tmp_path / "a.xlsx", _one("张三丰", head))
    import_roster(store, tmp_path / "a.xlsx", today=today)
    member_per_row(tmp_path / "b.xlsx", _one("张三峰", head, amount=600))
    report = analyse(store, tmp_path / "b.xlsx", today=today).report()
    assert (report["would_create"], report["would_update"], report["errors"]) == (0, 1, 0)
    [p] = report["problems"]
    assert (p["code"], p["severity"], p["row"], p["column"], p["value"]) == (
        "head_name_differs",
        "flag",
        3,
        "户主姓名",
        "张三峰",
    )
    assert "张三丰" in p["message"] and "姓名未改" in p["message"]
    done = import_roster(store, tmp_path / "b.xlsx", today=today)
    assert (done["created"], done["updated"]) == (0, 1)
    assert _paid(store) == (1, 2, 1, 60000)
    assert store.scalar("SELECT name FROM members WHERE relation = '户主'") == "张三丰"
    assert _clearing_list(store, tmp_path) == [("张三丰", head, 600)]


@pytest.mark.parametrize(
    "registered, written",
    [
        (_excel_number, lambda n: n),  # 待核实 in the database, corrected in the file
        (lambda n: n, _excel_number),  # valid in the database, a number cell in the file
        (bad_check, lambda n: n),  # a wrong check character in the database
    ],
)
def test_head_id_that_may_match_under_another_name_refuses_the_import(
    store, today, tmp_path, registered, written
):
    head = make_id("19700101", 456)
    member_per_row(tmp_path / "a.xlsx", _one("张三丰", registered(head)))
    import_roster(store, tmp_path / "a.xlsx", today=today)
    member_per_row(tmp_path / "b.xlsx", _one("张三峰", written(head), amount=600))
    report = analyse(store, tmp_path / "b.xlsx", today=today).report()
    dup = [p for p in report["problems"] if p["code"] == "probable_duplicate"]
    assert len(dup) == 1 and dup[0]["severity"] == "error" and dup[0]["row"] == 3
    first = store.scalar("SELECT min(id) FROM households")
    assert f"编号{first}，户主张三丰" in dup[0]["message"]
    with pytest.raises(ImportRefused):
        import_roster(store, tmp_path / "b.xlsx", today=today)
    assert _paid(store) == (1, 2, 1, 50000)
    assert len(_clearing_list(store, tmp_path)) == 1


def test_head_id_of_another_village_under_another_name_refuses_the_import(store, today, tmp_path):
    """Name and village both differ: the same person moved, or a number copied from the
    wrong line; not guessed either way."""
    head = make_id("19700101", 1)
    member_per_row(tmp_path / "a.xlsx", _one("张三丰", head))
    import_roster(store, tmp_path / "a.xlsx", today=today)
    member_per_row(tmp_path / "b.xlsx", _one("李四", head, village="向阳村"))
    report = analyse(store, tmp_path / "b.xlsx", today=today).report()
    [dup] = [p for p in report["problems"] if p["code"] == "probable_duplicate"]
    assert dup["severity"] == "error" and "红旗村" in dup["message"]
    with pytest.raises(ImportRefused):
        import_roster(store, tmp_path / "b.xlsx", today=today)
    assert _paid(store) == (1, 2, 1, 50000)
    assert store.scalar("SELECT village FROM households") == "红旗村"


def test_an_amount_above_the_limit_refuses_the_import(store, today, tmp_path):
    member_per_row(
        tmp_path / "a.xlsx",
        [
            {
                "village": "红旗村",
                "amount": 1e12,
                "members": [("甲", "户主", make_id("19600101", 1))],
            }
        ],
    )
    report = analyse(store, tmp_path / "a.xlsx", today=today).report()
    bad = [p for p in report["problems"] if p["code"] == "bad_amount"]
    assert len(bad) == 1 and bad[0]["severity"] == "error" and "超过上限" in bad[0]["message"]


# -- problem labels: every code the import can report has its Chinese name ------------------
def _codes_raised(module) -> set[str]:
    """Problem codes written as literals where ``module`` makes a problem: FieldError(field,
    code, ...) and its ``bad(field, code, ...)`` helper, the importer's ``problem(row, name,
    value, code, ...)`` and ``flag(fh, i, code, ...)``, ``Problem(code=...)``, ``p.code = ...``;
    an f-string code (``f"bad_{name}"``) is expanded over the names its loop gives."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(module))
    position = {"FieldError": 1, "bad": 1, "problem": 3, "flag": 2}
    codes: set[str] = set()

    def literal(node) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            codes.add(node.value)
        elif isinstance(node, ast.Tuple):
            literal(node.elts[0])
        elif isinstance(node, ast.JoinedStr):  # only in validate_member's health/labour loop
            codes.update({"bad_health", "bad_labour_capacity"})

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in position and len(node.args) > position[name]:
                literal(node.args[position[name]])
            for kw in node.keywords:
                if kw.arg == "code" and name in ("Problem", "FieldError"):
                    literal(kw.value)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                elts = target.elts if isinstance(target, ast.Tuple) else [target]
                for i, t in enumerate(elts):
                    if isinstance(t, ast.Attribute) and t.attr == "code":
                        tup = isinstance(node.value, ast.Tuple)
                        literal(node.value.elts[i] if tup else node.value)
    return codes


def test_every_problem_code_the_import_can_report_has_a_chinese_label():
    from mzdesk.models import household as household_rules
    from mzdesk.models import ids, money
    from mzdesk.roster import import_match, import_sheet
    from mzdesk.roster.importer import FLAG_CODES, PROBLEM_LABELS, problem_label

    modules = (import_sheet, import_match, household_rules, ids, money)
    raised = set().union(*(_codes_raised(m) for m in modules))
    assert {"probable_duplicate", "formula_no_value", "id_precision_lost"} <= raised  # scan works
    assert raised | FLAG_CODES <= set(PROBLEM_LABELS), sorted(raised - set(PROBLEM_LABELS))
    assert all("\u4e00" <= label[0] <= "\u9fff" for label in PROBLEM_LABELS.values())
    assert problem_label("something_new") == "something_new"


def test_problem_list_xlsx_names_problems_in_chinese_and_keeps_the_code(store, today, tmp_path):
    from openpyxl import load_workbook

    from mzdesk.roster.exporter import export_problems

    member_per_row(tmp_path / "a.xlsx", _three())
    import_roster(store, tmp_path / "a.xlsx", today=today)
    member_per_row(tmp_path / "b.xlsx", _three(lambda n: "34162319851231" + n[-4:]))
    report = analyse(store, tmp_path / "b.xlsx", today=today).report()
    assert export_problems(report, tmp_path / "p.xlsx") == len(report["problems"])
    rows = list(load_workbook(tmp_path / "p.xlsx").active.iter_rows(values_only=True))
    named = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    dup = [r for r in named if r["问题代码"] == "probable_duplicate"]
    assert len(dup) == 3 and {r["问题"] for r in dup} == {"疑似已登记的同一户"}
    assert all(r["问题"] and "_" not in r["问题"] for r in named)
    with pytest.raises(ImportRefused, match="疑似已登记的同一户 3处"):
        apply(store, analyse(store, tmp_path / "b.xlsx", today=today))


def test_a_roster_of_the_townships_own_category_imports(store, today, tmp_path):
    """县困难群众补贴 (enrol category-add) named in the 保障类别 cells and in the sheet's
    title: read as that category, not refused as unknown_category."""
    from mzdesk.models.categories import add_local_category

    add_local_category(store, "county_aid", "县困难群众补贴", unit="household")
    member_per_row(
        tmp_path / "x.xlsx",
        [
            {"village": "甲村", "class": "", "members": [("甲", "户主", make_id("19600101", 1))]},
            {"village": "乙村", "class": "", "members": [("乙", "户主", make_id("19600101", 3))]},
        ],
        sheet="县困难群众补贴",
    )
    plan = analyse(store, tmp_path / "x.xlsx", today=today)
    assert plan.report()["problems"] == [] and plan.layouts[0].category == "county_aid"
    apply(store, plan)
    assert store.conn.execute("SELECT DISTINCT category FROM enrolments").fetchall() == [
        ("county_aid",)
    ]


def test_problem_list_xlsx_opens_with_whole_ids_and_messages_readable(store, today, tmp_path):
    """Excel's default column (8.43 characters) cut the 18-digit ID and the advice."""
    from openpyxl import load_workbook

    from mzdesk.roster.exporter import export_problems

    member_per_row(tmp_path / "a.xlsx", _three(lambda n: n[:-1] + "0"))  # wrong check digits
    report = analyse(store, tmp_path / "a.xlsx", today=today).report()
    assert export_problems(report, tmp_path / "p.xlsx") == len(report["problems"]) > 0
    ws = load_workbook(tmp_path / "p.xlsx").active
    col = {c.value: c.column_letter for c in ws[1]}
    longest = {h: max(len(str(c.value or "")) for c in ws[col[h]]) for h in ("原值", "说明")}
    assert ws.column_dimensions[col["原值"]].width >= longest["原值"] + 2
    assert ws.column_dimensions[col["说明"]].width >= longest["说明"] * 2  # CJK: 2 wide
